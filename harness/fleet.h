// A scenario's sockets, held by long-lived worker processes (forked, never
// exec'd: an exec costs ~60 ms under TCG). Non-target sockets live for the
// whole scenario; targets and the unconnected senders are re-created before
// every repetition.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "harness/fleet_plan.h"
#include "harness/fleet_shared_memory.h"
#include "harness/netns.h"
#include "harness/progress.h"
#include "harness/fleet_protocol.h"

namespace sockbench {

struct VerifyResult {
  VerifyCounts counts;
  std::string first_problem;  // empty when every socket was as expected
  bool ok(long expected_targets) const {
    return counts.missed == 0 && counts.extra == 0 && counts.targets == expected_targets &&
           counts.destroyed == expected_targets;
  }
};

class Fleet {
 public:
  // `cgroup_path` may be empty (workers stay in sockbench's cgroup).
  static absl::StatusOr<std::unique_ptr<Fleet>> Build(const FleetPlan& plan,
                                                      const NetnsSet& netns,
                                                      const std::string& cgroup_path,
                                                      const ProgressFn& progress = nullptr);
  ~Fleet();

  absl::Status RecreateTargets();
  absl::StatusOr<VerifyResult> Verify();

  const FleetPlan& plan() const { return plan_; }
  // In worker order; -1 for a worker that died and was reaped.
  const std::vector<pid_t>& worker_pids() const { return pids_; }

 private:
  explicit Fleet(const FleetPlan& plan) : plan_(plan) {}
  absl::StatusOr<std::vector<WorkerReply>> Command(WorkerCmd cmd,
                                                   const ProgressFn& progress = nullptr,
                                                   long total = 0);
  void Stop();
  // Reaps worker `w` whose control socket failed; says what became of it.
  std::string Reap(size_t w, int send_errno);

  FleetPlan plan_;
  std::vector<pid_t> pids_;
  std::vector<int> control_;  // parallel to pids_
  absl::Status broken_;        // set once a worker is lost; every later command fails with it
  std::unique_ptr<FleetSharedMemory> shared_;  // progress counters, netns locks
};

}  // namespace sockbench
