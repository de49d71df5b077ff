#include "leak/strategy.h"

#include "absl/strings/str_cat.h"
#include "leak/plan.h"
#include "leak/strategy_registry.h"
#include "harness/status.h"

namespace sockbench {

absl::StatusOr<std::unique_ptr<LeakStrategy>> SetUpStrategy(const std::string& name,
                                                            const StrategyOptions& opts,
                                                            int cgroup_fd) {
  const StrategyInfo* info = Strategies().Find(name);
  if (!info) return absl::InvalidArgumentError(absl::StrCat("unknown strategy ", name));
  std::unique_ptr<LeakStrategy> s = info->make();
  SB_RETURN_IF_ERROR(s->Load(opts));
  for (int svc = 0; svc < kServices; ++svc)
    for (Family f : AllFamilies())
      for (Proto p : {Proto::kTcp, Proto::kUdp})
        SB_RETURN_IF_ERROR(s->AddService(VipEndpoint(svc, f), p, ServiceBackend(svc, f), RevNatIndex(svc)));
  SB_RETURN_IF_ERROR(s->Attach(cgroup_fd));
  return s;
}

}  // namespace sockbench
