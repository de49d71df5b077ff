// Which worker process holds which sockets. A worker holds whole namespaces
// while they fit its descriptor limit; a namespace too big for one worker is
// cut into slices of its socket groups, one worker each, which share the
// namespace's backend servers.
#pragma once

#include "absl/status/status.h"
#include "harness/fleet_plan.h"

namespace sockbench {

// Descriptors a worker keeps for itself: stdio, its control socket and what
// it inherits from sockbench (BPF objects of the prepared approaches, the
// cgroup). The rest of FleetLimits::worker_fds is for namespaces and sockets.
constexpr long kWorkerOwnFds = 256;

// Fills plan->workers and every NetnsPlan::workers, each worker within
// `worker_fds` descriptors in all.
absl::Status AssignWorkers(FleetPlan* plan, long worker_fds);

}  // namespace sockbench
