// The body of a worker process: holds the sockets of its share of the fleet
// (FleetPlan::workers[index]), and builds, re-creates and checks them on
// command.
#pragma once

#include "harness/backend_server.h"
#include "harness/fleet_plan.h"
#include "harness/fleet_shared_memory.h"
#include "harness/netns.h"

namespace sockbench {

// Never returns. `inherited` holds the servers of a shared namespace that
// sockbench opened before the fork (the worker takes them over); `shared`
// is memory shared with sockbench and the other workers.
[[noreturn]] void WorkerMain(const FleetPlan& plan, int index, const NetnsSet& netns,
                             BackendServers* inherited, FleetSharedMemory* shared,
                             int control_fd);

}  // namespace sockbench
