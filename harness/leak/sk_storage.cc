// sk_storage: reverse state in BPF_MAP_TYPE_SK_STORAGE (see
// bpf/leak_sk_storage.bpf.c). The map cannot be walked with get_next_key;
// an iter/bpf_sk_storage_map program counts the storages still linked to a
// socket.
#include <bpf/libbpf.h>

#include "harness/bpf_iter_util.h"
#include "harness/leak/skeleton_strategy.h"
#include "harness/leak/strategies.h"
#include "leak_types.h"
#include "leak_sk_storage.skel.h"

namespace sockbench {

SOCKBENCH_SKELETON_OPS(leak_sk_storage_bpf);

namespace {

class SkStorageStrategy : public SkeletonStrategy<SkStorageStrategy, leak_sk_storage_bpf> {
 public:
  ~SkStorageStrategy() override { bpf_link__destroy(iter_); }
  const char* name() const override { return "sk_storage"; }
  static void Size(leak_sk_storage_bpf*, const StrategyOptions&) {}  // grows with sockets

  absl::Status AfterLoad() {
    union bpf_iter_link_info info = {};
    info.map.map_fd = bpf_map__fd(skel()->maps.leak_sk);
    DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
                        .link_info_len = sizeof(info));
    ClearLibbpfLog();
    iter_ = bpf_program__attach_iter(skel()->progs.leak_count_storage, &opts);
    if (!iter_) return ErrnoStatus("sk_storage: attach iter/bpf_sk_storage_map: " + LibbpfReason());
    return absl::OkStatus();
  }

  absl::StatusOr<ReverseState> State() override {
    skel()->bss->leak_storage_seen = 0;
    SB_RETURN_IF_ERROR(RunIterator(bpf_link__fd(iter_)));
    ReverseState s;
    s.storage = skel()->bss->leak_storage_seen;
    return s;
  }

  absl::Status Clear() override { return absl::OkStatus(); }

  absl::StatusOr<bool> HasReverse(uint64_t, const Endpoint&) override {
    return absl::UnimplementedError("sk_storage state is reachable only through its socket");
  }

  bool freed_after_rcu() const override { return true; }

 private:
  bpf_link* iter_ = nullptr;
};

}  // namespace

std::unique_ptr<LeakStrategy> MakeSkStorageStrategy() { return std::make_unique<SkStorageStrategy>(); }

}  // namespace sockbench
