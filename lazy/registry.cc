#include "lazy/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/registry.h"

namespace sockbench {

const NameRegistry<LazyApproachInfo>& LazyApproaches() {
  static const NameRegistry<LazyApproachInfo> kRows("lazy approach", "--approach", {
      {"icmp_unreachable", "stock (nf_tables reject)",
       "UDP: the node's datapath (nft `reject` in the forward hook, one set element per dead backend) answers "
       "each datagram to a dead backend with an ICMP(v6) destination unreachable; the connected socket's next "
       "send or recv returns `ECONNREFUSED`",
       MakeIcmpUnreachable},
      {"rto_timeout", "stock (sock_ops `BPF_SOCK_OPS_RTO_CB`)",
       "TCP: a cgroup sock_ops program enables `BPF_SOCK_OPS_RTO_CB`; at a retransmission timeout of a "
       "connection to a backend in its dead map it sets `TCP_USER_TIMEOUT`, and the kernel fails the "
       "connection with `ETIMEDOUT` at the next timer",
       MakeRtoTimeout},
      {"rto_verdict", "sockbench patch (rto-timeout series)",
       "TCP: the `rto_timeout` program, loaded to decide at the timeout itself: at a retransmission timeout of a connection to a backend in its dead map it calls `bpf_set_retval(-ETIMEDOUT)`, and the kernel closes the connection with `ETIMEDOUT` at that timeout",
       MakeRtoVerdict},
      {"lazy_then_iter_per_netns", "stock (>= 6.5)",
       "`icmp_unreachable` and `rto_timeout` at the death, then after a deadline one `iter_per_netns` pass "
       "for the sockets that have not noticed (idle, receive-only)",
       MakeLazyThenIterPerNetns},
  });
  return kRows;
}

std::unique_ptr<LazyApproach> MakeLazyRow(const std::string& name) {
  if (const LazyApproachInfo* r = LazyApproaches().Find(name)) return r->make();
  if (name == "none") return MakeNoAgent();
  return MakeDestroyAtDeath(name);
}

absl::StatusOr<std::vector<std::string>> ParseLazyRowList(const std::string& list) {
  if (list.empty() || list == "all") {
    std::vector<std::string> out = {"none", "iter_per_netns"};
    for (const auto& n : LazyApproaches().names()) out.push_back(n);
    return out;
  }
  std::vector<std::string> out;
  for (absl::string_view n : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::string s(n);
    if (s != "none" && !LazyApproaches().Find(s) && !Approaches().Find(s))
      return absl::InvalidArgumentError(absl::StrCat(
          "--approach: unknown approach '", s, "' for lazy (lazy approaches: ",
          absl::StrJoin(LazyApproaches().names(), ", "), "; or none, or a destroy approach: ",
          absl::StrJoin(ApproachNames(), ", "), ")"));
    out.push_back(s);
  }
  if (out.empty()) return absl::InvalidArgumentError("--approach: empty list");
  return out;
}

LazyProbe ProbeLazyApproach(const std::string& name) {
  auto a = MakeLazyRow(name);
  if (!a) return {name, false, "unknown"};
  absl::Status st = a->Probe();
  return {name, st.ok(), st.ok() ? "" : std::string(st.message())};
}

}  // namespace sockbench
