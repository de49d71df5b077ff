// The socket-LB maps of the leak study's programs (leak/bpf/leak_lb.bpf.h:
// the service map; leak/bpf/leak_rev_lru.bpf.h: Cilium's LRU reverse-NAT
// maps keyed by socket cookie and backend), as userspace writes and reads
// them. Shared by the leak strategies and the approaches that run Cilium's
// socket-LB state (harness/approaches/cilium_term.cc).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "leak/bpf/leak_types.h"

namespace sockbench {

// VIP:port/proto -> backend in the service map (a hash of leak_svc_key ->
// leak_backend).
absl::Status AddSocketLbService(int services_fd, const Endpoint& vip, Proto proto,
                                const Endpoint& backend, uint16_t rev_nat_index);

// The reverse-NAT key of socket `cookie` translated to `backend`.
leak_rev4_key ReverseKey4(uint64_t cookie, const Endpoint& backend);
leak_rev6_key ReverseKey6(uint64_t cookie, const Endpoint& backend);

// Cilium's reverse-NAT maps of one object, IPv4 and IPv6.
struct ReverseMaps {
  int rev4_fd = -1;
  int rev6_fd = -1;
  // Is there an entry for (cookie, backend)? A userspace lookup: it does not
  // refresh the entry's LRU position.
  absl::StatusOr<bool> Has(uint64_t cookie, const Endpoint& backend) const;
  // Deletes it (NotFound if there is none).
  absl::Status Delete(uint64_t cookie, const Endpoint& backend) const;
};

}  // namespace sockbench
