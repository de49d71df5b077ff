// The three reverse-NAT cleanup strategies of the leak study, one BPF object
// each (leak/bpf/leak_*.bpf.c), behind one interface. A strategy the kernel
// rejects fails its own Load() and never blocks the others.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "harness/destroyer.h"
#include "harness/endpoint.h"
#include "leak_types.h"

namespace sockbench {

struct StrategyOptions {
  uint32_t reverse_entries = LEAK_DEFAULT_REVERSE_ENTRIES;  // LRU map size
  uint64_t netns_cookie = 0;  // translate only in this namespace (0: any)
};

// BPF's counters (leak/bpf/leak_types.h), as of the last reset.
struct StrategyCounters {
  uint64_t forward = 0;
  uint64_t inserted = 0;
  uint64_t insert_failed = 0;
  uint64_t reverse = 0;
  uint64_t deleted = 0;
  uint64_t displaced = 0;
};

// Reverse state present in the kernel right now.
struct ReverseState {
  uint64_t rev4 = 0;     // LRU reverse map entries, IPv4
  uint64_t rev6 = 0;     // ... IPv6
  uint64_t index = 0;    // cookie_index's side map entries
  uint64_t storage = 0;  // sk_storage: storages still linked to a socket
  // sk_storage: how `storage` was counted (kernels differ in what they
  // allow, see leak/sk_storage.cc); empty for the LRU strategies.
  std::string storage_counted_by;
  uint64_t total() const { return rev4 + rev6 + index + storage; }
};

class LeakStrategy {
 public:
  virtual ~LeakStrategy() = default;
  virtual const char* name() const = 0;
  // Open, size the maps, load: the error carries the verifier's reason.
  virtual absl::Status Load(const StrategyOptions& opts) = 0;
  // Attach every cgroup/ program to the cgroup (bpf_link; gone with us).
  virtual absl::Status Attach(int cgroup_fd) = 0;
  virtual absl::Status AddService(const Endpoint& vip, Proto proto, const Endpoint& backend,
                                  uint16_t rev_nat_index) = 0;
  virtual StrategyCounters Counters() const = 0;
  virtual void ResetCounters() = 0;
  virtual absl::StatusOr<ReverseState> State() = 0;
  // Deletes all reverse state userspace can reach (LRU maps). sk_storage
  // has no userspace delete without the socket: it is a no-op there.
  virtual absl::Status Clear() = 0;
  // Does the reverse map hold an entry for this socket and backend? A
  // userspace lookup: it does not refresh the entry's LRU position.
  // Unimplemented for sk_storage (state is reachable only via the socket).
  virtual absl::StatusOr<bool> HasReverse(uint64_t cookie, const Endpoint& backend) = 0;
  // True when state vanishes only as sockets are freed, an RCU grace period
  // after their last close (sk_storage), rather than inside close().
  virtual bool freed_after_rcu() const { return false; }
  // A destruction approach that walks this strategy's own reverse map (the
  // one-map combination: sk_storage), or an error saying why there is none
  // or why this kernel refuses it. Valid while the strategy lives.
  virtual absl::StatusOr<std::unique_ptr<Destroyer>> OwnMapDestroyer() {
    return absl::UnimplementedError(absl::StrCat(name(), " has no map a destruction pass can walk"));
  }
};

// The strategies by name: leak/strategy_registry.h.

// Make + Load + Attach + the study's services (plan.h), both families and
// protocols.
absl::StatusOr<std::unique_ptr<LeakStrategy>> SetUpStrategy(const std::string& name,
                                                            const StrategyOptions& opts,
                                                            int cgroup_fd);

}  // namespace sockbench
