// sk_storage: reverse state in BPF_MAP_TYPE_SK_STORAGE (see
// leak/bpf/leak_sk_storage.bpf.c). The map cannot be walked with get_next_key, so
// the storages still linked to a socket are counted, best first, by:
//   iterator  an iter/bpf_sk_storage_map program walks the live storages;
//   sk_free   fentry/sk_free counts storages reaching the socket's final
//             free (live = created - freed);
//   release   the strategy's own sock_release program counts sockets
//             released with a storage (live = created - released). This
//             trusts the kernel to free the storage with the socket, so it
//             proves less; it is used only where the kernel refuses both
//             others (a 6.18 host refused map-element iterators and fentry
//             with EPERM before verification).
// Which one ran is reported with every count (storage_counted_by).
#include <bpf/libbpf.h>

#include <optional>

#include "harness/bpf_iter_util.h"
#include "leak/skeleton_strategy.h"
#include "leak/strategies.h"
#include "leak_types.h"
#include "leak_sk_storage.skel.h"
#include "leak_sk_storage_count.skel.h"
#include "leak_sk_storage_destroy.skel.h"
#include "leak_sk_storage_free.skel.h"

namespace sockbench {

namespace {

// An object sharing the strategy's storage map (the counters, the
// destruction pass).
template <typename C>
absl::StatusOr<BpfSkeleton<C>> LoadCounter(int map_fd) {
  SB_ASSIGN_OR_RETURN(BpfSkeleton<C> s, BpfSkeleton<C>::Open());
  if (bpf_map__reuse_fd(s->maps.leak_sk, map_fd) < 0) return ErrnoStatus("reuse the sk_storage map");
  SB_RETURN_IF_ERROR(s.Load());
  return s;
}

// sk_storage_iter over the strategy's reverse-NAT map
// (leak/bpf/leak_sk_storage_destroy.bpf.c): the same pass as the approach
// (harness/approaches/sk_storage_iter.cc), with no map of its own.
class OwnMapDestroyer : public Destroyer {
 public:
  explicit OwnMapDestroyer(int map_fd) : map_fd_(map_fd) {}
  ~OwnMapDestroyer() override { bpf_link__destroy(link_); }
  const char* name() const override { return "sk_storage_iter(strategy map)"; }

  absl::Status Probe() override {
    if (link_) return absl::OkStatus();
    SB_ASSIGN_OR_RETURN(auto s, LoadCounter<leak_sk_storage_destroy_bpf>(map_fd_));
    union bpf_iter_link_info info = {};
    info.map.map_fd = static_cast<__u32>(map_fd_);
    DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
                        .link_info_len = sizeof(info));
    ClearLibbpfLog();
    bpf_link* link = bpf_program__attach_iter(s->progs.leak_destroy_stored, &opts);
    if (!link) return ErrnoStatus("attach iter/bpf_sk_storage_map: " + LibbpfReason());
    skel_.emplace(std::move(s));
    link_ = link;
    return absl::OkStatus();
  }

  absl::StatusOr<DestroyStats> Destroy(const Target& target) override {
    if (!link_) return absl::FailedPreconditionError("sk_storage_iter(strategy map): Probe() not called");
    SB_RETURN_IF_ERROR(LoadTargetIntoBss((*skel_)->bss, target));
    SB_RETURN_IF_ERROR(RunIterator(bpf_link__fd(link_)));
    return StatsFromCounters((*skel_)->bss->sb_counters);
  }

 private:
  int map_fd_;
  std::optional<BpfSkeleton<leak_sk_storage_destroy_bpf>> skel_;
  bpf_link* link_ = nullptr;
};

class SkStorageStrategy : public SkeletonStrategy<SkStorageStrategy, leak_sk_storage_bpf> {
 public:
  ~SkStorageStrategy() override { bpf_link__destroy(counter_link_); }
  const char* name() const override { return "sk_storage"; }
  static void Size(leak_sk_storage_bpf*, const StrategyOptions&) {}  // grows with sockets

  absl::Status AfterLoad() {
    int map_fd = bpf_map__fd(skel()->maps.leak_sk);
    absl::Status iter_status = AttachIterator(map_fd);
    if (iter_status.ok()) return iter_status;
    absl::Status fentry_status = AttachFentry(map_fd);
    if (fentry_status.ok()) return fentry_status;
    // Both refused: count from sock_release (see the top of this file).
    return absl::OkStatus();
  }

  absl::StatusOr<ReverseState> State() override {
    ReverseState s;
    if (iter_) {
      (*iter_)->bss->leak_storage_seen = 0;
      SB_RETURN_IF_ERROR(RunIterator(bpf_link__fd(counter_link_)));
      s.storage = (*iter_)->bss->leak_storage_seen;
      s.storage_counted_by = "iterator";
      return s;
    }
    // Read the gone count first: a storage that goes after this read is
    // still counted live, never the other way round.
    uint64_t gone = fentry_ ? __atomic_load_n(&(*fentry_)->bss->leak_storage_freed, __ATOMIC_SEQ_CST)
                            : __atomic_load_n(&skel()->bss->leak_storage_released, __ATOMIC_SEQ_CST);
    uint64_t created = __atomic_load_n(&skel()->bss->leak_storage_created, __ATOMIC_SEQ_CST);
    s.storage = created >= gone ? created - gone : 0;
    s.storage_counted_by = fentry_ ? "sk_free" : "release";
    return s;
  }

  absl::Status Clear() override { return absl::OkStatus(); }

  absl::StatusOr<bool> HasReverse(uint64_t, const Endpoint&) override {
    return absl::UnimplementedError("sk_storage state is reachable only through its socket");
  }

  bool freed_after_rcu() const override { return true; }

  absl::StatusOr<std::unique_ptr<Destroyer>> OwnMapDestroyer() override {
    auto d = std::make_unique<class OwnMapDestroyer>(bpf_map__fd(skel()->maps.leak_sk));
    SB_RETURN_IF_ERROR(d->Probe());
    return std::unique_ptr<Destroyer>(std::move(d));
  }

 private:
  absl::Status AttachIterator(int map_fd) {
    auto c = LoadCounter<leak_sk_storage_count_bpf>(map_fd);
    if (!c.ok()) return c.status();
    union bpf_iter_link_info info = {};
    info.map.map_fd = map_fd;
    DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
                        .link_info_len = sizeof(info));
    ClearLibbpfLog();
    bpf_link* link = bpf_program__attach_iter((*c)->progs.leak_count_storage, &opts);
    if (!link) return ErrnoStatus("sk_storage: attach iter/bpf_sk_storage_map: " + LibbpfReason());
    counter_link_ = link;
    iter_.emplace(std::move(*c));
    return absl::OkStatus();
  }

  absl::Status AttachFentry(int map_fd) {
    auto c = LoadCounter<leak_sk_storage_free_bpf>(map_fd);
    if (!c.ok()) return c.status();
    ClearLibbpfLog();
    bpf_link* link = bpf_program__attach((*c)->progs.leak_count_freed);
    if (!link) return ErrnoStatus("sk_storage: attach fentry/sk_free: " + LibbpfReason());
    counter_link_ = link;
    fentry_.emplace(std::move(*c));
    return absl::OkStatus();
  }

  // Exactly one of the two counters is loaded; counter_link_ is its link.
  std::optional<BpfSkeleton<leak_sk_storage_count_bpf>> iter_;
  std::optional<BpfSkeleton<leak_sk_storage_free_bpf>> fentry_;
  bpf_link* counter_link_ = nullptr;
};

}  // namespace

std::unique_ptr<LeakStrategy> MakeSkStorageStrategy() { return std::make_unique<SkStorageStrategy>(); }

}  // namespace sockbench
