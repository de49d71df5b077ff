#include "harness/registry.h"

#include "harness/approaches/iter_all_netns.h"
#include "harness/approaches/iter_per_netns.h"
#include "harness/approaches/probe_only.h"
#include "harness/approaches/sleepable_kfunc.h"
#include "harness/approaches/sock_diag.h"
#include "harness/approaches/sockhash_bucket.h"

namespace sockbench {

const NameRegistry<ApproachInfo>& Approaches() {
  static const NameRegistry<ApproachInfo> kApproaches("approach", "--approach", {
      {"sock_diag", "stock",
       "netlink `SOCK_DESTROY` after a filtered inet_diag dump, per namespace",
       [] { return std::make_unique<SockDiagDestroyer>(); }},
      {"iter_per_netns", "stock (>= 6.5)",
       "`iter/tcp` + `iter/udp` calling `bpf_sock_destroy`, one pass per namespace (Cilium today)",
       MakeIterPerNetnsDestroyer},
      {"iter_all_netns", "sockbench patch",
       "one pass of new `tcp_all_netns`/`udp_all_netns` iterators over every namespace",
       MakeIterAllNetnsDestroyer},
      {"sockhash_bucket", "sockbench patch (RFC)",
       "sockets in a `SOCKHASH` bucketed by backend; iterate one bucket and destroy",
       [] { return std::make_unique<SockhashBucketDestroyer>(SockhashMaxEntries()); }},
      {"sk_storage_iter", "proposed",
       "`bpf_sk_storage_map` iterator that holds the socket lock",
       MakeSkStorageIterDestroyer},
      {"sleepable_kfunc", "sockbench patch (maintainers' direction)",
       "fexit on connect indexes sockets in a hash of per-backend slots; a sleepable "
       "`SEC(\"syscall\")` program looks each one up and destroys it with "
       "`bpf_sock_destroy_might_sleep()`",
       [] { return std::make_unique<SleepableKfuncDestroyer>(SleepableIndex::kHash); }},
      {"sleepable_kfunc_rbtree", "sockbench patch (maintainers' direction)",
       "the same with a `bpf_rb_root` index ordered by backend",
       [] { return std::make_unique<SleepableKfuncDestroyer>(SleepableIndex::kRbtree); }},
  });
  return kApproaches;
}

const std::vector<std::string>& ApproachNames() { return Approaches().names(); }

std::unique_ptr<Destroyer> MakeDestroyer(const std::string& name) {
  const ApproachInfo* a = Approaches().Find(name);
  return a ? a->make() : nullptr;
}

absl::StatusOr<std::vector<std::string>> ParseApproachList(const std::string& list) {
  return Approaches().ParseList(list);
}

ProbeResult ProbeApproach(const std::string& name) {
  auto d = MakeDestroyer(name);
  absl::Status st = d->Probe();
  return {name, st.ok(), st.ok() ? "" : std::string(st.message())};
}

}  // namespace sockbench
