#include "harness/approaches/cilium_term.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "harness/bpf_iter_util.h"
#include "harness/bpf_skeleton.h"
#include "harness/cgroup.h"
#include "harness/probe_socket.h"
#include "harness/status.h"
#include "harness/workload.h"
#include "cilium_term.skel.h"

namespace sockbench {

// The loaded object, its iterator links (v4 and v6 programs, each a tcp and
// a udp one; made once, as an agent does), and the cgroup links of
// Prepare().
struct CiliumTermDestroyer::State {
  BpfSkeleton<cilium_term_bpf> skel;
  IterLinks v4, v6;
  CgroupLinks cgroup;

  ~State() { cgroup.Detach(); }

  // Every backend a workload can have, both families and protocols, as its
  // own service (the identity translation: the fleet connects to backends).
  absl::Status AddServices() {
    const int fd = bpf_map__fd(skel->maps.leak_services);
    for (int b = 0; b < kMaxBackends; ++b)
      for (Family f : {Family::kIpv4, Family::kIpv6})
        for (Proto p : {Proto::kTcp, Proto::kUdp}) {
          const Endpoint be = BackendEndpoint(b, f);
          SB_RETURN_IF_ERROR(AddSocketLbService(fd, be, p, be, static_cast<uint16_t>(b + 1)));
        }
    return absl::OkStatus();
  }

  // One backend endpoint in every namespace of the target: the filter is
  // that endpoint (sb_endpoints[0]), the programs that endpoint's family's.
  absl::StatusOr<DestroyStats> PassFor(const Endpoint& e, const Target& target) {
    Target one = target;
    one.endpoints = {e};
    SB_RETURN_IF_ERROR(LoadTargetIntoBss(skel->bss, one));
    const IterLinks& links = e.family == Family::kIpv4 ? v4 : v6;
    SB_RETURN_IF_ERROR(InEachNetns(target.netns_fds, [&] { return links.Run(one); }));
    return StatsFromCounters(skel->bss->sb_counters);
  }

  // Cilium's agent: one run per backend (and family), each over every
  // namespace, no batching.
  absl::StatusOr<DestroyStats> Pass(const Target& target) {
    DestroyStats total;
    for (const Endpoint& e : target.endpoints) {
      SB_ASSIGN_OR_RETURN(DestroyStats s, PassFor(e, target));
      total += s;
    }
    return total;
  }

  ReverseMaps reverse() const {
    return {bpf_map__fd(skel->maps.leak_rev4), bpf_map__fd(skel->maps.leak_rev6)};
  }
};

namespace {

// The reverse-NAT state the socket-LB programs would have left for a
// socket connected to `be` (itself): only in sk_storage, or only in the
// LRU.
absl::Status StoreInStorage(CiliumTermDestroyer::State* s, int fd, const Endpoint& be) {
  leak_sk_entry e{};
  e.family = AF_INET;
  std::memcpy(e.vip, be.addr.data(), 4);
  std::memcpy(e.backend, be.addr.data(), 4);
  e.vip_port = e.backend_port = be.port_be;
  if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.leak_sk), &fd, &e, BPF_ANY) < 0)
    return ErrnoStatus("cilium_term: store the probe socket's sk_storage entry");
  return absl::OkStatus();
}

absl::Status StoreInLru(CiliumTermDestroyer::State* s, uint64_t cookie, const Endpoint& be) {
  leak_rev4_key key = ReverseKey4(cookie, be);
  leak_rev4_val val{};
  std::memcpy(&val.address, be.addr.data(), 4);
  val.port = be.port_be;
  if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.leak_rev4), &key, &val, BPF_ANY) < 0)
    return ErrnoStatus("cilium_term: store the probe socket's reverse-NAT entry");
  return absl::OkStatus();
}

// The probe's real check, once through each store: a UDP socket connected
// to itself, its entry written as the socket-LB programs would; one pass
// must destroy it, and the application must see ECONNABORTED.
absl::Status DestroyOneSocket(CiliumTermDestroyer::State* s, bool via_storage) {
  SB_ASSIGN_OR_RETURN(ProbeSocket sock, ProbeSocket::Create());
  SB_RETURN_IF_ERROR(via_storage ? StoreInStorage(s, sock.fd.get(), sock.local)
                                 : StoreInLru(s, sock.cookie, sock.local));
  SB_RETURN_IF_ERROR(LoadTargetIntoBss(s->skel->bss, Target{{sock.local}, false, true, {}, {}}));
  SB_RETURN_IF_ERROR(RunIterator(s->v4.udp_fd()));
  DestroyStats st = StatsFromCounters(s->skel->bss->sb_counters);
  int err = sock.PendingError();
  if (!via_storage) (void)s->reverse().Delete(sock.cookie, sock.local);
  if (st.destroyed != 1 || err != ECONNABORTED)
    return absl::FailedPreconditionError(absl::StrCat(
        "the kernel loads the programs, but a pass did not destroy a socket whose reverse-NAT entry is in ",
        via_storage ? "sk_storage" : "the LRU map", " (visited ", st.visited, ", destroyed ", st.destroyed,
        ", recv: ", std::strerror(err), ")"));
  return absl::OkStatus();
}

}  // namespace

CiliumTermDestroyer::CiliumTermDestroyer(bool check_state) : check_state_(check_state) {}
CiliumTermDestroyer::~CiliumTermDestroyer() = default;

const char* CiliumTermDestroyer::name() const { return check_state_ ? "cilium_term_fixed" : "cilium_term"; }

absl::Status CiliumTermDestroyer::Probe() {
  if (state_) return absl::OkStatus();
  // Open, set the rodata flag and size the service map, then load.
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<cilium_term_bpf>::Open());
  skel->rodata->ct_check_state = check_state_;
  if (bpf_map__set_max_entries(skel->maps.leak_services, 4 * kMaxBackends) < 0)
    return ErrnoStatus("cilium_term: size the service map");
  SB_RETURN_IF_ERROR(skel.Load());
  SB_ASSIGN_OR_RETURN(IterLinks v4, IterLinks::Attach(skel->progs.ct_tcp_destroy_v4, skel->progs.ct_udp_destroy_v4));
  SB_ASSIGN_OR_RETURN(IterLinks v6, IterLinks::Attach(skel->progs.ct_tcp_destroy_v6, skel->progs.ct_udp_destroy_v6));
  auto s = std::unique_ptr<State>(new State{std::move(skel), std::move(v4), std::move(v6), {}});
  SB_RETURN_IF_ERROR(s->AddServices());
  SB_RETURN_IF_ERROR(DestroyOneSocket(s.get(), /*via_storage=*/true));
  SB_RETURN_IF_ERROR(DestroyOneSocket(s.get(), /*via_storage=*/false));
  state_ = std::move(s);
  return absl::OkStatus();
}

absl::Status CiliumTermDestroyer::Prepare(const PrepareEnv& env) {
  SB_RETURN_IF_ERROR(Probe());
  SB_ASSIGN_OR_RETURN(UniqueFd cg, OpenAttachCgroup(env.cgroup_fd));
  cilium_term_bpf* k = state_->skel.get();
  state_->cgroup.Detach();
  return state_->cgroup.Attach({k->progs.leak_connect4, k->progs.leak_connect6, k->progs.leak_sendmsg4,
                                k->progs.leak_sendmsg6, k->progs.leak_sock_release},
                               cg.get(), name());
}

absl::StatusOr<DestroyStats> CiliumTermDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError(absl::StrCat(name(), ": Probe() not called"));
  return state_->Pass(target);
}

void CiliumTermDestroyer::Release() {
  if (state_) state_->cgroup.Detach();
}

ReverseMaps CiliumTermDestroyer::reverse_maps() const { return state_ ? state_->reverse() : ReverseMaps{}; }

int CiliumTermDestroyer::storage_map_fd() const {
  return state_ ? bpf_map__fd(state_->skel->maps.leak_sk) : -1;
}

std::unique_ptr<Destroyer> MakeCiliumTermDestroyer() { return std::make_unique<CiliumTermDestroyer>(false); }
std::unique_ptr<Destroyer> MakeCiliumTermFixedDestroyer() { return std::make_unique<CiliumTermDestroyer>(true); }

}  // namespace sockbench
