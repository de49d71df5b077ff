// `sockbench price`: what the approaches that record sockets at connect time
// make connect() pay, against a baseline with no programs (harness/price.h).
// One row per approach x protocol x family, measured by a process of its
// own in a cgroup of the command's own; a JSON file with the run context
// and a table on stdout.
#include <sys/resource.h>
#include <sys/utsname.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/commands.h"
#include "bench/flags.h"
#include "harness/cgroup.h"
#include "harness/context.h"
#include "harness/price.h"
#include "harness/registry.h"
#include "harness/result_json.h"

namespace sockbench {
namespace {

int Fail(int code, const std::string& what) {
  std::fprintf(stderr, "sockbench price: %s\n", what.c_str());
  return code;
}

// Timings on a shared machine mean little without its load next to them.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

struct Slot {
  std::string name;
  std::unique_ptr<Destroyer> destroyer;
  absl::Status probe;
};

}  // namespace

int PriceCommand() {
  utsname u{};
  uname(&u);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  PriceFlags flags{absl::GetFlag(FLAGS_approach), absl::GetFlag(FLAGS_sockets), absl::GetFlag(FLAGS_out)};
  absl::StatusOr<PriceOptions> opts = ParsePriceOptions(flags, u.release, rl.rlim_cur);
  if (!opts.ok()) return Fail(2, std::string(opts.status().message()));
  const int n = opts->sockets;

  RunContext rctx = RunContext::Collect();
  std::printf("sockbench %s price: kernel %s, patchset %s, vm %s; %d connect()s per row, timed in %d blocks\n",
              rctx.sockbench_git_revision.c_str(), rctx.kernel_release.c_str(), rctx.patchset.c_str(),
              rctx.vm.c_str(), n, kPriceBlocks);
  std::vector<Slot> slots;
  for (const std::string& name : opts->approaches) {
    Slot s{name, MakeDestroyer(name), absl::OkStatus()};
    s.probe = s.destroyer->Probe();
    if (!s.probe.ok()) std::printf("  %s: unsupported: %s\n", name.c_str(), std::string(s.probe.message()).c_str());
    slots.push_back(std::move(s));
  }

  absl::StatusOr<ScopedCgroup> cgroup = ScopedCgroup::Create("price");
  if (!cgroup.ok()) return Fail(1, std::string(cgroup.status().message()));

  // Case by case, the baseline next to the approaches, so a slow phase of a
  // shared machine hits a case's rows alike.
  std::vector<PriceRow> rows;
  for (PriceCase c : PriceCases()) {
    const std::string case_name = absl::StrCat(ProtoName(c.proto), "/", FamilyName(c.family));
    auto measure = [&](const std::string& name, Destroyer* d) {
      PriceRow r = MeasurePriceRow(name, d, c, n, *cgroup, [&](int pid) {
        std::printf("measuring %s %s in process %d\n", name.c_str(), case_name.c_str(), pid);
        std::fflush(stdout);  // the signal tests wait for this line
      });
      if (r.series)
        std::printf("  %s %s: median %.1f us per connect()%s\n", name.c_str(), case_name.c_str(),
                    r.series->median_us,
                    r.ok() ? "" : absl::StrCat(", ", r.status).c_str());
      else
        std::printf("  %s %s: %s\n", name.c_str(), case_name.c_str(), r.status.c_str());
      std::fflush(stdout);
      rows.push_back(std::move(r));
    };
    measure(kPriceBaseline, nullptr);
    for (Slot& s : slots) {
      if (s.probe.ok()) measure(s.name, s.destroyer.get());
      else rows.push_back(UnsupportedPriceRow(s.name, c, s.probe));
    }
  }
  AddBaselineDifferences(&rows);

  nlohmann::json ctx = rctx.ToJson();
  ctx["command"] = "price";
  ctx["sockets"] = n;
  ctx["blocks"] = kPriceBlocks;
  ctx["approaches"] = opts->approaches;
  ctx["loadavg"] = LoadAverage();
  absl::Status st = WriteJsonFile(opts->out, PriceDocument(std::move(ctx), rows));
  if (!st.ok()) return Fail(1, std::string(st.message()));

  int failed = 0;
  for (const PriceRow& r : rows) failed += r.status.rfind("failed: ", 0) == 0;
  std::printf("\n%s\n", PriceTable(rows).c_str());
  if (failed) std::printf("%d row(s) failed\n", failed);
  std::printf("results: %s\n", opts->out.c_str());
  return failed ? 1 : 0;
}

}  // namespace sockbench
