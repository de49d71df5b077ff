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
  BpfSkeleton<iter_all_netns_bpf> skel;
  IterLinks links;
  std::vector<uint64_t> loaded_cookies;
};

IterAllNetnsDestroyer::IterAllNetnsDestroyer() = default;
IterAllNetnsDestroyer::~IterAllNetnsDestroyer() = default;

absl::Status IterAllNetnsDestroyer::Prepare(const FleetEnv&) {
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<iter_all_netns_bpf>::OpenAndLoad());
  // The kernel refuses these links to callers without CAP_NET_ADMIN in the
  // initial user namespace, or outside the initial network namespace.
  SB_ASSIGN_OR_RETURN(IterLinks links,
                      IterLinks::Attach(skel->progs.destroy_tcp_all, skel->progs.destroy_udp_all));
  state_.reset(new State{std::move(skel), std::move(links)});
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
  SB_RETURN_IF_ERROR(state_->links.Run(target));
  return StatsFromCounters(state_->skel->bss->sb_counters);
}

}  // namespace sockbench
