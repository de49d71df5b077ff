// Whether a planned fleet fits this machine: memory and open files are
// estimated from the plan, before anything is created.
#pragma once

#include "absl/status/status.h"
#include "harness/fleet_limits.h"
#include "harness/fleet_plan.h"

namespace sockbench {

struct FleetCost {
  long tcp_sockets = 0;    // clients, accepted peers, listeners
  long udp_sockets = 0;    // clients, bound backend sockets
  long memory_bytes = 0;   // kernel sockets, namespaces, worker processes
  long system_files = 0;   // open files of the fleet, all processes
  long sockbench_fds = 0;  // descriptors sockbench itself holds while building
};

FleetCost EstimateCost(const FleetPlan& plan);

// InvalidArgument naming the limit, the estimate and the limit's value when
// the fleet would not fit.
absl::Status FleetFits(const FleetPlan& plan, const FleetLimits& limits);

}  // namespace sockbench
