#include "harness/fleet_limits.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

#include "harness/status.h"

namespace sockbench {
namespace {

// An unlimited RLIMIT_NOFILE still stops at fs.nr_open.
long NrOpen() {
  long n = 1 << 20;
  std::ifstream("/proc/sys/fs/nr_open") >> n;
  return n;
}

long HardFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return 1024;
  return rl.rlim_max == RLIM_INFINITY ? NrOpen() : static_cast<long>(rl.rlim_max);
}

long FreeSystemFiles() {
  long max = LONG_MAX, allocated = 0;
  std::ifstream("/proc/sys/fs/file-max") >> max;
  std::ifstream("/proc/sys/fs/file-nr") >> allocated;
  return max > allocated ? max - allocated : 0;
}

long MemAvailableBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long kib = 0;
  while (in >> key >> kib) {
    if (key == "MemAvailable:") return kib * 1024;
    in.ignore(64, '\n');
  }
  return LONG_MAX;  // a kernel without MemAvailable: no estimate to hold against
}

}  // namespace

FleetLimits FleetLimits::PerProcessFds(long fds) {
  FleetLimits l;
  l.worker_fds = fds;
  l.sockbench_fds = fds;
  return l;
}

FleetLimits FleetLimits::OfThisMachine() {
  FleetLimits l;
  l.worker_fds = HardFdLimit();
  l.sockbench_fds = l.worker_fds;
  l.system_files = FreeSystemFiles();
  l.memory_bytes = MemAvailableBytes();
  return l;
}

absl::Status RaiseFdSoftLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return ErrnoStatus("getrlimit(RLIMIT_NOFILE)");
  if (rl.rlim_max == RLIM_INFINITY) rl.rlim_max = NrOpen();
  if (rl.rlim_cur == rl.rlim_max) return absl::OkStatus();
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) return ErrnoStatus("setrlimit(RLIMIT_NOFILE)");
  return absl::OkStatus();
}

}  // namespace sockbench
