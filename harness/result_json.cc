#include "harness/result_json.h"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "harness/status.h"

namespace sockbench {

nlohmann::json RunToJson(const benchmark::BenchmarkReporter::Run& run) {
  using Run = benchmark::BenchmarkReporter::Run;
  nlohmann::json j;
  j["name"] = run.benchmark_name();
  j["family_index"] = run.family_index;
  j["per_family_instance_index"] = run.per_family_instance_index;
  j["run_name"] = run.run_name.str();
  j["run_type"] = run.run_type == Run::RT_Iteration ? "iteration" : "aggregate";
  j["repetitions"] = run.repetitions;
  if (run.run_type != Run::RT_Aggregate) j["repetition_index"] = run.repetition_index;
  j["threads"] = run.threads;
  if (run.run_type == Run::RT_Aggregate) {
    j["aggregate_name"] = run.aggregate_name;
    j["aggregate_unit"] = run.aggregate_unit == benchmark::kPercentage ? "percentage" : "time";
  }
  if (run.error_occurred) {
    j["error_occurred"] = true;
    j["error_message"] = run.error_message;
  }
  j["iterations"] = run.iterations;
  if (run.run_type == Run::RT_Aggregate && run.aggregate_unit == benchmark::kPercentage) {
    j["real_time"] = run.real_accumulated_time;
    j["cpu_time"] = run.cpu_accumulated_time;
  } else {
    j["real_time"] = run.GetAdjustedRealTime();
    j["cpu_time"] = run.GetAdjustedCPUTime();
    j["time_unit"] = benchmark::GetTimeUnitString(run.time_unit);
  }
  for (const auto& [name, counter] : run.counters) j[name] = counter.value;
  if (!run.report_label.empty()) j["label"] = run.report_label;
  return j;
}

nlohmann::json BenchmarkContextToJson(const benchmark::BenchmarkReporter::Context& ctx) {
  nlohmann::json j;
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
  j["date"] = date;
  j["host_name"] = ctx.sys_info.name;
  j["executable"] = benchmark::BenchmarkReporter::Context::executable_name
                        ? benchmark::BenchmarkReporter::Context::executable_name
                        : "sockbench";
  j["num_cpus"] = ctx.cpu_info.num_cpus;
  j["mhz_per_cpu"] = static_cast<long>(ctx.cpu_info.cycles_per_second / 1e6);
  j["cpu_scaling_enabled"] = ctx.cpu_info.scaling == benchmark::CPUInfo::ENABLED;
  nlohmann::json caches = nlohmann::json::array();
  for (const auto& c : ctx.cpu_info.caches)
    caches.push_back({{"type", c.type}, {"level", c.level}, {"size", c.size},
                      {"num_sharing", c.num_sharing}});
  j["caches"] = caches;
  j["load_avg"] = ctx.cpu_info.load_avg;
#ifdef NDEBUG
  j["library_build_type"] = "release";
#else
  j["library_build_type"] = "debug";
#endif
  return j;
}

CollectingReporter::CollectingReporter() : console_(benchmark::ConsoleReporter::OO_Tabular) {}

bool CollectingReporter::ReportContext(const Context& ctx) {
  if (!have_context_) {
    context_ = BenchmarkContextToJson(ctx);
    have_context_ = true;
    console_.SetOutputStream(&GetOutputStream());
    console_.SetErrorStream(&GetErrorStream());
    return console_.ReportContext(ctx);
  }
  return true;
}

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const auto& r : runs) runs_.push_back(RunToJson(r));
  console_.ReportRuns(runs);
}

void CollectingReporter::Finalize() { console_.Finalize(); }

absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& doc) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
      return ErrnoStatus(absl::StrCat("mkdir ", dir));
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) return ErrnoStatus(absl::StrCat("open ", tmp));
    out << doc.dump(2) << "\n";
    if (!out) return ErrnoStatus(absl::StrCat("write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) < 0) return ErrnoStatus(absl::StrCat("rename to ", path));
  return absl::OkStatus();
}

}  // namespace sockbench
