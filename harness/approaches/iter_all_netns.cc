#include "harness/approaches/iter_all_netns.h"

#include "harness/bpf_iter_util.h"
#include "harness/bpf_skeleton.h"
#include "harness/netns_filter.h"
#include "harness/status.h"
#include "iter_all_netns.skel.h"

namespace sockbench {

struct IterAllNetnsDestroyer::State {
  BpfSkeleton<iter_all_netns_bpf> skel;
  IterLinks links;
  NetnsFilter netns;
};

IterAllNetnsDestroyer::IterAllNetnsDestroyer() = default;
IterAllNetnsDestroyer::~IterAllNetnsDestroyer() = default;

absl::Status IterAllNetnsDestroyer::Probe() {
  if (state_) return absl::OkStatus();
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<iter_all_netns_bpf>::OpenAndLoad());
  SB_ASSIGN_OR_RETURN(IterLinks links,
                      IterLinks::Attach(skel->progs.destroy_tcp_all, skel->progs.destroy_udp_all));
  state_.reset(new State{std::move(skel), std::move(links), {}});
  return absl::OkStatus();
}

absl::StatusOr<DestroyStats> IterAllNetnsDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError("iter_all_netns: Probe() not called");
  SB_RETURN_IF_ERROR(LoadTargetIntoBss(state_->skel->bss, target));
  SB_RETURN_IF_ERROR(state_->netns.Set(bpf_map__fd(state_->skel->maps.sb_netns), target.netns_cookies));
  SB_RETURN_IF_ERROR(state_->links.Run(target));
  return StatsFromCounters(state_->skel->bss->sb_counters);
}

}  // namespace sockbench
