// The human table at the end of `sockbench run`: one row per benchmark
// (approach x scenario), from the repetitions as the harness returned them.
#pragma once

#include <string>
#include <vector>

#include "harness/scenario.h"
#include "nlohmann/json.hpp"

namespace sockbench {

struct BenchmarkLog {
  std::string run_name;  // Google Benchmark's, as in the result file
  long targets = 0;      // the scenario's
  std::string known_defect;  // the approach's registry row's (ApproachInfo)
  std::vector<Repetition> repetitions;
};

// The approach's known defect, when the log failed and every failed
// repetition failed exactly the way it says (OnlyUnconnectedSendersHit);
// empty otherwise.
std::string KnownDefectShown(const BenchmarkLog& log);

// What the result file adds to the sockbench_not_timed entry of a failed
// benchmark (ResultDocument's `details`): the counts of its first failed
// repetition's verification, and the known defect it showed. Null when
// there is nothing to add.
nlohmann::json NotTimedDetails(const BenchmarkLog& log);

// Prints the table; returns how many supported approach runs failed,
// leaving out those that showed exactly their known defect (a finding the
// table reports, not a failure of the run).
int PrintSummary(const std::vector<BenchmarkLog>& logs);

}  // namespace sockbench
