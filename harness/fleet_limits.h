// What this machine lets a fleet use: descriptors per process, open files
// system-wide, memory. FleetPlan::Make plans within them, so a fleet that
// cannot be built is refused before anything is created.
#pragma once

#include <climits>

#include "absl/status/status.h"

namespace sockbench {

struct FleetLimits {
  // Descriptors one worker may hold: the RLIMIT_NOFILE hard limit, which
  // every worker raises its soft limit to (RaiseFdSoftLimit).
  long worker_fds = 0;
  // The same for sockbench itself (namespace fds, worker control sockets).
  long sockbench_fds = 0;
  // Files the system can still open: fs.file-max minus those open now.
  long system_files = LONG_MAX;
  // Memory the fleet may take: MemAvailable.
  long memory_bytes = LONG_MAX;

  // `fds` descriptors per process, nothing else limited (unit tests).
  static FleetLimits PerProcessFds(long fds);
  // Read from getrlimit(2), /proc/sys/fs/file-{max,nr}, /proc/meminfo.
  static FleetLimits OfThisMachine();
};

// Raises the calling process's RLIMIT_NOFILE soft limit to its hard limit
// (what FleetLimits::worker_fds assumes a worker holds).
absl::Status RaiseFdSoftLimit();

}  // namespace sockbench
