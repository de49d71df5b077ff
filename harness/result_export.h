// A run result (either schema version) in the formats of two dashboards,
// one entry per approach x scenario that timed every repetition; the
// unsupported and failed ones are left out (docs/results-format.md).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "harness/result_file.h"
#include "nlohmann/json.hpp"

namespace sockbench {

// Bencher Metric Format: {"<name>": {"latency": {"value", "lower_value",
// "upper_value"}}}, the median, min and max of the repetitions in
// nanoseconds (the unit of Bencher's built-in Latency measure, slug
// "latency").
nlohmann::json ToBencherMetricFormat(const ResultFile& r);
// github-action-benchmark's customSmallerIsBetter input: [{"name", "unit":
// "ms", "value": the median, "range": "± <sample stddev>", "extra": min,
// max, repetitions and the kernel}].
nlohmann::json ToGithubActionBenchmark(const ResultFile& r);
// `format`: "bmf" or "gab".
absl::StatusOr<nlohmann::json> ExportResult(const ResultFile& r, const std::string& format);

}  // namespace sockbench
