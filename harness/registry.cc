#include "harness/registry.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/approaches/iter_all_netns.h"
#include "harness/approaches/iter_per_netns.h"
#include "harness/approaches/probe_only.h"
#include "harness/approaches/sleepable_kfunc.h"
#include "harness/approaches/sockhash_bucket.h"
#include "harness/approaches/sock_diag.h"

namespace sockbench {

const std::vector<std::string>& ApproachNames() {
  static const std::vector<std::string> kNames = {"sock_diag",       "iter_per_netns",
                                                  "iter_all_netns",  "sockhash_bucket",
                                                  "sk_storage_iter", "sleepable_kfunc",
                                                  "sleepable_kfunc_rbtree"};
  return kNames;
}

std::unique_ptr<Destroyer> MakeDestroyer(const std::string& name) {
  if (name == "sock_diag") return std::make_unique<SockDiagDestroyer>();
  if (name == "iter_per_netns") return std::make_unique<IterPerNetnsDestroyer>();
  if (name == "iter_all_netns") return std::make_unique<IterAllNetnsDestroyer>();
  if (name == "sockhash_bucket") return std::make_unique<SockhashBucketDestroyer>();
  if (name == "sk_storage_iter") return MakeSkStorageIterDestroyer();
  if (name == "sleepable_kfunc") return std::make_unique<SleepableKfuncDestroyer>(SleepableIndex::kHash);
  if (name == "sleepable_kfunc_rbtree")
    return std::make_unique<SleepableKfuncDestroyer>(SleepableIndex::kRbtree);
  return nullptr;
}

absl::StatusOr<std::vector<std::string>> ParseApproachList(const std::string& list) {
  if (list.empty() || list == "all") return ApproachNames();
  std::vector<std::string> out;
  for (absl::string_view n : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::string name(n);
    if (!MakeDestroyer(name))
      return absl::InvalidArgumentError(absl::StrCat("--approach: unknown approach '", name,
                                                     "' (known: ", absl::StrJoin(ApproachNames(), ", "), ")"));
    out.push_back(name);
  }
  if (out.empty()) return absl::InvalidArgumentError("--approach: empty list");
  return out;
}

ProbeResult ProbeApproach(const std::string& name) {
  auto d = MakeDestroyer(name);
  absl::Status st = d->Probe();
  return {name, st.ok(), st.ok() ? "" : std::string(st.message())};
}

}  // namespace sockbench
