// Results in Google Benchmark's JSON format (so compare.py and dashboards
// read them), with sockbench's own context added. sockbench runs one
// benchmark session per scenario (each with its own fleet), so it collects
// the runs itself and writes one document at the end.
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace sockbench {

// One run as Google Benchmark's JSONReporter writes it.
nlohmann::json RunToJson(const benchmark::BenchmarkReporter::Run& run);
// Google Benchmark's context fields (date, host_name, num_cpus, caches, ...).
nlohmann::json BenchmarkContextToJson(const benchmark::BenchmarkReporter::Context& ctx);

// Shows runs on the console as Google Benchmark does and keeps them.
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

// Writes `doc` to `path` (creating its directory), atomically via rename so a
// reader never sees half a file.
absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& doc);

}  // namespace sockbench
