#include "harness/approaches/sk_storage_iter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bpf/sb_constants.h"
#include "bpf/sk_storage_iter.h"
#include "harness/bpf_iter_util.h"
#include "harness/bpf_map_memory.h"
#include "harness/bpf_skeleton.h"
#include "harness/cgroup.h"
#include "harness/libbpf_log.h"
#include "harness/netns_filter.h"
#include "harness/probe_socket.h"
#include "harness/status.h"
#include "harness/unique_fd.h"
#include "sockbench_target.h"
#include "sk_storage_iter.skel.h"

namespace sockbench {

static_assert(sizeof(sb_sk_backend) == 24, "storage layout shared with BPF");

// The loaded object, its iterator link over the storage map (kept from
// Probe() on: an agent creates it once), and the cgroup links Prepare()
// made.
struct SkStorageIterDestroyer::State {
  BpfSkeleton<sk_storage_iter_bpf> skel;
  bpf_link* iter = nullptr;
  CgroupLinks cgroup_links;
  NetnsFilter netns;

  explicit State(BpfSkeleton<sk_storage_iter_bpf> s) : skel(std::move(s)) {}
  ~State() {
    Detach();
    bpf_link__destroy(iter);
  }

  int map_fd() const { return bpf_map__fd(skel->maps.sb_backend_of); }

  absl::Status AttachIterator() {
    union bpf_iter_link_info info = {};
    info.map.map_fd = static_cast<__u32>(map_fd());
    DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
                        .link_info_len = sizeof(info));
    ClearLibbpfLog();
    iter = bpf_program__attach_iter(skel->progs.destroy_stored, &opts);
    if (!iter)
      return ErrnoStatus("sk_storage_iter: attach iter/bpf_sk_storage_map: " + LibbpfReason());
    return absl::OkStatus();
  }

  absl::Status Attach(int cgroup_fd) {
    cgroup_links.Detach();
    return cgroup_links.Attach({skel->progs.sb_connect4, skel->progs.sb_connect6, skel->progs.sb_sendmsg4,
                                skel->progs.sb_sendmsg6},
                               cgroup_fd, "sk_storage_iter");
  }

  void Detach() { cgroup_links.Detach(); }

  // One pass over the map, both protocols at once.
  absl::StatusOr<DestroyStats> Pass(const Target& target) {
    SB_RETURN_IF_ERROR(netns.Set(bpf_map__fd(skel->maps.sb_netns), target.netns_cookies));
    SB_RETURN_IF_ERROR(LoadTargetIntoBss(skel->bss, target));
    skel->bss->sb_want_tcp = target.tcp;
    skel->bss->sb_want_udp = target.udp;
    SB_RETURN_IF_ERROR(RunIterator(bpf_link__fd(iter)));
    return StatsFromCounters(skel->bss->sb_counters);
  }
};

namespace {

// The probe's real check: a UDP socket connected to itself, its backend
// stored the way the connect program would; one pass over the map must
// destroy it, and the application must see ECONNABORTED.
absl::Status DestroyOneSocket(SkStorageIterDestroyer::State* s) {
  SB_ASSIGN_OR_RETURN(ProbeSocket sock, ProbeSocket::Create());
  sb_sk_backend b;
  std::memset(&b, 0, sizeof(b));
  b.family = SB_AF_INET;
  b.l4proto = IPPROTO_UDP;
  b.port_be = sock.local.port_be;
  std::memcpy(b.addr_be, sock.local.addr.data(), 4);
  int fd = sock.fd.get();
  if (bpf_map_update_elem(s->map_fd(), &fd, &b, BPF_ANY) < 0)
    return ErrnoStatus("sk_storage_iter: store the probe socket's backend");
  Target t;
  t.endpoints = {sock.local};
  t.tcp = false;
  t.netns_cookies = {sock.netns_cookie};
  SB_ASSIGN_OR_RETURN(DestroyStats st, s->Pass(t));
  int err = sock.PendingError();
  if (st.destroyed != 1 || err != ECONNABORTED)
    return absl::FailedPreconditionError(absl::StrCat(
        "the kernel loads the programs, but a pass did not destroy the stored socket (visited ",
        st.visited, ", destroyed ", st.destroyed, ", recv: ", std::strerror(err), ")"));
  return absl::OkStatus();
}

}  // namespace

SkStorageIterDestroyer::SkStorageIterDestroyer() = default;
SkStorageIterDestroyer::~SkStorageIterDestroyer() = default;

absl::Status SkStorageIterDestroyer::Probe() {
  if (state_) return absl::OkStatus();
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<sk_storage_iter_bpf>::OpenAndLoad());
  auto s = std::make_unique<State>(std::move(skel));
  SB_RETURN_IF_ERROR(s->AttachIterator());
  SB_RETURN_IF_ERROR(DestroyOneSocket(s.get()));
  state_ = std::move(s);
  return absl::OkStatus();
}

absl::Status SkStorageIterDestroyer::Prepare(const PrepareEnv& env) {
  SB_RETURN_IF_ERROR(Probe());
  // The cgroup gets the connect and sendmsg programs.
  SB_ASSIGN_OR_RETURN(UniqueFd cg, OpenAttachCgroup(env.cgroup_fd));
  return state_->Attach(cg.get());
}

absl::StatusOr<DestroyStats> SkStorageIterDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError("sk_storage_iter: Prepare() not called");
  return state_->Pass(target);
}

void SkStorageIterDestroyer::Release() {
  if (state_) state_->Detach();
}

TrackedCounts SkStorageIterDestroyer::Tracked() const {
  TrackedCounts c;
  if (!state_) return c;
  c.recorded = __atomic_load_n(&state_->skel->bss->sb_storage.stored, __ATOMIC_RELAXED);
  c.failed = __atomic_load_n(&state_->skel->bss->sb_storage.failed, __ATOMIC_RELAXED);
  return c;
}

uint64_t SkStorageIterDestroyer::TrackingBytes() const {
  if (!state_) return 0;
  return static_cast<uint64_t>(std::max<int64_t>(0, MapMemlockBytes(state_->map_fd())));
}

std::unique_ptr<Destroyer> MakeSkStorageIterDestroyer() {
  return std::make_unique<SkStorageIterDestroyer>();
}

}  // namespace sockbench
