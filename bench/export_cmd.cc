// `sockbench export --format bmf|gab --in FILE [--out FILE]`: a run result
// (either schema version) for a dashboard: Bencher Metric Format or
// github-action-benchmark's customSmallerIsBetter (harness/result_export.h).
// Reads a file only: no root needed.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/commands.h"
#include "bench/flags.h"
#include "harness/result_export.h"
#include "harness/result_file.h"
#include "harness/result_json.h"

namespace sockbench {
namespace {

int Fail(int code, const std::string& what) {
  std::fprintf(stderr, "sockbench export: %s\n", what.c_str());
  return code;
}

}  // namespace

int ExportCommand() {
  const std::string format = absl::GetFlag(FLAGS_format);
  const std::string in = absl::GetFlag(FLAGS_in);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (format.empty()) return Fail(2, "--format is required: bmf (Bencher Metric Format) or gab (github-action-benchmark)");
  // The format first: a wrong one is wrong whatever the file.
  if (absl::StatusOr<nlohmann::json> none = ExportResult(ResultFile{}, format); !none.ok())
    return Fail(2, std::string(none.status().message()));
  if (in.empty()) return Fail(2, "--in FILE is required (a result file of sockbench run)");
  absl::StatusOr<ResultFile> r = ReadResultFile(in);
  if (!r.ok()) return Fail(2, absl::StrCat("--in ", r.status().message()));
  absl::StatusOr<nlohmann::json> doc = ExportResult(*r, format);
  if (!doc.ok()) return Fail(2, std::string(doc.status().message()));
  if (out.empty()) {
    std::printf("%s\n", doc->dump(2).c_str());
  } else {
    absl::Status st = WriteJsonFile(out, *doc);
    if (!st.ok()) return Fail(1, absl::StrCat("--out ", st.message()));
  }
  if (!r->not_timed.empty())
    std::fprintf(stderr, "sockbench export: left out %zu benchmarks not timed (unsupported or failed)\n",
                 r->not_timed.size());
  return 0;
}

}  // namespace sockbench
