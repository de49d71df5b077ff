// Named points of a run where it can be held for the signal tests: the run
// prints "holding at PHASE" and waits there until SIGUSR1 lets it go on, so a
// test delivers a signal (or kills a worker) at a known phase without
// sleeping. Off unless `sockbench run --hold_at PHASE` is given.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sockbench {

// The phases, in the order a scenario passes them:
//   namespaces  the scenario's namespaces exist; nothing loaded yet
//   prepare     every approach is prepared (programs loaded and attached)
//   fleet       the workers are forked and hold the namespaces; no sockets yet
//   timed       the first repetition re-created its targets; Destroy() is next
inline constexpr const char* kHoldPhases[] = {"namespaces", "prepare", "fleet", "timed"};

// Empty: no hold. Any other name than kHoldPhases is an InvalidArgument
// naming the flag and the phases.
absl::Status SetHoldPhase(const std::string& phase);

// Holds at `phase` if it is the chosen one, once per process.
void HoldPoint(std::string_view phase);

}  // namespace sockbench
