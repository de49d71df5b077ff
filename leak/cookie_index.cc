// cookie_index: Cilium's maps plus a cookie-keyed index for sock_release
// (see leak/bpf/leak_cookie_index.bpf.c).
#include "leak/lru_strategy.h"
#include "leak/strategies.h"
#include "leak_types.h"
#include "leak_cookie_index.skel.h"

namespace sockbench {

namespace {

class CookieIndexStrategy : public LruStrategy<CookieIndexStrategy, leak_cookie_index_bpf> {
 public:
  const char* name() const override { return "cookie_index"; }
  static void Size(leak_cookie_index_bpf* raw, const StrategyOptions& o) {
    SizeReverseMaps(raw, o);
    bpf_map__set_max_entries(raw->maps.leak_by_cookie, o.reverse_entries);
  }

  // The index is state too: an entry left there is a leak as well.
  absl::StatusOr<ReverseState> State() override {
    SB_ASSIGN_OR_RETURN(ReverseState s, LruStrategy::State());
    SB_ASSIGN_OR_RETURN(s.index, CountMapEntries(index_fd(), sizeof(uint64_t)));
    return s;
  }

  absl::Status Clear() override {
    SB_RETURN_IF_ERROR(LruStrategy::Clear());
    return DeleteAllMapEntries(index_fd(), sizeof(uint64_t));
  }

 private:
  int index_fd() const { return bpf_map__fd(skel()->maps.leak_by_cookie); }
};

}  // namespace

std::unique_ptr<LeakStrategy> MakeCookieIndexStrategy() {
  return std::make_unique<CookieIndexStrategy>();
}

}  // namespace sockbench
