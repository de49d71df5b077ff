#include "harness/approaches/sockhash_bucket.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "harness/bpf_iter_util.h"
#include "harness/bpf_map_memory.h"
#include "harness/bpf_skeleton.h"
#include "harness/cgroup.h"
#include "harness/libbpf_log.h"
#include "harness/netns_filter.h"
#include "harness/probe_socket.h"
#include "harness/status.h"
#include "sb_constants.h"
#include "sockhash_bucket.skel.h"

namespace sockbench {

static_assert(offsetof(sb_sockhash_key, cookie) == SB_SOCKHASH_PREFIX_LEN,
              "the prefix is everything before the cookie");
static_assert(sizeof(sb_sockhash_key) == 32, "key layout shared with BPF");

namespace {

// union bpf_iter_link_info's map part as sockbench's sockmap series extends
// it (kernel/patches/sockmap, patch 0007; the distribution's uapi header
// predates it). Same size as the union, so the kernel copies all of it.
struct SockhashIterLinkInfo {
  uint32_t map_fd;
  uint32_t key_prefix_len;
  uint64_t key_prefix;
};
static_assert(sizeof(SockhashIterLinkInfo) == 16, "union bpf_iter_link_info is 16 bytes");

// Runs one pass of `prog` over the bucket of `prefix` (nullptr: whole map).
absl::Status RunSockhashPass(int prog_fd, int map_fd, const sb_sockhash_key* prefix) {
  SB_ASSIGN_OR_RETURN(UniqueFd link, AttachSockhashIter(prog_fd, map_fd, prefix,
                                                        prefix ? SB_SOCKHASH_PREFIX_LEN : 0));
  return RunIterator(link.get());
}

// The probe's real check, on a map loaded with map_extra: a UDP socket
// connected to itself goes into the map; a pass over its bucket must
// destroy it (the application sees ECONNABORTED).
absl::Status DestroyOneSocket(sockhash_bucket_bpf* skel, NetnsFilter* filter) {
  SB_ASSIGN_OR_RETURN(ProbeSocket s, ProbeSocket::Create());
  Endpoint ep = s.local;
  sb_sockhash_key key = SockhashPrefix(ep);
  key.cookie = s.cookie;
  uint64_t fd = static_cast<uint64_t>(s.fd.get());
  int map = bpf_map__fd(skel->maps.sb_sockhash);
  if (bpf_map_update_elem(map, &key, &fd, BPF_NOEXIST) < 0) return ErrnoStatus("probe: sockhash update");
  SB_RETURN_IF_ERROR(filter->Set(bpf_map__fd(skel->maps.sb_netns), {s.netns_cookie}));

  Target t;
  t.endpoints = {ep};
  t.tcp = false;
  t.udp = true;
  SB_RETURN_IF_ERROR(LoadTargetIntoBss(skel->bss, t));
  skel->bss->sb_want_tcp = 0;
  skel->bss->sb_want_udp = 1;
  SB_RETURN_IF_ERROR(RunSockhashPass(bpf_program__fd(skel->progs.destroy_bucket), map, &key));
  const sb_counters& c = skel->bss->sb_counters;
  int err = s.PendingError();
  if (c.destroyed != 1 || err != ECONNABORTED)
    return absl::FailedPreconditionError(absl::StrCat(
        "the kernel loads the programs, but a prefix pass did not destroy the socket (visited ",
        c.visited, ", destroyed ", c.destroyed, ", last error ", c.last_error, ", recv: ",
        std::strerror(err), ")"));
  return absl::OkStatus();
}

}  // namespace

sb_sockhash_key SockhashPrefix(const Endpoint& e) {
  sb_sockhash_key k;
  std::memset(&k, 0, sizeof(k));
  std::memcpy(k.addr_be, e.addr.data(), e.family == Family::kIpv4 ? 4 : 16);
  k.port_be = e.port_be;
  k.family = static_cast<uint16_t>(AfOf(e.family));
  return k;
}

absl::StatusOr<UniqueFd> AttachSockhashIter(int prog_fd, int map_fd, const void* prefix,
                                            uint32_t prefix_len) {
  SockhashIterLinkInfo info{};
  info.map_fd = static_cast<uint32_t>(map_fd);
  if (prefix) {
    info.key_prefix_len = prefix_len;
    info.key_prefix = reinterpret_cast<uintptr_t>(prefix);
  }
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.iter_info = reinterpret_cast<bpf_iter_link_info*>(&info);
  opts.iter_info_len = sizeof(info);
  int fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, &opts);
  if (fd < 0) return ErrnoStatus("sockhash iterator link (BPF_LINK_CREATE)");
  return UniqueFd(fd);
}

uint32_t SockhashMaxEntries() {
  const char* e = getenv("SOCKBENCH_SOCKHASH_MAX_ENTRIES");
  return e ? static_cast<uint32_t>(std::strtoul(e, nullptr, 0)) : SB_SOCKHASH_MAX_ENTRIES;
}

struct SockhashBucketDestroyer::State {
  BpfSkeleton<sockhash_bucket_bpf> skel;
  NetnsFilter netns;
  UniqueFd cgroup;  // where the connect-time programs are attached
  std::vector<bpf_link*> links;
  ~State() { Detach(); }
  void Detach() {
    for (bpf_link* l : links) bpf_link__destroy(l);
    links.clear();
    cgroup.reset();
  }
};

SockhashBucketDestroyer::SockhashBucketDestroyer(uint32_t max_entries) : max_entries_(max_entries) {}
SockhashBucketDestroyer::~SockhashBucketDestroyer() = default;

absl::Status SockhashBucketDestroyer::Probe() {
  if (state_) return absl::OkStatus();
  absl::StatusOr<BpfSkeleton<sockhash_bucket_bpf>> skel = LoadWithSockhash<sockhash_bucket_bpf>(max_entries_, SB_SOCKHASH_PREFIX_LEN);
  if (!skel.ok()) {
    // The verifier's verdict on the programs with a plain sockhash, so that
    // a kernel without the series answers about bpf_sock_destroy, not about
    // map_extra.
    SB_RETURN_IF_ERROR(LoadWithSockhash<sockhash_bucket_bpf>(64, 0).status());
    return skel.status();
  }
  auto state = std::unique_ptr<State>(new State{std::move(*skel), {}, {}, {}});
  SB_RETURN_IF_ERROR(DestroyOneSocket(state->skel.get(), &state->netns));
  state_ = std::move(state);
  return absl::OkStatus();
}

absl::Status SockhashBucketDestroyer::Prepare(const PrepareEnv& env) {
  SB_RETURN_IF_ERROR(Probe());
  Release();
  state_->skel->bss->sb_index = sb_index_counters{};
  SB_ASSIGN_OR_RETURN(state_->cgroup, OpenAttachCgroup(env.cgroup_fd));
  for (bpf_program* p : {state_->skel->progs.index_tcp, state_->skel->progs.index_udp4,
                         state_->skel->progs.index_udp6}) {
    ClearLibbpfLog();
    bpf_link* l = bpf_program__attach_cgroup(p, state_->cgroup.get());
    if (!l)
      return ErrnoStatus(absl::StrCat("attach ", bpf_program__section_name(p), " to the cgroup: ",
                                      LibbpfReason()));
    state_->links.push_back(l);
  }
  return absl::OkStatus();
}

void SockhashBucketDestroyer::Release() {
  if (state_) state_->Detach();
}

int SockhashBucketDestroyer::map_fd() const {
  return state_ ? bpf_map__fd(state_->skel->maps.sb_sockhash) : -1;
}

sb_index_counters SockhashBucketDestroyer::index_counters() const {
  return state_ ? state_->skel->bss->sb_index : sb_index_counters{};
}

TrackedCounts SockhashBucketDestroyer::Tracked() const {
  sb_index_counters c = index_counters();
  return {c.inserted, c.failed};
}

uint64_t SockhashBucketDestroyer::TrackingBytes() const {
  int fd = map_fd();
  return fd < 0 ? 0 : static_cast<uint64_t>(std::max<int64_t>(0, MapMemlockBytes(fd)));
}

absl::StatusOr<DestroyStats> SockhashBucketDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError("sockhash_bucket: Prepare() not called");
  auto* bss = state_->skel->bss;
  SB_RETURN_IF_ERROR(LoadTargetIntoBss(bss, target));
  bss->sb_want_tcp = target.tcp;
  bss->sb_want_udp = target.udp;
  SB_RETURN_IF_ERROR(state_->netns.Set(bpf_map__fd(state_->skel->maps.sb_netns), target.netns_cookies));
  int prog = bpf_program__fd(state_->skel->progs.destroy_bucket);
  int map = bpf_map__fd(state_->skel->maps.sb_sockhash);
  // One pass per dead endpoint, each over that endpoint's bucket alone.
  for (const Endpoint& e : target.endpoints) {
    sb_sockhash_key prefix = SockhashPrefix(e);
    SB_RETURN_IF_ERROR(RunSockhashPass(prog, map, &prefix));
  }
  return StatsFromCounters(bss->sb_counters);
}

}  // namespace sockbench
