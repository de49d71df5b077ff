// Reads a `sockbench run` result file, of either schema version
// (docs/results-format.md): version 1 (no context.sockbench_json_schema_version;
// unsupported and failed approaches among the benchmarks as error_occurred
// runs, names with repeats:N) and version 2 (sockbench_not_timed beside the
// benchmarks, stable names). What it returns is the same for both.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace sockbench {

// One approach x scenario that timed every repetition.
struct TimedBenchmark {
  std::string name;  // Google Benchmark's run_name, without repeats:N
  std::string approach;
  std::string scenario;
  std::vector<double> ms;  // each repetition's real_time, in file order

  double median_ms() const;  // as Google Benchmark takes it
  double min_ms() const;
  double max_ms() const;
  double stddev_ms() const;  // sample standard deviation; 0 for one repetition
};

// One approach x scenario with no timing to use.
struct NotTimedBenchmark {
  std::string name;
  std::string approach;
  std::string scenario;
  std::string status;  // "unsupported" | "failed"
  std::string reason;
};

struct ResultFile {
  int schema_version = 1;
  nlohmann::json context;
  std::vector<TimedBenchmark> timed;  // in the order of the file
  std::vector<NotTimedBenchmark> not_timed;
};

// `doc` as a result file; an error names the field ("benchmarks[3].real_time
// must be a number").
absl::StatusOr<ResultFile> ParseResultFile(const nlohmann::json& doc);
// The file at `path`: cannot open, not JSON, or ParseResultFile's errors.
absl::StatusOr<ResultFile> ReadResultFile(const std::string& path);

}  // namespace sockbench
