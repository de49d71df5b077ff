// Lazy workload files (docs/lazy.md#workloads): a small cluster, the share
// of each socket kind and role, and the schedule the applications keep.
// Every list-valued field is a sweep axis. A bad file gets one error naming
// the field, as harness/workload.cc does.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lazy/approach.h"
#include "lazy/clients.h"

namespace sockbench {

struct LazyScenario {
  std::string name;  // "interval:100ms/icmp:port-unreachable/ratelimit:1000ms"
  int pods = 4;
  int sockets_per_pod = 256;
  std::array<double, 4> mix{1, 1, 1, 1};  // tcp_ipv4, tcp_ipv6, udp_ipv4, udp_ipv6
  int backends = 4;
  int targets_per_pod = 32;
  std::array<double, 3> roles{6, 2, 2};  // active, idle, receive_only
  int unconnected_senders = 2;
  int send_interval_ms = 100;
  int icmp_ratelimit_ms = -1;  // -1: the kernel's default
  int warmup_ms = 500;
  int observe_ms = 5000;
  LazyOptions opts;
};

struct LazyWorkload {
  std::string name, description, path;
  int repetitions = 1;
  std::vector<LazyScenario> scenarios;
};

absl::StatusOr<LazyWorkload> ParseLazyWorkload(const std::string& text, const std::string& source);
absl::StatusOr<LazyWorkload> LoadLazyWorkload(const std::string& path);

// The client sockets of a scenario, pod by pod: targets (backend 0) spread
// over the mix and the roles by largest remainder, the rest evenly over the
// live backends, then the unconnected senders.
std::vector<ClientSpec> LazyClients(const LazyScenario& s);

}  // namespace sockbench
