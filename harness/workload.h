// Workload files (schema: docs/workloads.md). Everything is validated before
// anything is created: a bad file yields one error naming the field.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sockbench {

// The most backends a workload may have per namespace.
constexpr int kMaxBackends = 1000;

// Weights of the four socket kinds, in ComboIndex order.
constexpr int kCombos = 4;  // tcp_ipv4, tcp_ipv6, udp_ipv4, udp_ipv6
const char* ComboName(int combo);

// Sockets opened and closed while each timed pass runs (harness/churn.h):
// the world a production agent destroys in. Off when opens_per_second is 0.
struct ChurnSpec {
  int opens_per_second = 0;  // new sockets per second, round robin over namespaces and kinds
  int max_open = 64;         // churned sockets open at once; the oldest closes first
  double sending_share = 0;  // of the open churned sockets, the share sending every tick
  bool on() const { return opens_per_second > 0; }
};

// One scenario as the workload states it (harness/scenario.h builds it).
struct ScenarioSpec {
  std::string workload;       // workload name
  int namespaces = 1;
  long sockets = 1;           // client sockets in the whole fleet
  int targets_per_netns = 1;  // sockets to the dying backend per target netns
  int target_namespaces = 1;  // namespaces that hold targets
  int backends = 4;           // per namespace; backend 0 dies
  std::array<double, kCombos> mix{1, 1, 1, 1};
  // Unconnected UDP sockets in each target namespace that sendto() the
  // dying backend once and never connect (a DNS client's shape): not
  // targets, not among `sockets`; every approach must leave them alone
  // (cilium#48564).
  int unconnected_per_netns = 0;
  ChurnSpec churn;

  long targets() const { return static_cast<long>(targets_per_netns) * target_namespaces; }
  long unconnected() const { return static_cast<long>(unconnected_per_netns) * target_namespaces; }
  // Stable, human- and dashboard-readable: "netns:256/sockets:65536/targets:4x64".
  std::string Label() const;
};

struct Workload {
  std::string name;
  std::string description;
  std::string path;
  int repetitions = 5;
  std::vector<ScenarioSpec> scenarios;  // the sweep, expanded
};

absl::StatusOr<Workload> ParseWorkload(const std::string& json_text,
                                       const std::string& source_name);
absl::StatusOr<Workload> LoadWorkload(const std::string& path);

}  // namespace sockbench
