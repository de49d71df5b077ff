#include "harness/hold_point.h"

#include <signal.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sockbench {
namespace {

std::string g_phase;
bool g_held = false;
volatile sig_atomic_t g_released = 0;

void OnRelease(int) { g_released = 1; }

}  // namespace

absl::Status SetHoldPhase(const std::string& phase) {
  if (!phase.empty()) {
    bool known = false;
    for (const char* p : kHoldPhases) known |= phase == p;
    if (!known)
      return absl::InvalidArgumentError(absl::StrCat("--hold_at: unknown phase '", phase, "' (one of ",
                                                     absl::StrJoin(kHoldPhases, ", "), ")"));
  }
  g_phase = phase;
  return absl::OkStatus();
}

void HoldPoint(std::string_view phase) {
  if (g_held || phase != g_phase) return;
  g_held = true;
  // SIGUSR1 is blocked before the line goes out, so a release sent as soon
  // as the test reads it waits in the pending set for sigsuspend().
  struct sigaction sa {}, old {};
  sa.sa_handler = OnRelease;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, &old);
  sigset_t usr1, before;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &before);
  std::printf("holding at %.*s\n", static_cast<int>(phase.size()), phase.data());
  std::fflush(stdout);
  // Waits with SIGUSR1 deliverable; SIGINT/SIGTERM/SIGHUP still reach the
  // cleanup handlers (cleanup.h), which end the process.
  sigset_t wait_mask = before;
  sigdelset(&wait_mask, SIGUSR1);
  while (!g_released) sigsuspend(&wait_mask);
  sigprocmask(SIG_SETMASK, &before, nullptr);
  sigaction(SIGUSR1, &old, nullptr);
}

}  // namespace sockbench
