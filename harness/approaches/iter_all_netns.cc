#include "harness/approaches/iter_all_netns.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness/bpf_iter_util.h"
#include "harness/bpf_skeleton.h"
#include "harness/status.h"
#include "iter_all_netns.skel.h"

namespace sockbench {

SOCKBENCH_SKELETON_OPS(iter_all_netns_bpf);

struct IterAllNetnsDestroyer::State {
  explicit State(BpfSkeleton<iter_all_netns_bpf> s) : skel(std::move(s)) {}
  BpfSkeleton<iter_all_netns_bpf> skel;
  bpf_link* tcp = nullptr;
  bpf_link* udp = nullptr;
  std::vector<uint64_t> loaded_cookies;
  ~State() {
    bpf_link__destroy(tcp);
    bpf_link__destroy(udp);
  }
};

IterAllNetnsDestroyer::IterAllNetnsDestroyer() = default;
IterAllNetnsDestroyer::~IterAllNetnsDestroyer() = default;

absl::Status IterAllNetnsDestroyer::Prepare(const FleetEnv&) {
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<iter_all_netns_bpf>::OpenAndLoad());
  auto st = std::make_unique<State>(std::move(skel));
  ClearLibbpfLog();
  // The kernel refuses these links to callers without CAP_NET_ADMIN in the
  // initial user namespace, or outside the initial network namespace.
  st->tcp = bpf_program__attach_iter(st->skel->progs.destroy_tcp_all, nullptr);
  if (!st->tcp) return ErrnoStatus("attach iter/tcp_all_netns: " + LibbpfReason());
  st->udp = bpf_program__attach_iter(st->skel->progs.destroy_udp_all, nullptr);
  if (!st->udp) return ErrnoStatus("attach iter/udp_all_netns: " + LibbpfReason());
  state_ = std::move(st);
  return absl::OkStatus();
}

absl::Status IterAllNetnsDestroyer::Probe() {
  SB_RETURN_IF_ERROR(Prepare(FleetEnv{}));
  Release();
  return absl::OkStatus();
}

void IterAllNetnsDestroyer::Release() { state_.reset(); }

absl::StatusOr<DestroyStats> IterAllNetnsDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError("iter_all_netns: Prepare() not called");
  SB_RETURN_IF_ERROR(LoadTargetIntoBss(state_->skel->bss, target));
  // The namespace filter is part of what an agent pays: keep it in the timing.
  int map = bpf_map__fd(state_->skel->maps.sb_netns);
  if (state_->loaded_cookies != target.netns_cookies) {
    for (uint64_t c : state_->loaded_cookies) bpf_map_delete_elem(map, &c);
    uint8_t one = 1;
    for (uint64_t c : target.netns_cookies)
      if (bpf_map_update_elem(map, &c, &one, BPF_ANY) < 0) return ErrnoStatus("netns filter map");
    state_->loaded_cookies = target.netns_cookies;
  }
  if (target.tcp) SB_RETURN_IF_ERROR(RunIterator(bpf_link__fd(state_->tcp)));
  if (target.udp) SB_RETURN_IF_ERROR(RunIterator(bpf_link__fd(state_->udp)));
  return StatsFromCounters(state_->skel->bss->sb_counters);
}

}  // namespace sockbench
