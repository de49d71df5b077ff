#include "leak/strategy_registry.h"

#include "leak/strategies.h"

namespace sockbench {
namespace {

// Cilium's strategy forgets at sock_release by the destination, which is
// gone for connected UDP after an abort and never existed for unconnected
// UDP.
bool AddrKeyedLeaks(SockKind kind, bool abort) {
  return kind == SockKind::kUdpUnconnected || (kind == SockKind::kUdpConnected && abort);
}

}  // namespace

const NameRegistry<StrategyInfo>& Strategies() {
  static const NameRegistry<StrategyInfo> kStrategies("strategy", "--strategy", {
      {"addr_keyed", "Cilium's LRU reverse maps keyed {cookie, backend}", AddrKeyedLeaks,
       /*reproduces_issue=*/true, /*lru=*/true, MakeAddrKeyedStrategy},
      {"sk_storage", "reverse state in the socket's own sk_storage", nullptr,
       /*reproduces_issue=*/false, /*lru=*/false, MakeSkStorageStrategy},
      {"cookie_index", "Cilium's maps plus a cookie-keyed index for sock_release", nullptr,
       /*reproduces_issue=*/false, /*lru=*/true, MakeCookieIndexStrategy},
  });
  return kStrategies;
}

const StrategyInfo& IssueStrategy() {
  for (const StrategyInfo& s : Strategies().rows())
    if (s.reproduces_issue) return s;
  return Strategies().rows().front();
}

}  // namespace sockbench
