#include "harness/result_export.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sockbench {
namespace {

std::string ContextString(const nlohmann::json& ctx, const char* key) {
  auto it = ctx.find(key);
  return it != ctx.end() && it->is_string() ? it->get<std::string>() : "?";
}

}  // namespace

nlohmann::json ToBencherMetricFormat(const ResultFile& r) {
  nlohmann::json out = nlohmann::json::object();
  for (const TimedBenchmark& t : r.timed)
    out[t.name] = {{"latency",
                    {{"value", t.median_ms() * 1e6},
                     {"lower_value", t.min_ms() * 1e6},
                     {"upper_value", t.max_ms() * 1e6}}}};
  return out;
}

nlohmann::json ToGithubActionBenchmark(const ResultFile& r) {
  nlohmann::json out = nlohmann::json::array();
  const std::string kernel = absl::StrCat("kernel ", ContextString(r.context, "kernel_release"), ", vm ",
                                          ContextString(r.context, "vm"), ", patchset ",
                                          ContextString(r.context, "patchset"));
  for (const TimedBenchmark& t : r.timed)
    out.push_back({{"name", t.name},
                   {"unit", "ms"},
                   {"value", t.median_ms()},
                   {"range", absl::StrFormat("± %.4g", t.stddev_ms())},
                   {"extra", absl::StrFormat("median of %d repetitions, min %.4g ms, max %.4g ms\n%s",
                                             t.ms.size(), t.min_ms(), t.max_ms(), kernel)}});
  return out;
}

absl::StatusOr<nlohmann::json> ExportResult(const ResultFile& r, const std::string& format) {
  if (format == "bmf") return ToBencherMetricFormat(r);
  if (format == "gab") return ToGithubActionBenchmark(r);
  return absl::InvalidArgumentError(
      absl::StrCat("--format must be bmf (Bencher Metric Format) or gab (github-action-benchmark, "
                   "customSmallerIsBetter), not '",
                   format, "'"));
}

}  // namespace sockbench
