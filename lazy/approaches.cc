#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "harness/bpf_iter_util.h"
#include "harness/bpf_skeleton.h"
#include "harness/cgroup.h"
#include "harness/netns.h"
#include "harness/registry.h"
#include "harness/status.h"
#include "lazy/approach.h"
#include "lazy/nft.h"
#include "lazy/scene.h"
#include "lazy_rto.h"
#include "lazy_rto.skel.h"

namespace sockbench {
namespace {

std::string Addr(const Endpoint& e) {
  char b[INET6_ADDRSTRLEN];
  inet_ntop(AfOf(e.family), e.addr.data(), b, sizeof(b));
  return b;
}

// icmp_unreachable: the node's datapath answers a UDP datagram to a dead
// backend with a real ICMP(v6) destination-unreachable, built by the kernel's
// own nf_reject (nft `reject`), which the pod's stack delivers to the
// connected socket (__udp4_lib_err / __udp6_lib_err).
class IcmpUnreachable : public LazyApproach {
 public:
  const char* name() const override { return "icmp_unreachable"; }

  absl::Status Probe() override {
    if (probed_) return probe_;
    probed_ = true;
    // The rules, in a scratch namespace: nf_tables and its reject
    // expressions are there, or nft says what is not.
    absl::StatusOr<UniqueFd> ns = NetnsSet::CreateOne(NetnsOptions{});
    if (!ns.ok()) return probe_ = ns.status();
    absl::StatusOr<Nft> nft = Nft::Open(ns->get());
    if (!nft.ok()) return probe_ = nft.status();
    for (IcmpKind k : {IcmpKind::kPortUnreachable, IcmpKind::kHostUnreachable, IcmpKind::kAdminProhibited}) {
      probe_ = nft->Run(IcmpRejectRules(k));
      if (!probe_.ok()) return probe_;
      probe_ = nft->Run("delete table inet sockbench_icmp\n");
      if (!probe_.ok()) return probe_;
    }
    return probe_;
  }

  absl::Status Prepare(const LazyEnv& env) override {
    SB_RETURN_IF_ERROR(Probe());
    scene_ = env.scene;
    return scene_->node_nft().Run(IcmpRejectRules(env.opts.icmp));
  }

  // The agent's action: one set element per family, one nft transaction.
  absl::Status BackendDied(const LazyEnv& env) override {
    std::string cmd;
    for (const Endpoint& e : env.dead)
      absl::StrAppend(&cmd, "add element inet sockbench_icmp ", e.family == Family::kIpv4 ? "reject4" : "reject6",
                      " { ", Addr(e), " . ", ntohs(e.port_be), " }\n");
    return env.scene->node_nft().Run(cmd);
  }

  void Release() override {
    if (scene_) (void)scene_->node_nft().Run("delete table inet sockbench_icmp\n");
    scene_ = nullptr;
  }

 private:
  bool probed_ = false;
  absl::Status probe_;
  Scene* scene_ = nullptr;
};

// rto_timeout and rto_verdict: bpf/lazy_rto.bpf.c, a cgroup sock_ops
// program; the agent writes the dead backend into its map. rto_verdict
// loads it with `verdict` set: bpf_set_retval(-ETIMEDOUT) at the RTO, which
// only a kernel with the rto-timeout series accepts (and acts on).
class RtoTimeout : public LazyApproach {
 public:
  explicit RtoTimeout(bool verdict) : verdict_(verdict) {}
  const char* name() const override { return verdict_ ? "rto_verdict" : "rto_timeout"; }

  absl::Status Probe() override {
    if (skel_) return absl::OkStatus();
    SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<lazy_rto_bpf>::Open());
    skel->rodata->verdict = verdict_;
    SB_RETURN_IF_ERROR(skel.Load());
    // Attach once to a scratch cgroup: sock_ops on cgroups is there.
    SB_ASSIGN_OR_RETURN(ScopedCgroup cg, ScopedCgroup::Create("lazy-probe"));
    bpf_link* l = bpf_program__attach_cgroup(skel->progs.lazy_rto, cg.fd());
    if (!l) return ErrnoStatus("attach sock_ops to a cgroup");
    bpf_link__destroy(l);
    skel_ = std::make_unique<BpfSkeleton<lazy_rto_bpf>>(std::move(skel));
    return absl::OkStatus();
  }

  absl::Status Prepare(const LazyEnv& env) override {
    SB_RETURN_IF_ERROR(Probe());
    (*skel_)->data->user_timeout_ms = env.opts.tcp_user_timeout_ms;
    std::memset(&(*skel_)->bss->counts, 0, sizeof((*skel_)->bss->counts));
    SB_ASSIGN_OR_RETURN(UniqueFd cg, OpenAttachCgroup(env.cgroup_fd));
    stats_fd_.reset(bpf_enable_stats(BPF_STATS_RUN_TIME));
    SB_RETURN_IF_ERROR(links_.Attach({(*skel_)->progs.lazy_rto}, cg.get(), "rto_timeout"));
    return absl::OkStatus();
  }

  // The agent's action: one map entry per family.
  absl::Status BackendDied(const LazyEnv& env) override {
    int map = bpf_map__fd((*skel_)->maps.dead);
    for (const Endpoint& e : env.dead) {
      lazy_backend k{};
      k.family = AfOf(e.family);
      k.port_be = e.port_be;
      std::memcpy(k.addr, e.addr.data(), 16);
      uint8_t v = 1;
      if (bpf_map_update_elem(map, &k, &v, BPF_ANY) < 0) return ErrnoStatus("update the dead-backend map");
    }
    return absl::OkStatus();
  }

  void Release() override {
    links_.Detach();
    if (skel_) {
      int map = bpf_map__fd((*skel_)->maps.dead);
      lazy_backend k{}, next{};
      while (bpf_map_get_next_key(map, nullptr, &next) == 0) {
        k = next;
        bpf_map_delete_elem(map, &k);
      }
    }
    stats_fd_.reset();
  }

  std::map<std::string, double> Counters() const override {
    std::map<std::string, double> c;
    if (!skel_) return c;
    const lazy_rto_counts& n = (*skel_)->bss->counts;
    c["sockops_established"] = n.established;
    c["sockops_flag_failed"] = n.flag_failed;
    c["rto_cb"] = n.rto;
    c["rto_cb_dead"] = n.rto_dead;
    c["rto_cb_expired"] = n.rto_expired;
    c["user_timeout_set"] = n.timeout_set;
    c["setsockopt_failed"] = n.setsockopt_failed;
    if (verdict_) {
      c["verdict_set"] = n.verdict_set;
      c["set_retval_failed"] = n.set_retval_failed;
    }
    if (n.first_dead_rto_ns) c["first_dead_rto_ns"] = n.first_dead_rto_ns;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd((*skel_)->progs.lazy_rto), &info, &len) == 0) {
      c["sockops_runs"] = info.run_cnt;
      if (info.run_cnt) c["sockops_ns_per_run"] = static_cast<double>(info.run_time_ns) / info.run_cnt;
    }
    return c;
  }

 private:
  const bool verdict_;
  std::unique_ptr<BpfSkeleton<lazy_rto_bpf>> skel_;
  CgroupLinks links_;
  UniqueFd stats_fd_;
};

Target DeadTarget(const LazyEnv& env) {
  Target t;
  t.endpoints = env.dead;
  t.tcp = t.udp = true;
  t.netns_fds = env.scene->PodFds();
  for (int i = 0; i < env.scene->pods(); ++i) t.netns_cookies.push_back(env.scene->pod_cookie(i));
  return t;
}

// lazy_then_iter_per_netns: both lazy approaches at the death; after
// `deadline_ms`, one iter_per_netns pass over every pod for the sockets that
// have not noticed (an idle or receive-only socket never will).
class LazyThenIter : public LazyApproach {
 public:
  LazyThenIter() : icmp_(MakeIcmpUnreachable()), rto_(MakeRtoTimeout()), iter_(MakeDestroyer("iter_per_netns")) {}
  const char* name() const override { return "lazy_then_iter_per_netns"; }
  absl::Status Probe() override {
    SB_RETURN_IF_ERROR(icmp_->Probe());
    SB_RETURN_IF_ERROR(rto_->Probe());
    return iter_->Probe();
  }
  absl::Status Prepare(const LazyEnv& env) override {
    SB_RETURN_IF_ERROR(icmp_->Prepare(env));
    SB_RETURN_IF_ERROR(rto_->Prepare(env));
    return iter_->Prepare(PrepareEnv{nullptr, env.cgroup_fd});
  }
  absl::Status BackendDied(const LazyEnv& env) override {
    SB_RETURN_IF_ERROR(icmp_->BackendDied(env));
    return rto_->BackendDied(env);
  }
  bool HasDeadline() const override { return true; }
  absl::StatusOr<DestroyStats> Deadline(const LazyEnv& env) override { return iter_->Destroy(DeadTarget(env)); }
  void Release() override {
    icmp_->Release();
    rto_->Release();
    iter_->Release();
  }
  std::map<std::string, double> Counters() const override { return rto_->Counters(); }

 private:
  std::unique_ptr<LazyApproach> icmp_, rto_;
  std::unique_ptr<Destroyer> iter_;
};

class NoAgent : public LazyApproach {
 public:
  const char* name() const override { return "none"; }
  absl::Status Probe() override { return absl::OkStatus(); }
  absl::Status Prepare(const LazyEnv&) override { return absl::OkStatus(); }
  absl::Status BackendDied(const LazyEnv&) override { return absl::OkStatus(); }
};

class DestroyAtDeath : public LazyApproach {
 public:
  explicit DestroyAtDeath(std::unique_ptr<Destroyer> d) : d_(std::move(d)) {}
  const char* name() const override { return d_->name(); }
  absl::Status Probe() override { return d_->Probe(); }
  absl::Status Prepare(const LazyEnv& env) override { return d_->Prepare(PrepareEnv{nullptr, env.cgroup_fd}); }
  absl::Status BackendDied(const LazyEnv& env) override { return d_->Destroy(DeadTarget(env)).status(); }
  void Release() override { d_->Release(); }

 private:
  std::unique_ptr<Destroyer> d_;
};

}  // namespace

const char* IcmpKindName(IcmpKind k) {
  switch (k) {
    case IcmpKind::kPortUnreachable: return "port-unreachable";
    case IcmpKind::kHostUnreachable: return "host-unreachable";
    case IcmpKind::kAdminProhibited: return "admin-prohibited";
  }
  return "?";
}

std::string IcmpRejectRules(IcmpKind kind) {
  const char* v4 = kind == IcmpKind::kPortUnreachable ? "port-unreachable"
                   : kind == IcmpKind::kHostUnreachable ? "host-unreachable"
                                                        : "admin-prohibited";
  const char* v6 = kind == IcmpKind::kPortUnreachable ? "port-unreachable"
                   : kind == IcmpKind::kHostUnreachable ? "addr-unreachable"
                                                        : "admin-prohibited";
  return absl::StrCat(
      "table inet sockbench_icmp {\n"
      "  set reject4 { type ipv4_addr . inet_service; }\n"
      "  set reject6 { type ipv6_addr . inet_service; }\n"
      "  chain forward {\n"
      "    type filter hook forward priority -10; policy accept;\n"
      "    meta l4proto udp ip daddr . udp dport @reject4 counter reject with icmp type ", v4, "\n",
      "    meta l4proto udp ip6 daddr . udp dport @reject6 counter reject with icmpv6 type ", v6, "\n",
      "  }\n"
      "}\n");
}

std::unique_ptr<LazyApproach> MakeIcmpUnreachable() { return std::make_unique<IcmpUnreachable>(); }
std::unique_ptr<LazyApproach> MakeRtoTimeout() { return std::make_unique<RtoTimeout>(false); }
std::unique_ptr<LazyApproach> MakeRtoVerdict() { return std::make_unique<RtoTimeout>(true); }
std::unique_ptr<LazyApproach> MakeLazyThenIterPerNetns() { return std::make_unique<LazyThenIter>(); }
std::unique_ptr<LazyApproach> MakeNoAgent() { return std::make_unique<NoAgent>(); }
std::unique_ptr<LazyApproach> MakeDestroyAtDeath(const std::string& destroyer) {
  auto d = MakeDestroyer(destroyer);
  if (!d) return nullptr;
  return std::make_unique<DestroyAtDeath>(std::move(d));
}

absl::Status ProbeSetRetvalFromRtoCb() { return RtoTimeout(true).Probe(); }

}  // namespace sockbench
