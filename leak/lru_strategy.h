// addr_keyed and cookie_index share Cilium's LRU reverse maps
// (leak/bpf/leak_rev_lru.bpf.h): counting, clearing and looking up entries works
// the same for both.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>

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
    int rc;
    if (backend.family == Family::kIpv4) {
      leak_rev4_key key{};
      key.cookie = cookie;
      std::memcpy(&key.address, backend.addr.data(), 4);
      key.port = backend.port_be;
      leak_rev4_val val;
      rc = bpf_map_lookup_elem(fd4(), &key, &val);
    } else {
      leak_rev6_key key{};
      key.cookie = cookie;
      std::memcpy(key.address, backend.addr.data(), 16);
      key.port = backend.port_be;
      leak_rev6_val val;
      rc = bpf_map_lookup_elem(fd6(), &key, &val);
    }
    if (rc == 0) return true;
    if (errno == ENOENT) return false;
    return ErrnoStatus("lookup reverse entry");
  }

 protected:
  int fd4() const { return bpf_map__fd(this->skel()->maps.leak_rev4); }
  int fd6() const { return bpf_map__fd(this->skel()->maps.leak_rev6); }
};

}  // namespace sockbench
