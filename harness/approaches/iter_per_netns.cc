#include "harness/approaches/iter_per_netns.h"

#include "harness/bpf_iter_util.h"
#include "harness/bpf_skeleton.h"
#include "harness/status.h"
#include "iter_per_netns.skel.h"

namespace sockbench {

struct IterPerNetnsDestroyer::State {
  BpfSkeleton<iter_per_netns_bpf> skel;
  IterLinks links;
};

IterPerNetnsDestroyer::IterPerNetnsDestroyer() = default;
IterPerNetnsDestroyer::~IterPerNetnsDestroyer() = default;

absl::Status IterPerNetnsDestroyer::Probe() {
  if (state_) return absl::OkStatus();
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<iter_per_netns_bpf>::OpenAndLoad());
  SB_ASSIGN_OR_RETURN(IterLinks links, IterLinks::Attach(skel->progs.destroy_tcp, skel->progs.destroy_udp));
  state_.reset(new State{std::move(skel), std::move(links)});
  return absl::OkStatus();
}

absl::StatusOr<DestroyStats> IterPerNetnsDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError("iter_per_netns: Probe() not called");
  SB_RETURN_IF_ERROR(LoadTargetIntoBss(state_->skel->bss, target));
  SB_ASSIGN_OR_RETURN(UniqueFd home, CurrentNetns());
  absl::Status st;
  for (int ns : target.netns_fds) {
    // The iterator shows the namespace that is current when it is created.
    if (!(st = SetNetns(ns)).ok()) break;
    if (!(st = state_->links.Run(target)).ok()) break;
  }
  SB_RETURN_IF_ERROR(SetNetns(home.get()));
  SB_RETURN_IF_ERROR(st);
  return StatsFromCounters(state_->skel->bss->sb_counters);
}

}  // namespace sockbench
