#include "leak/matrix.h"

#include "absl/strings/str_cat.h"
#include "leak/settle.h"
#include "harness/status.h"

namespace sockbench {

int CellSpec::case_number() const {
  int kind_base = kind == SockKind::kTcp ? 0 : kind == SockKind::kUdpConnected ? 4 : 8;
  return kind_base + (family == Family::kIpv4 ? 0 : 2) + (abort ? 2 : 1);
}

std::vector<CellSpec> MatrixCells(const std::vector<std::string>& approaches) {
  std::vector<CellSpec> cells;
  for (SockKind k : AllSockKinds())
    for (Family f : AllFamilies()) {
      cells.push_back({k, f, false, "close"});
      for (const auto& a : approaches) cells.push_back({k, f, true, a});
    }
  return cells;
}

absl::StatusOr<CellResult> RunCell(LeakLab& lab, LeakStrategy& strategy, Destroyer* destroyer,
                                   const CellSpec& spec, int sockets) {
  CellResult r;
  r.strategy = strategy.name();
  r.spec = spec;
  if (spec.abort && !destroyer) return absl::InvalidArgumentError("abort cell without a destroyer");

  auto total = [&strategy]() -> absl::StatusOr<uint64_t> {
    SB_ASSIGN_OR_RETURN(ReverseState s, strategy.State());
    return s.total();
  };
  // Start from nothing: an earlier cell's leak must not count here.
  SB_RETURN_IF_ERROR(strategy.Clear());
  SB_ASSIGN_OR_RETURN(Settled before, SettleCount(total, 0));
  r.baseline = before.count;
  strategy.ResetCounters();

  SB_ASSIGN_OR_RETURN(LeakReply open, lab.Open(0, spec.kind, spec.family, kDyingService, sockets));
  r.sockets = open.sockets;
  r.translated = open.translated;
  r.untranslated = open.untranslated;
  r.check_errors = open.errors;

  if (spec.abort) {
    absl::StatusOr<DestroyStats> d =
        destroyer->Destroy(lab.BackendTarget(kDyingService, spec.family, spec.kind));
    if (!d.ok()) {
      (void)lab.Close(0);
      return absl::Status(d.status().code(), absl::StrCat(spec.approach, ": ", d.status().message()));
    }
    r.destroy = *d;
  }
  SB_ASSIGN_OR_RETURN(LeakReply closed, lab.Close(0));
  r.aborted_seen = closed.aborted;

  // LRU strategies delete inside close() (sock_release), so one look is the
  // answer; sk_storage's state goes when the kernel frees the socket.
  if (strategy.freed_after_rcu()) {
    SB_ASSIGN_OR_RETURN(Settled after, SettleCount(total, r.baseline));
    r.settle_rounds = after.rounds;
  }
  SB_ASSIGN_OR_RETURN(r.left, strategy.State());
  r.leaked = r.left.total() > r.baseline ? r.left.total() - r.baseline : 0;
  r.counters = strategy.Counters();
  return r;
}

}  // namespace sockbench
