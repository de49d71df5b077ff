#include "leak/settle.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness/status.h"

namespace sockbench {
namespace {

// One RCU grace period; on a nohz_full kernel (EINVAL) yielding alone has to
// do, the bound then still ends the wait.
void GracePeriod() {
  syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
  sched_yield();
}

}  // namespace

absl::StatusOr<Settled> SettleCount(const std::function<absl::StatusOr<uint64_t>()>& count,
                                    uint64_t target, int max_rounds) {
  Settled s;
  for (;;) {
    SB_ASSIGN_OR_RETURN(s.count, count());
    if (s.count <= target || s.rounds >= max_rounds) return s;
    GracePeriod();
    ++s.rounds;
  }
}

}  // namespace sockbench
