// Results in Google Benchmark's JSON format (so compare.py and dashboards
// read them), with sockbench's own context added. sockbench runs one
// benchmark session per scenario (each with its own fleet), so it collects
// the runs itself and writes one document at the end (docs/results-format.md).
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace sockbench {

// The version of sockbench's additions to Google Benchmark's document
// (context.sockbench_json_schema_version). Files without the field are
// version 1: unsupported and failed approaches among the benchmarks as
// error_occurred entries, names with repeats:N, cv without time_unit.
inline constexpr int kResultSchemaVersion = 2;
inline constexpr char kSchemaVersionKey[] = "sockbench_json_schema_version";
inline constexpr char kNotTimedKey[] = "sockbench_not_timed";

// One run as Google Benchmark 1.7.1's JSONReporter writes it, field for
// field, except that a cv it would write as NaN (a counter whose mean is 0),
// which is not JSON, is written as 0.
nlohmann::json RunToJson(const benchmark::BenchmarkReporter::Run& run);
// `run` with its name as sockbench reports it: without "repeats:N", so a
// benchmark keeps its name whatever the repetition count (which stays in
// the `repetitions` field).
benchmark::BenchmarkReporter::Run WithStableName(benchmark::BenchmarkReporter::Run run);
// A benchmark name ("destroy/<approach>/<scenario>/iterations:1[/repeats:N]/
// manual_time[_<aggregate>]") without its "repeats:N" component.
std::string StableBenchmarkName(const std::string& name);
// The approach and the scenario label a benchmark name carries; false when
// the name is not one of sockbench's.
bool ParseBenchmarkName(const std::string& name, std::string* approach, std::string* scenario);

// The result document: `context` with the schema version, `benchmarks` with
// the runs of the benchmarks that timed every repetition (family_index
// renumbered over them, one family per approach x scenario), and
// `sockbench_not_timed` with one entry per benchmark that did not: status
// "unsupported" (the kernel lacks the approach) or "failed" (any repetition
// failed; its other repetitions and aggregates are left out too), and the
// reason (the first error).
// `details` (by benchmark name) adds fields to a benchmark's
// sockbench_not_timed entry: the counts of a failed verification, a known
// defect it showed (bench/summary.h, NotTimedDetails).
nlohmann::json ResultDocument(nlohmann::json context, const std::vector<nlohmann::json>& runs,
                              const std::map<std::string, nlohmann::json>& details = {});
// Google Benchmark's context fields (date, host_name, num_cpus, caches, ...).
nlohmann::json BenchmarkContextToJson(const benchmark::BenchmarkReporter::Context& ctx);

// Shows runs on the console as Google Benchmark does and keeps them, both
// with stable names (WithStableName).
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  CollectingReporter();
  bool ReportContext(const Context& ctx) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  const nlohmann::json& context() const { return context_; }
  const std::vector<nlohmann::json>& runs() const { return runs_; }

 private:
  benchmark::ConsoleReporter console_;
  bool have_context_ = false;
  nlohmann::json context_;
  std::vector<nlohmann::json> runs_;
};

// Writes `doc` to `path` (creating its directory) atomically: a temporary
// beside it, written in full and synced, is renamed over it, so a reader
// never sees half a file and a failed write leaves the old file intact (and
// no temporary behind).
absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& doc);

}  // namespace sockbench
