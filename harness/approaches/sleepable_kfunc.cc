#include "harness/approaches/sleepable_kfunc.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bpf/sb_constants.h"
#include "bpf/sleepable_kfunc.h"
#include "harness/bpf_iter_util.h"
#include "harness/bpf_map_memory.h"
#include "harness/bpf_skeleton.h"
#include "harness/cgroup.h"
#include "harness/libbpf_log.h"
#include "harness/netns.h"
#include "harness/netns_filter.h"
#include "harness/probe_socket.h"
#include "harness/status.h"
#include "harness/unique_fd.h"
#include "sockbench_target.h"
#include "sleepable_kfunc.skel.h"
#include "sleepable_kfunc_rbtree.skel.h"

namespace sockbench {

static_assert(sizeof(sb_backend_key) == 24, "key layout shared with BPF");
static_assert(sizeof(sb_sk_entry) == 64, "entry layout shared with BPF");
static_assert(sizeof(sb_destroy_args) == sizeof(sb_backend_key), "test_run context");

namespace {

// The map a variant's index lives in, for its memory (fdinfo "memlock").
bpf_map* IndexMap(sleepable_kfunc_bpf* s) { return s->maps.sb_slots; }
bpf_map* IndexMap(sleepable_kfunc_rbtree_bpf* s) { return s->maps.sb_tree_map; }

sb_backend_key BackendKey(const Endpoint& e, int l4proto) {
  sb_backend_key k;
  std::memset(&k, 0, sizeof(k));
  k.family = static_cast<__u16>(AfOf(e.family));
  k.l4proto = static_cast<__u8>(l4proto);
  k.port_be = e.port_be;
  std::memcpy(k.addr_be, e.addr.data(), e.family == Family::kIpv4 ? 4 : 16);
  return k;
}

}  // namespace

// What Probe() loaded, and the links Attach() made (Detach() and the
// destructor undo them).
struct SleepableKfuncDestroyer::State {
  virtual ~State() = default;
  // The connect programs; with cgroup_fd >= 0, scoped to that cgroup, and
  // the release program attached to it.
  virtual absl::Status Attach(int cgroup_fd) = 0;
  virtual void Detach() = 0;
  virtual absl::Status RunPass(const sb_destroy_args& args) = 0;
  virtual void ResetCounters() = 0;
  virtual DestroyStats Stats() const = 0;
  virtual SleepableIndexStats Index() const = 0;
  virtual int netns_map_fd() const = 0;
  virtual uint64_t MapBytes() const = 0;
  NetnsFilter netns;
};

namespace {

template <typename Skel>
class VariantState : public SleepableKfuncDestroyer::State {
 public:
  explicit VariantState(BpfSkeleton<Skel> skel) : skel_(std::move(skel)) {}
  ~VariantState() override { Detach(); }

  absl::Status Attach(int cgroup_fd) override {
    Detach();
    skel_->bss->sb_scope_cgroup = cgroup_fd >= 0;
    if (cgroup_fd >= 0) {
      uint32_t zero = 0;
      uint32_t fd = static_cast<uint32_t>(cgroup_fd);
      if (bpf_map_update_elem(bpf_map__fd(skel_->maps.sb_cgroup), &zero, &fd, BPF_ANY) < 0)
        return ErrnoStatus("sleepable_kfunc: cgroup scope map");
    }
    for (bpf_program* p : {skel_->progs.sb_tcp4_connect, skel_->progs.sb_tcp6_connect,
                           skel_->progs.sb_udp4_connect, skel_->progs.sb_udp6_connect}) {
      SB_RETURN_IF_ERROR(Link(p, bpf_program__attach(p)));
    }
    if (cgroup_fd >= 0) {
      bpf_program* p = skel_->progs.sb_sock_release;
      SB_RETURN_IF_ERROR(Link(p, bpf_program__attach_cgroup(p, cgroup_fd)));
    }
    return absl::OkStatus();
  }

  void Detach() override {
    for (bpf_link* l : links_) bpf_link__destroy(l);
    links_.clear();
  }

  absl::Status RunPass(const sb_destroy_args& args) override {
    sb_destroy_args in = args;
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.ctx_in = &in;
    opts.ctx_size_in = sizeof(in);
    if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.sb_destroy_backend), &opts) < 0)
      return ErrnoStatus("sleepable_kfunc: BPF_PROG_TEST_RUN");
    if (opts.retval != 0)
      return absl::InternalError(absl::StrCat("sleepable_kfunc: the pass returned ", opts.retval));
    return absl::OkStatus();
  }

  void ResetCounters() override {
    std::memset(&skel_->bss->sb_counters, 0, sizeof(skel_->bss->sb_counters));
    std::memset(&skel_->bss->sb_walk, 0, sizeof(skel_->bss->sb_walk));
  }

  DestroyStats Stats() const override { return StatsFromCounters(skel_->bss->sb_counters); }

  SleepableIndexStats Index() const override {
    const sb_index_counters& c = skel_->bss->sb_index;
    SleepableIndexStats s;
    s.inserted = c.inserted;
    s.removed = c.removed;
    s.popped = c.popped;
    s.replaced = c.replaced;
    s.failed = c.failed;
    s.last_error = c.last_error;
    return s;
  }

  int netns_map_fd() const override { return bpf_map__fd(skel_->maps.sb_netns); }

  uint64_t MapBytes() const override {
    uint64_t bytes = 0;
    for (bpf_map* m : {IndexMap(skel_.get()), skel_->maps.sb_sock_ref})
      bytes += static_cast<uint64_t>(std::max<int64_t>(0, MapMemlockBytes(bpf_map__fd(m))));
    return bytes;
  }

 private:
  absl::Status Link(bpf_program* p, bpf_link* l) {
    if (!l)
      return ErrnoStatus(absl::StrCat("attach ", bpf_program__section_name(p), ": ", LibbpfReason()));
    links_.push_back(l);
    return absl::OkStatus();
  }

  BpfSkeleton<Skel> skel_;
  std::vector<bpf_link*> links_;
};

template <typename Skel>
absl::StatusOr<std::unique_ptr<SleepableKfuncDestroyer::State>> Load() {
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<Skel>::OpenAndLoad());
  return std::unique_ptr<SleepableKfuncDestroyer::State>(new VariantState<Skel>(std::move(skel)));
}

absl::StatusOr<std::unique_ptr<SleepableKfuncDestroyer::State>> LoadVariant(SleepableIndex index) {
  if (index == SleepableIndex::kHash) return Load<sleepable_kfunc_bpf>();
  return Load<sleepable_kfunc_rbtree_bpf>();
}

absl::StatusOr<DestroyStats> RunTarget(SleepableKfuncDestroyer::State* s, const Target& target) {
  SB_RETURN_IF_ERROR(s->netns.Set(s->netns_map_fd(), target.netns_cookies));
  s->ResetCounters();
  // One BPF_PROG_TEST_RUN per dying backend (and protocol: the index keys
  // TCP and UDP services apart).
  for (const Endpoint& e : target.endpoints) {
    if (target.tcp) SB_RETURN_IF_ERROR(s->RunPass({BackendKey(e, IPPROTO_TCP)}));
    if (target.udp) SB_RETURN_IF_ERROR(s->RunPass({BackendKey(e, IPPROTO_UDP)}));
  }
  return s->Stats();
}

// The probe's real check: a UDP socket connected to itself is indexed by
// the fexit program; a pass over its backend must destroy it, and the
// application must see ECONNABORTED.
absl::Status DestroyOneSocket(SleepableKfuncDestroyer::State* s) {
  SB_ASSIGN_OR_RETURN(ProbeSocket sock, ProbeSocket::Create());
  Target t;
  t.endpoints = {sock.local};
  t.tcp = false;
  t.netns_cookies = {sock.netns_cookie};
  SB_ASSIGN_OR_RETURN(DestroyStats st, RunTarget(s, t));
  int err = sock.PendingError();
  if (st.destroyed != 1 || err != ECONNABORTED)
    return absl::FailedPreconditionError(absl::StrCat(
        "the kernel loads the programs, but a pass did not destroy the indexed socket (indexed ",
        s->Index().inserted, ", visited ", st.visited, ", destroyed ", st.destroyed, ", recv: ",
        std::strerror(err), ")"));
  return absl::OkStatus();
}

}  // namespace

SleepableKfuncDestroyer::SleepableKfuncDestroyer(SleepableIndex index) : index_(index) {}
SleepableKfuncDestroyer::~SleepableKfuncDestroyer() = default;

const char* SleepableKfuncDestroyer::name() const {
  return index_ == SleepableIndex::kHash ? "sleepable_kfunc" : "sleepable_kfunc_rbtree";
}

absl::Status SleepableKfuncDestroyer::Probe() {
  if (state_) return absl::OkStatus();
  SB_ASSIGN_OR_RETURN(auto s, LoadVariant(index_));
  // Not scoped to a cgroup: the probe's own socket must be indexed.
  SB_RETURN_IF_ERROR(s->Attach(-1));
  absl::Status st = DestroyOneSocket(s.get());
  s->Detach();
  if (!st.ok()) return st;
  state_ = std::move(s);
  return absl::OkStatus();
}

absl::Status SleepableKfuncDestroyer::Prepare(const PrepareEnv& env) {
  SB_RETURN_IF_ERROR(Probe());
  // The cgroup scopes the index and gets the release program.
  SB_ASSIGN_OR_RETURN(UniqueFd cg, OpenAttachCgroup(env.cgroup_fd));
  return state_->Attach(cg.get());
}

absl::StatusOr<DestroyStats> SleepableKfuncDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError(absl::StrCat(name(), ": Prepare() not called"));
  return RunTarget(state_.get(), target);
}

void SleepableKfuncDestroyer::Release() {
  if (state_) state_->Detach();
}

SleepableIndexStats SleepableKfuncDestroyer::index_stats() const {
  return state_ ? state_->Index() : SleepableIndexStats{};
}

TrackedCounts SleepableKfuncDestroyer::Tracked() const {
  SleepableIndexStats s = index_stats();
  return {s.inserted, s.failed};
}

uint64_t SleepableKfuncDestroyer::index_map_bytes() const { return state_ ? state_->MapBytes() : 0; }

}  // namespace sockbench
