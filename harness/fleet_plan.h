// Where every socket of a scenario goes: which namespace, protocol, family,
// backend, and which worker process holds it. Pure computation, so a
// scenario that cannot be built is rejected before anything is created.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "harness/fleet_limits.h"
#include "harness/netns.h"
#include "harness/workload.h"

namespace sockbench {

// `count` clients of one kind to one backend. A worker builds a slice of a
// namespace's groups: the same fields with a smaller count.
struct SocketGroup {
  int netns;
  Proto proto;
  Family family;
  int backend;
  long count;
  bool target;
  // Local address the clients bind to before connect() (index into
  // ClientSourceAddress), or -1 for the kernel's choice. Only a namespace
  // with more clients of one family than one address has ports uses it.
  int source = -1;
  // UDP sockets that never connect: each sendto()s the backend once
  // (ScenarioSpec::unconnected_per_netns). Never targets.
  bool unconnected = false;
};

// A backend's server socket in a namespace: a TCP listener or a bound UDP
// socket, one descriptor.
struct BackendServer {
  Proto proto;
  Family family;
  int backend;
};

struct NetnsPlan {
  std::vector<SocketGroup> groups;
  std::vector<BackendServer> servers;
  long clients = 0;
  long fds = 0;              // clients + accepted TCP peers + backend servers
  std::vector<int> workers;  // the workers holding its sockets
  // Several workers hold its sockets: sockbench opens its servers before
  // forking them (they inherit them) and they take turns to connect TCP.
  bool shared() const { return workers.size() > 1; }
};

// What one worker process holds.
struct WorkerPlan {
  std::vector<int> netns;           // namespaces it enters, in build order
  std::vector<SocketGroup> groups;  // the clients it builds
  long clients = 0;
  // Every descriptor it holds: sockets, servers, namespace fds and its own
  // (stdio, control socket); never more than FleetLimits::worker_fds.
  long fds = 0;
};

struct FleetPlan {
  ScenarioSpec scenario;
  std::vector<NetnsPlan> netns;
  std::vector<WorkerPlan> workers;
  long socket_fds = 0;  // sockets of the whole fleet (NetnsPlan::fds summed)
  int client_source_addresses = 0;  // per family, see SocketGroup::source

  int worker_count() const { return static_cast<int>(workers.size()); }
  int ipv6_addresses() const { return BackendAddressCount(scenario.backends); }
  // What every namespace of the fleet is created with (NetnsSet::Create).
  NetnsOptions netns_options() const;
  // Lays the scenario out, splits it over workers within
  // `limits.worker_fds`, and refuses it when the fleet would not fit the
  // machine (FleetFits).
  static absl::StatusOr<FleetPlan> Make(const ScenarioSpec& s, const FleetLimits& limits);
};

// Split `n` into parts proportional to `weights` (largest remainder): the
// result sums to exactly `n` and is deterministic.
std::vector<long> Apportion(long n, const std::vector<double>& weights);

}  // namespace sockbench
