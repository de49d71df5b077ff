// One cell of the leak matrix: open sockets through the socket-LB programs,
// end them (close, or abort by a destruction approach and then close, as an
// application does when its socket errors out), and count the reverse state
// left once every socket is gone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/destroyer.h"
#include "leak/lab.h"
#include "leak/strategy.h"

namespace sockbench {

struct CellSpec {
  SockKind kind = SockKind::kTcp;
  Family family = Family::kIpv4;
  bool abort = false;
  std::string approach = "close";  // the destruction approach of an abort cell
  // The Cilium issue's numbering (1-8), continued for unconnected UDP (9-12).
  int case_number() const;
  // Unconnected UDP has no destination: an abort filtered by destination
  // (what agents do) matches none of its sockets.
  bool applicable() const { return !(abort && kind == SockKind::kUdpUnconnected); }
};

// close cells first, then abort cells per approach, in the order.
std::vector<CellSpec> MatrixCells(const std::vector<std::string>& approaches);

struct CellResult {
  std::string strategy;
  CellSpec spec;
  int64_t sockets = 0;       // opened
  int64_t translated = 0;    // saw the VIP (getpeername / recvmsg) while open
  int64_t untranslated = 0;
  int64_t check_errors = 0;
  StrategyCounters counters;  // inserted, deleted, ...
  DestroyStats destroy;       // abort cells
  int64_t aborted_seen = 0;   // sockets that reported ECONNABORTED at close
  uint64_t baseline = 0;      // state present before the cell (should be 0)
  ReverseState left;          // state present after every socket is gone
  uint64_t leaked = 0;        // left.total() - baseline
  int settle_rounds = 0;      // grace periods waited for socket frees
  double leak_rate() const {
    return counters.inserted ? static_cast<double>(leaked) / static_cast<double>(counters.inserted) : 0.0;
  }
};

// `destroyer` (Prepare()d) is used for abort cells only.
absl::StatusOr<CellResult> RunCell(LeakLab& lab, LeakStrategy& strategy, Destroyer* destroyer,
                                   const CellSpec& spec, int sockets);

}  // namespace sockbench
