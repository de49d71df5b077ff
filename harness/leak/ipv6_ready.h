// An IPv6 address added to lo is tentative until the kernel's DAD work has
// run: on loopback that is immediate but asynchronous (a workqueue), so a
// bind() right after the namespace was set up can fail with EADDRNOTAVAIL.
// This waits for the address the event-driven way: it listens for rtnetlink
// address notifications and retries when one arrives, with an upper bound.
#pragma once

#include "absl/status/status.h"
#include "harness/endpoint.h"

namespace sockbench {

// In the calling thread's namespace: returns once `addr` can be bound.
absl::Status WaitIpv6Usable(const Endpoint& addr);

}  // namespace sockbench
