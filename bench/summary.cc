#include "bench/summary.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace sockbench {

int PrintSummary(const nlohmann::json& doc) {
  struct Row {
    double median = -1, min = -1, cv = -1;
    double visited = 0;
    int ok = 0, failed = 0;
    std::string error;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  for (const auto& b : doc["benchmarks"]) {
    std::string name = b["run_name"];
    if (!rows.count(name)) order.push_back(name);
    Row& r = rows[name];
    if (b["run_type"] == "aggregate") {
      std::string agg = b["aggregate_name"];
      if (agg == "median") r.median = b["real_time"];
      if (agg == "cv") r.cv = b["real_time"];
      continue;
    }
    if (b.value("error_occurred", false)) {
      r.failed++;
      if (r.error.empty()) r.error = b["error_message"];
      continue;
    }
    r.ok++;
    double t = b["real_time"];
    if (r.min < 0 || t < r.min) r.min = t;
    r.visited = b.value("visited", 0.0);
    if (r.median < 0) r.median = t;  // one repetition: no aggregates
  }
  int failures = 0;
  std::printf("\n%-90s %12s %12s %7s %12s  %s\n", "benchmark", "median ms", "min ms", "cv %",
              "visited", "verified");
  for (const auto& name : order) {
    const Row& r = rows.at(name);
    if (r.ok == 0) {
      bool unsupported = absl::StartsWith(r.error, "unsupported");
      if (!unsupported) failures++;
      std::printf("%-90s %12s %12s %7s %12s  %s\n", name.c_str(), "-", "-", "-", "-",
                  r.error.c_str());
      continue;
    }
    if (r.failed) failures++;
    std::printf("%-90s %12.3f %12.3f %7.1f %12.0f  %s\n", name.c_str(), r.median, r.min,
                r.cv >= 0 ? r.cv * 100 : 0.0, r.visited,
                r.failed ? ("FAILED: " + r.error).c_str() : "ok, every repetition");
  }
  return failures;
}

}  // namespace sockbench
