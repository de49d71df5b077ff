#include "harness/result_json.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "harness/status.h"
#include "harness/unique_fd.h"

namespace sockbench {

nlohmann::json RunToJson(const benchmark::BenchmarkReporter::Run& run) {
  using Run = benchmark::BenchmarkReporter::Run;
  const bool percentage = run.run_type == Run::RT_Aggregate && run.aggregate_unit == benchmark::kPercentage;
  // Google Benchmark 1.7.1 divides by a zero mean (a counter that is 0 in
  // every repetition) and writes NaN, which JSON has not; from 1.8.4 on its
  // StatisticsCV returns 0 for a zero mean, as here.
  auto number = [percentage](double v) { return percentage && !std::isfinite(v) ? 0.0 : v; };
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
  if (percentage) {
    j["real_time"] = number(run.real_accumulated_time);
    j["cpu_time"] = number(run.cpu_accumulated_time);
  } else {
    j["real_time"] = run.GetAdjustedRealTime();
    j["cpu_time"] = run.GetAdjustedCPUTime();
  }
  // On every entry, the cv's too, as Google Benchmark writes it.
  j["time_unit"] = benchmark::GetTimeUnitString(run.time_unit);
  for (const auto& [name, counter] : run.counters) j[name] = number(counter.value);
  if (!run.report_label.empty()) j["label"] = run.report_label;
  return j;
}

benchmark::BenchmarkReporter::Run WithStableName(benchmark::BenchmarkReporter::Run run) {
  run.run_name.repetitions.clear();
  return run;
}

std::string StableBenchmarkName(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  std::vector<std::string> kept;
  for (std::string& p : parts) {
    if (!absl::StartsWith(p, "repeats:")) {
      kept.push_back(std::move(p));
      continue;
    }
    // "repeats:N" ends the name when no time type follows it: then an
    // aggregate's "_mean" hangs on it, and goes to the component before.
    size_t digits = std::string("repeats:").size();
    while (digits < p.size() && p[digits] >= '0' && p[digits] <= '9') ++digits;
    if (digits == std::string("repeats:").size() || (digits < p.size() && p[digits] != '_')) {
      kept.push_back(std::move(p));  // not Google Benchmark's repeats:N
      continue;
    }
    if (digits < p.size() && !kept.empty()) kept.back() += p.substr(digits);
  }
  return absl::StrJoin(kept, "/");
}

bool ParseBenchmarkName(const std::string& name, std::string* approach, std::string* scenario) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  if (parts.size() < 3 || parts[0] != "destroy" || parts[1].empty()) return false;
  // Google Benchmark's own components follow the scenario label.
  static const char* const kOwn[] = {"iterations:", "repeats:", "manual_time", "real_time", "process_time",
                                     "threads:", "min_time:", "min_warmup_time:"};
  std::vector<std::string> label;
  for (size_t i = 2; i < parts.size(); ++i) {
    bool own = false;
    for (const char* k : kOwn) own |= absl::StartsWith(parts[i], k);
    if (own) break;
    label.push_back(parts[i]);
  }
  if (label.empty()) return false;
  *approach = parts[1];
  *scenario = absl::StrJoin(label, "/");
  return true;
}

nlohmann::json ResultDocument(nlohmann::json context, const std::vector<nlohmann::json>& runs,
                              const std::map<std::string, nlohmann::json>& details) {
  context[kSchemaVersionKey] = kResultSchemaVersion;
  auto run_name = [](const nlohmann::json& r) {
    return r.value("run_name", r.value("name", std::string()));
  };
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::map<std::string, std::string> first_error;
  for (const nlohmann::json& r : runs) {
    const std::string name = run_name(r);
    if (seen.insert(name).second) order.push_back(name);
    if (r.value("error_occurred", false) && !first_error.count(name))
      first_error[name] = r.value("error_message", std::string("error without a message"));
  }
  nlohmann::json benchmarks = nlohmann::json::array();
  std::map<std::string, int> family;
  for (const nlohmann::json& r : runs) {
    const std::string name = run_name(r);
    if (first_error.count(name)) continue;
    auto it = family.emplace(name, static_cast<int>(family.size())).first;
    nlohmann::json b = r;
    b["family_index"] = it->second;
    benchmarks.push_back(std::move(b));
  }
  nlohmann::json not_timed = nlohmann::json::array();
  for (const std::string& name : order) {
    auto e = first_error.find(name);
    if (e == first_error.end()) continue;
    std::string approach, scenario;
    ParseBenchmarkName(name, &approach, &scenario);
    const bool unsupported = absl::StartsWith(e->second, "unsupported:");
    nlohmann::json entry = {{"name", name},
                            {"approach", approach},
                            {"scenario", scenario},
                            {"status", unsupported ? "unsupported" : "failed"},
                            {"reason", e->second}};
    if (auto d = details.find(name); d != details.end() && d->second.is_object())
      for (const auto& [k, v] : d->second.items())
        if (!entry.contains(k)) entry[k] = v;
    not_timed.push_back(std::move(entry));
  }
  return {{"context", std::move(context)}, {"benchmarks", std::move(benchmarks)}, {kNotTimedKey, std::move(not_timed)}};
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
  std::vector<Run> stable;
  for (const auto& r : runs) stable.push_back(WithStableName(r));
  for (const auto& r : stable) runs_.push_back(RunToJson(r));
  console_.ReportRuns(stable);
}

void CollectingReporter::Finalize() { console_.Finalize(); }

absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& doc) {
  auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (slash != std::string::npos && slash > 0 && mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
    return ErrnoStatus(absl::StrCat("mkdir ", dir));
  // A temporary of our own in the same directory (rename() is atomic only
  // within a filesystem), written in full and synced, then renamed over
  // `path`: a reader sees the old document or the new one, and a write
  // that fails anywhere leaves the old file as it was.
  std::string tmp = absl::StrCat(path, ".tmp.XXXXXX");
  UniqueFd fd(mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("create a temporary next to ", path));
  auto fail = [&tmp](const std::string& what) {
    absl::Status st = ErrnoStatus(what);
    unlink(tmp.c_str());
    return st;
  };
  if (fchmod(fd.get(), 0644) < 0) return fail(absl::StrCat("chmod ", tmp));
  const std::string text = doc.dump(2) + "\n";
  for (size_t done = 0; done < text.size();) {
    ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(absl::StrCat("write ", tmp));
    done += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) < 0) return fail(absl::StrCat("fsync ", tmp));
  if (close(fd.release()) < 0) return fail(absl::StrCat("close ", tmp));
  if (rename(tmp.c_str(), path.c_str()) < 0) return fail(absl::StrCat("rename ", tmp, " to ", path));
  return absl::OkStatus();
}

}  // namespace sockbench
