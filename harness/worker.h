// The body of a worker process: holds the sockets of its namespaces, and
// builds, re-creates and checks them on command.
#pragma once

#include <atomic>

#include "harness/fleet_plan.h"
#include "harness/netns.h"

namespace sockbench {

// Never returns. `progress` points into memory shared with the parent.
[[noreturn]] void WorkerMain(const FleetPlan& plan, int index, const NetnsSet& netns,
                             int control_fd, std::atomic<long>* progress);

}  // namespace sockbench
