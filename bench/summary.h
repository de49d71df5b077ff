// The human table at the end of `sockbench run`: one row per benchmark
// (approach x scenario), from the repetitions as the harness returned them.
#pragma once

#include <string>
#include <vector>

#include "harness/scenario.h"

namespace sockbench {

struct BenchmarkLog {
  std::string run_name;  // Google Benchmark's, as in the result file
  std::vector<Repetition> repetitions;
};

// Prints the table; returns how many supported approach runs failed.
int PrintSummary(const std::vector<BenchmarkLog>& logs);

}  // namespace sockbench
