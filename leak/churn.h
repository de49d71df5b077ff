// Harm under churn: a backend that keeps dying. Every cycle the application
// opens connected UDP sockets to the dying service, the agent aborts them
// (a destruction approach), the application closes them. Meanwhile
// long-lived sockets to another service stay open, and their reverse
// translation is checked with real getpeername()/recvmsg(). With addr_keyed
// every cycle leaks its entries into an LRU map of realistic size, until
// the LRU starts evicting, live sockets' entries included.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/destroyer.h"

namespace sockbench {

struct ChurnOptions {
  int cycles = 40;
  uint32_t lru_size = 512;   // reverse map entries (LRU strategies)
  int churn_sockets = 64;    // connected UDP sockets per cycle, IPv4, aborted
  int live_sockets = 64;     // long-lived, IPv4: half TCP, half connected UDP
  // Each live socket does a little traffic (the real getpeername/recvmsg
  // check) once every `check_every` cycles: the live sockets form that many
  // cohorts and one cohort is checked per cycle. A check is a BPF lookup,
  // which marks the entry referenced for the LRU, so this sets how idle the
  // long-lived sockets are. 0: never checked between open and the end.
  int check_every = 16;
};

struct ChurnPoint {
  int cycle = 0;               // 0: before the first cycle
  uint64_t occupancy = 0;      // reverse state entries present
  int64_t live_present = -1;   // live sockets whose entry is still in the map (-1: n/a)
  int64_t live_evicted = -1;   // live sockets whose entry the LRU evicted (-1: n/a)
  int64_t checked = 0;         // live sockets checked this cycle (their cohort)
  int64_t live_translated = 0;  // ... that saw the VIP
  int64_t live_wrong = 0;       // ... that saw the backend: a wrong reverse translation
  int64_t live_errors = 0;
  int64_t live_wrong_known = 0;  // live sockets whose latest check was wrong, all cohorts
  uint64_t destroyed = 0;      // churn sockets the approach aborted this cycle
  uint64_t inserted = 0;       // reverse entries inserted so far (BPF counter)
  uint64_t deleted = 0;        // ... deleted so far
};

struct ChurnSeries {
  std::string strategy;
  std::string approach;
  ChurnOptions options;
  std::vector<ChurnPoint> points;
  // After the last cycle, every live socket checked at once.
  int64_t final_translated = 0;
  int64_t final_wrong = 0;
  int64_t final_errors = 0;
};

// Own namespace, cgroup and worker; `destroyer` must be Prepare()d.
absl::StatusOr<ChurnSeries> RunChurn(const std::string& strategy, Destroyer& destroyer,
                                     const ChurnOptions& opts);

}  // namespace sockbench
