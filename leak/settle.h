// Waiting for sockets to be freed without sleeping. A closed socket's
// sk_storage goes only when the socket is destructed, which UDP defers by an
// RCU grace period (SOCK_RCU_FREE) and TCP may defer until its last skb is
// freed. Each round asks the kernel for a grace period
// (membarrier(MEMBARRIER_CMD_GLOBAL) is synchronize_rcu()), yields so RCU
// callbacks run, and counts again.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"

namespace sockbench {

struct Settled {
  uint64_t count = 0;  // the last count
  int rounds = 0;      // grace periods waited
};

// Stops as soon as `count()` <= `target`, or after `max_rounds` rounds: the
// caller reports what is left then (a real leak, or a kernel that keeps
// sockets longer than the bound).
absl::StatusOr<Settled> SettleCount(const std::function<absl::StatusOr<uint64_t>()>& count,
                                    uint64_t target, int max_rounds = 500);

}  // namespace sockbench
