// addr_keyed and cookie_index share Cilium's LRU reverse maps
// (leak/bpf/leak_rev_lru.bpf.h): counting, clearing and looking up entries works
// the same for both.
#pragma once

#include <bpf/bpf.h>

#include "leak/map_util.h"
#include "leak/skeleton_strategy.h"

namespace sockbench {

template <typename Derived, typename T>
class LruStrategy : public SkeletonStrategy<Derived, T> {
 public:
  static void SizeReverseMaps(T* raw, const StrategyOptions& o) {
    bpf_map__set_max_entries(raw->maps.leak_rev4, o.reverse_entries);
    bpf_map__set_max_entries(raw->maps.leak_rev6, o.reverse_entries);
  }

  absl::StatusOr<ReverseState> State() override {
    ReverseState s;
    SB_ASSIGN_OR_RETURN(s.rev4, CountMapEntries(fd4(), sizeof(leak_rev4_key)));
    SB_ASSIGN_OR_RETURN(s.rev6, CountMapEntries(fd6(), sizeof(leak_rev6_key)));
    return s;
  }

  absl::Status Clear() override {
    SB_RETURN_IF_ERROR(DeleteAllMapEntries(fd4(), sizeof(leak_rev4_key)));
    return DeleteAllMapEntries(fd6(), sizeof(leak_rev6_key));
  }

  absl::StatusOr<bool> HasReverse(uint64_t cookie, const Endpoint& backend) override {
    return ReverseMaps{fd4(), fd6()}.Has(cookie, backend);
  }

 protected:
  int fd4() const { return bpf_map__fd(this->skel()->maps.leak_rev4); }
  int fd6() const { return bpf_map__fd(this->skel()->maps.leak_rev6); }
};

}  // namespace sockbench
