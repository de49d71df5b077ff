// Where every socket of a scenario goes: which namespace, protocol, family,
// backend, and which worker process holds it. Pure computation, so a
// scenario that cannot be built is rejected before anything is created.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "harness/workload.h"

namespace sockbench {

struct SocketGroup {
  int netns;
  Proto proto;
  Family family;
  int backend;
  long count;
  bool target;
};

struct NetnsPlan {
  std::vector<SocketGroup> groups;
  long clients = 0;
  long fds = 0;  // clients + accepted TCP peers + backend servers
  int worker = -1;
};

struct FleetPlan {
  Scenario scenario;
  std::vector<NetnsPlan> netns;
  std::vector<std::vector<int>> worker_netns;  // namespaces held by each worker
  long total_fds = 0;

  int workers() const { return static_cast<int>(worker_netns.size()); }
  int ipv6_addresses() const { return BackendAddressCount(scenario.backends); }
  // `fd_capacity`: descriptors one worker may hold for sockets.
  static absl::StatusOr<FleetPlan> Make(const Scenario& s, long fd_capacity);
};

// Split `n` into parts proportional to `weights` (largest remainder): the
// result sums to exactly `n` and is deterministic.
std::vector<long> Apportion(long n, const std::vector<double>& weights);

// Descriptors a worker may use for sockets under the current RLIMIT_NOFILE.
long WorkerFdCapacity();

}  // namespace sockbench
