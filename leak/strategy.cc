#include "leak/strategy.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "leak/plan.h"
#include "leak/strategies.h"
#include "harness/status.h"

namespace sockbench {

const std::vector<std::string>& LeakStrategyNames() {
  static const std::vector<std::string> kNames = {"addr_keyed", "sk_storage", "cookie_index"};
  return kNames;
}

std::unique_ptr<LeakStrategy> MakeLeakStrategy(const std::string& name) {
  if (name == "addr_keyed") return MakeAddrKeyedStrategy();
  if (name == "sk_storage") return MakeSkStorageStrategy();
  if (name == "cookie_index") return MakeCookieIndexStrategy();
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> ParseStrategyList(const std::string& list) {
  if (list.empty() || list == "all") return LeakStrategyNames();
  std::vector<std::string> out;
  for (absl::string_view n : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::string name(n);
    if (!MakeLeakStrategy(name))
      return absl::InvalidArgumentError(absl::StrCat("--strategy: unknown strategy '", name, "' (known: ",
                                                     absl::StrJoin(LeakStrategyNames(), ", "), ")"));
    out.push_back(name);
  }
  if (out.empty()) return absl::InvalidArgumentError("--strategy: empty list");
  return out;
}

absl::StatusOr<std::unique_ptr<LeakStrategy>> SetUpStrategy(const std::string& name,
                                                            const StrategyOptions& opts,
                                                            int cgroup_fd) {
  std::unique_ptr<LeakStrategy> s = MakeLeakStrategy(name);
  if (!s) return absl::InvalidArgumentError(absl::StrCat("unknown strategy ", name));
  SB_RETURN_IF_ERROR(s->Load(opts));
  for (int svc = 0; svc < kServices; ++svc)
    for (Family f : AllFamilies())
      for (Proto p : {Proto::kTcp, Proto::kUdp})
        SB_RETURN_IF_ERROR(s->AddService(VipEndpoint(svc, f), p, ServiceBackend(svc, f), RevNatIndex(svc)));
  SB_RETURN_IF_ERROR(s->Attach(cgroup_fd));
  return s;
}

}  // namespace sockbench
