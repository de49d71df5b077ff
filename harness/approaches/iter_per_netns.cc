#include "harness/approaches/iter_per_netns.h"

#include <bpf/libbpf.h>

#include <optional>

#include "harness/bpf_iter_util.h"
#include "harness/bpf_skeleton.h"
#include "harness/status.h"
#include "iter_per_netns.skel.h"

namespace sockbench {

SOCKBENCH_SKELETON_OPS(iter_per_netns_bpf);

struct IterPerNetnsDestroyer::State {
  explicit State(BpfSkeleton<iter_per_netns_bpf> s) : skel(std::move(s)) {}
  BpfSkeleton<iter_per_netns_bpf> skel;
  bpf_link* tcp = nullptr;
  bpf_link* udp = nullptr;
  ~State() {
    bpf_link__destroy(tcp);
    bpf_link__destroy(udp);
  }
};

IterPerNetnsDestroyer::IterPerNetnsDestroyer() = default;
IterPerNetnsDestroyer::~IterPerNetnsDestroyer() = default;

absl::Status IterPerNetnsDestroyer::Prepare(const FleetEnv&) {
  SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<iter_per_netns_bpf>::OpenAndLoad());
  auto st = std::make_unique<State>(std::move(skel));
  ClearLibbpfLog();
  st->tcp = bpf_program__attach_iter(st->skel->progs.destroy_tcp, nullptr);
  if (!st->tcp) return ErrnoStatus("attach iter/tcp: " + LibbpfReason());
  st->udp = bpf_program__attach_iter(st->skel->progs.destroy_udp, nullptr);
  if (!st->udp) return ErrnoStatus("attach iter/udp: " + LibbpfReason());
  state_ = std::move(st);
  return absl::OkStatus();
}

absl::Status IterPerNetnsDestroyer::Probe() {
  SB_RETURN_IF_ERROR(Prepare(FleetEnv{}));
  Release();
  return absl::OkStatus();
}

void IterPerNetnsDestroyer::Release() { state_.reset(); }

absl::StatusOr<DestroyStats> IterPerNetnsDestroyer::Destroy(const Target& target) {
  if (!state_) return absl::FailedPreconditionError("iter_per_netns: Prepare() not called");
  SB_RETURN_IF_ERROR(LoadTargetIntoBss(state_->skel->bss, target));
  SB_ASSIGN_OR_RETURN(UniqueFd home, CurrentNetns());
  absl::Status st;
  int tcp = bpf_link__fd(state_->tcp), udp = bpf_link__fd(state_->udp);
  for (int ns : target.netns_fds) {
    // The iterator shows the namespace that is current when it is created.
    if (!(st = SetNetns(ns)).ok()) break;
    if (target.tcp && !(st = RunIterator(tcp)).ok()) break;
    if (target.udp && !(st = RunIterator(udp)).ok()) break;
  }
  SB_RETURN_IF_ERROR(SetNetns(home.get()));
  SB_RETURN_IF_ERROR(st);
  return StatsFromCounters(state_->skel->bss->sb_counters);
}

}  // namespace sockbench
