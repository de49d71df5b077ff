// Churn during the timed pass (workload "churn", docs/workloads.md): while
// an approach destroys the dying backend's sockets, a forked process opens
// and closes sockets to a live endpoint in every namespace of the fleet, in
// sockbench's cgroup (so that approaches that index at connect time index
// them, concurrently with the pass), and some of them send.
//
// The live endpoint is the address of the fleet's last backend, on a port
// no fleet socket uses (kChurnPort): no churned socket is ever a target.
// Each churned socket is checked before it closes and when the churn stops:
// ECONNABORTED (or, for TCP, an end of file from a peer that never closed)
// means an approach destroyed it, which the repetition reports as extra.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "harness/netns.h"
#include "harness/workload.h"
#include "nlohmann/json.hpp"

namespace sockbench {

constexpr uint16_t kChurnPort = 9000;

struct ChurnReport {
  long opened = 0;     // churned sockets connected (max_open before the pass)
  long closed = 0;     // closed by the churn itself, checked first
  long destroyed = 0;  // of those opened, found destroyed (extras)
  long sends = 0;      // datagrams / segments sent
  char first_problem[200] = {};
  nlohmann::json ToJson() const;
};

class Churn {
 public:
  // Forks the churn process and returns once its listeners are up and
  // max_open sockets are connected: the pass starts into a churning fleet.
  static absl::StatusOr<std::unique_ptr<Churn>> Start(const ChurnSpec& spec, const NetnsSet& netns,
                                                      int backends, const std::string& cgroup_path);
  ~Churn();

  // Stops the churn, checks every socket still open, and reports.
  absl::StatusOr<ChurnReport> Stop();

 private:
  Churn(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_;
  int fd_;
};

}  // namespace sockbench
