// One row of the lazy table: one approach (or comparison row) on one
// scenario. The scene is built, the approach prepared, the applications
// started; after `warmup_ms` backend 0 dies; the agent acts at once (timed);
// a combined strategy runs its pass at `deadline_ms`; at `observe_ms` the
// applications stop and report what each socket learned, and when.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lazy/workload.h"
#include "nlohmann/json.hpp"

namespace sockbench {

// Time until the application is told, over one group of target sockets.
struct NoticeStats {
  long sockets = 0;
  long noticed = 0;
  double median_ms = 0, p99_ms = 0, max_ms = 0;
  std::map<std::string, long> errnos;  // "ECONNREFUSED" -> count
  long never[kRoles] = {};            // by role, not told within the run
  long cleaned_unseen = 0;            // not told, but the kernel aborted them (a pending error)
  std::vector<double> ms;             // every notice, sorted
};

struct LazyRow {
  std::string approach, scenario;
  std::string status = "ok";  // ok | unsupported | failed
  std::string reason;         // unsupported: the kernel's reason; failed: the first problem
  double agent_us = 0;        // the agent's action at the death
  double deadline_pass_us = -1;
  DestroyStats pass;          // the deadline pass (lazy_then_iter_per_netns)
  NoticeStats udp, tcp;       // targets, by protocol
  NoticeStats by_role[kRoles];
  long live = 0, live_errors = 0, live_stalled = 0;
  long unconnected = 0, unconnected_errors = 0;
  std::map<std::string, double> counters;
  nlohmann::json ToJson() const;
};

LazyRow RunLazyRow(const LazyScenario& s, const std::string& approach);

}  // namespace sockbench
