// One scenario of a workload, built and run: the path of one run reads top
// to bottom here.
//
//   Build():  namespaces -> Prepare() of each approach (an approach that
//             indexes sockets at connect time must see them created) ->
//             the fleet's worker-held sockets.
//   RunRepetition(approach): re-create the targets and the unconnected
//             senders (untimed; not before the
//             first repetition, the fleet is fresh) -> time Destroy(target)
//             -> verify every socket of the fleet (untimed). With the
//             workload's churn, a churn process (harness/churn.h) runs
//             from before the timed call to after it, and the sockets it
//             opened are checked too.
//   ~Scenario(): the fleet goes (workers killed, sockets closed), then each
//             prepared approach is Release()d, then the namespaces go.
//
// The target is the plan's: FleetPlan marks the socket groups that connect
// to the dying backend, and the agent is told their endpoints and
// protocols, in every namespace of the fleet (it manages them all; the
// verification proves that the other namespaces' sockets survive).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/churn.h"
#include "harness/destroyer.h"
#include "harness/fleet.h"
#include "harness/fleet_plan.h"
#include "harness/netns.h"

namespace sockbench {

// How one repetition of one approach ended. Only kOk is a timing.
enum class Outcome {
  kOk,
  kUnsupported,     // the probe failed: the kernel lacks the approach
  kPrepareFailed,   // supported, but Prepare() failed for this scenario
  kRecreateFailed,  // the fleet could not re-create its targets
  kDestroyFailed,   // Destroy() returned an error
  kVerifyError,     // verification could not run
  kVerifyFailed,    // a target missed, or a socket destroyed that was not one
};

struct Repetition {
  Outcome outcome = Outcome::kOk;
  double seconds = 0;   // the timed Destroy(); 0 when it did not run
  DestroyStats stats;   // what the approach reported of its pass
  VerifyResult verify;  // what the fleet saw afterwards
  std::optional<ChurnReport> churn;  // the workload's churn during the pass
  std::string error;    // what went wrong, as the result file reports it
  bool ok() const { return outcome == Outcome::kOk; }
  // Ran Destroy() and verified (its counters mean something).
  bool verified() const { return outcome == Outcome::kOk || outcome == Outcome::kVerifyFailed; }
};

// Did `r` fail verification only because unconnected UDP senders were
// destroyed (cilium#48564): every one of the `targets` destroyed, none
// missed, every extra a sender?
bool OnlyUnconnectedSendersHit(const Repetition& r, long targets);

// A repetition of an approach the probe refused (`reason`: the kernel's).
Repetition UnsupportedRepetition(const absl::Status& reason);

// Where the fleet's workers run: a cgroup of sockbench's own (cgroup BPF
// programs attach to its fd), or, with an empty path, sockbench's cgroup.
struct ScenarioEnv {
  std::string cgroup_path;
  int cgroup_fd = -1;
};

// The plan's target, in `netns`.
Target PlanTarget(const FleetPlan& plan, const NetnsSet& netns);

class Scenario {
 public:
  // Builds the scenario, preparing `approaches` between the namespaces and
  // the fleet. A failed Prepare() is recorded (RunRepetition reports it),
  // never fatal; a namespace or fleet that cannot be built is.
  static absl::StatusOr<std::unique_ptr<Scenario>> Build(const FleetPlan& plan,
                                                         const ScenarioEnv& env,
                                                         const std::vector<Destroyer*>& approaches = {});
  ~Scenario();

  // Prepares an approach after Build() (it will not see the sockets being
  // created); released with the scenario.
  absl::Status Prepare(Destroyer& d);
  // Why `d` cannot run here (never prepared, or Prepare() failed), as the
  // repetition that reports it; nullopt when it can.
  std::optional<Repetition> CannotRun(Destroyer& d) const;
  Repetition RunRepetition(Destroyer& d);
  // Releases `d` now instead of with the scenario (a caller whose
  // destroyer does not outlive the scenario).
  void Release(Destroyer& d);

  const FleetPlan& plan() const { return plan_; }
  const NetnsSet& netns() const { return netns_; }
  Fleet& fleet() { return *fleet_; }
  const Target& target() const { return target_; }
  double setup_seconds() const { return setup_seconds_; }
  // The kernel's socket memory before the namespaces and after the fleet
  // (SocketMemory()).
  const std::map<std::string, long>& memory_before() const { return memory_before_; }
  const std::map<std::string, long>& memory_after() const { return memory_after_; }

 private:
  Scenario(const FleetPlan& plan, NetnsSet netns) : plan_(plan), netns_(std::move(netns)) {}
  absl::Status BuildFleet(const ScenarioEnv& env);

  FleetPlan plan_;
  NetnsSet netns_;
  int cgroup_fd_ = -1;
  std::string cgroup_path_;
  std::map<Destroyer*, absl::Status> prepared_;
  std::unique_ptr<Fleet> fleet_;
  Target target_;
  bool targets_fresh_ = true;  // the fleet was just built: nothing to re-create
  double setup_seconds_ = 0;
  std::map<std::string, long> memory_before_, memory_after_;
};

}  // namespace sockbench
