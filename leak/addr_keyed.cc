// addr_keyed: Cilium today (see leak/bpf/leak_addr_keyed.bpf.c).
#include "leak/lru_strategy.h"
#include "leak/strategies.h"
#include "leak_types.h"
#include "leak_addr_keyed.skel.h"

namespace sockbench {

namespace {

class AddrKeyedStrategy : public LruStrategy<AddrKeyedStrategy, leak_addr_keyed_bpf> {
 public:
  const char* name() const override { return "addr_keyed"; }
  static void Size(leak_addr_keyed_bpf* raw, const StrategyOptions& o) { SizeReverseMaps(raw, o); }
};

}  // namespace

std::unique_ptr<LeakStrategy> MakeAddrKeyedStrategy() { return std::make_unique<AddrKeyedStrategy>(); }

}  // namespace sockbench
