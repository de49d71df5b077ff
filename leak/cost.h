// The price of each strategy, measured with the same worker: time N
// connect() calls (first sendto() for unconnected UDP) one by one with the
// strategy's programs attached, and N close() calls, against "none" (no
// programs, connecting straight to the backend); a round's figure is the
// median call. Also times the abort pass of a
// destruction approach and the close() that follows it. Medians over
// rounds after a discarded warm-up round; the configurations run in a
// rotating order within each round, and each strategy's overhead is the
// median of its per-round difference to "none" (paired, so slow drift of a
// shared machine cancels). The timed loops run at nice -20.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/destroyer.h"
#include "leak/plan.h"

namespace sockbench {

struct CostOptions {
  int sockets = 1000;
  int rounds = 11;
};

struct CostRow {
  std::string strategy;  // "none" or a strategy
  SockKind kind = SockKind::kTcp;
  Family family = Family::kIpv4;
  int sockets = 0;
  int rounds = 0;
  // Median over rounds of each round's median call, in nanoseconds.
  double connect_ns = 0;
  double close_ns = 0;
  double abort_ns = 0;        // the destruction pass / socket (-1: n/a, unconnected UDP)
  double abort_close_ns = 0;  // close() after the abort (-1: n/a)
  double connect_iqr_ns = 0;  // spread of connect_ns over rounds (p75 - p25)
  std::vector<double> connect_samples_ns;  // one per round, in round order
  // Paired median difference to "none" (0 for none itself; -1: n/a).
  double connect_delta_ns = 0;
  double close_delta_ns = 0;
  double abort_close_delta_ns = 0;
};

// `destroyer` (Prepare()d) times the abort pass; nullptr skips it.
absl::StatusOr<std::vector<CostRow>> RunCost(const std::vector<std::string>& strategies,
                                             Destroyer* destroyer, const CostOptions& opts);

}  // namespace sockbench
