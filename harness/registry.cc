#include "harness/registry.h"

#include "harness/approaches/cilium_term.h"
#include "harness/approaches/iter_all_netns.h"
#include "harness/approaches/iter_per_netns.h"
#include "harness/approaches/sk_storage_iter.h"
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
      {"cilium_term", "stock (>= 6.5)",
       "Cilium's own matching (`bpf_sock_term.c` as released) over its socket-LB state (the leak "
       "study's connect/sendmsg programs): `iter/tcp` + `iter/udp` per namespace and backend family, "
       "an address gate for connected sockets only, then the socket's reverse-NAT entry in sk_storage "
       "or the LRU map by cookie; destroys unconnected UDP sockets that sent to the backend "
       "(cilium#48564)",
       MakeCiliumTermDestroyer,
       "cilium#48564: destroys unconnected UDP sockets that sent to the dying backend"},
      {"cilium_term_fixed", "stock (>= 6.5)",
       "`cilium_term` with the `sk_state` check of cilium#48725: a socket in `TCP_CLOSE` (unconnected "
       "UDP) is no connection and stays",
       MakeCiliumTermFixedDestroyer},
      {"iter_all_netns", "sockbench patch",
       "one pass of new `tcp_all_netns`/`udp_all_netns` iterators over every namespace",
       MakeIterAllNetnsDestroyer},
      {"sockhash_bucket", "sockbench patch (RFC)",
       "sockets in a `SOCKHASH` bucketed by backend; iterate one bucket and destroy",
       [] { return std::make_unique<SockhashBucketDestroyer>(SockhashMaxEntries()); }},
      {"sk_storage_iter", "sockbench patch",
       "cgroup connect/sendmsg programs keep each socket's backend in sk_storage (as Cilium's "
       "reverse NAT does); one `bpf_sk_storage_map` iterator pass, holding each socket's lock, "
       "destroys those still connected to the dying backend",
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
