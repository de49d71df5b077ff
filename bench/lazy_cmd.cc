// `sockbench lazy`: the lazy alternatives (docs/lazy.md), measured by when
// each socket notices its backend is gone, beside a destroy approach on the
// same small cluster.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/commands.h"
#include "bench/flags.h"
#include "harness/context.h"
#include "harness/result_json.h"
#include "lazy/approach.h"
#include "lazy/datapath_cost.h"
#include "lazy/registry.h"
#include "lazy/runner.h"
#include "lazy/workload.h"
#include "nlohmann/json.hpp"

namespace sockbench {
namespace {

constexpr int kLazySchemaVersion = 1;

std::string Errnos(const NoticeStats& s) {
  std::string out;
  for (const auto& [e, n] : s.errnos) absl::StrAppend(&out, out.empty() ? "" : " ", e, ":", n);
  return out.empty() ? "-" : out;
}

std::string Cell(const NoticeStats& s) {
  if (s.sockets == 0) return "-";
  if (s.noticed == 0) return absl::StrFormat("0/%d", s.sockets);
  return absl::StrFormat("%d/%d %.0f/%.0f/%.0f", s.noticed, s.sockets, s.median_ms, s.p99_ms, s.max_ms);
}

std::string Never(const NoticeStats& s) {
  return absl::StrFormat("%d/%d/%d", s.never[0], s.never[1], s.never[2]);
}

}  // namespace

std::string LazyTable(const std::vector<LazyRow>& rows) {
  std::string out = absl::StrFormat(
      "%-26s %-44s %10s %-26s %-26s %-11s %-11s %-8s %-26s %s\n", "approach", "scenario", "agent_us",
      "udp noticed med/p99/max ms", "tcp noticed med/p99/max ms", "udp never", "tcp never", "aborted", "errno",
      "status");
  absl::StrAppend(&out, absl::StrFormat("%-26s %-44s %10s %-26s %-26s %-11s %-11s %-8s %-26s %s\n", "", "", "", "",
                                        "", "act/idl/rcv", "act/idl/rcv", "unseen", "", ""));
  for (const LazyRow& r : rows) {
    if (r.status == "unsupported") {
      absl::StrAppend(&out, absl::StrFormat("%-26s %-44s unsupported: %s\n", r.approach, r.scenario, r.reason));
      continue;
    }
    std::string agent = absl::StrFormat("%.0f", r.agent_us);
    if (r.deadline_pass_us >= 0) absl::StrAppend(&agent, absl::StrFormat("+%.0f", r.deadline_pass_us));
    absl::StrAppend(&out, absl::StrFormat("%-26s %-44s %10s %-26s %-26s %-11s %-11s %-8d %-26s %s\n", r.approach,
                                          r.scenario, agent, Cell(r.udp), Cell(r.tcp), Never(r.udp), Never(r.tcp),
                                          r.udp.cleaned_unseen + r.tcp.cleaned_unseen,
                                          Errnos(r.udp) + " " + Errnos(r.tcp),
                                          r.status == "ok" ? "ok" : "FAILED: " + r.reason));
  }
  return out;
}

int LazyCommand() {
  const std::string path = absl::GetFlag(FLAGS_workload);
  if (path.empty()) {
    std::fprintf(stderr, "sockbench lazy: --workload FILE is required (workloads/lazy*.json)\n");
    return 2;
  }
  absl::StatusOr<LazyWorkload> w = LoadLazyWorkload(path);
  if (!w.ok()) {
    std::fprintf(stderr, "sockbench lazy: %s\n", std::string(w.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> names = ParseLazyRowList(absl::GetFlag(FLAGS_approach));
  if (!names.ok()) {
    std::fprintf(stderr, "sockbench lazy: %s\n", std::string(names.status().message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_datapath_packets) < 0) {
    std::fprintf(stderr, "sockbench lazy: --datapath_packets must be 0 (do not measure) or more, got %d\n",
                 absl::GetFlag(FLAGS_datapath_packets));
    return 2;
  }
  int reps = absl::GetFlag(FLAGS_repetitions) > 0 ? absl::GetFlag(FLAGS_repetitions) : w->repetitions;
  RunContext rctx = RunContext::Collect();
  std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) out = absl::StrCat("results/lazy-", w->name, "-", rctx.kernel_release, ".json");
  std::printf("sockbench %s lazy: kernel %s, workload %s, %zu scenario(s) x %zu row(s) x %d repetition(s)\n",
              rctx.sockbench_git_revision.c_str(), rctx.kernel_release.c_str(), w->name.c_str(),
              w->scenarios.size(), names->size(), reps);
  std::vector<LazyRow> rows;
  int failed = 0;
  for (const LazyScenario& s : w->scenarios)
    for (int rep = 0; rep < reps; ++rep)
      for (const std::string& n : *names) {
        LazyRow r = RunLazyRow(s, n);
        std::printf("  %s %s rep %d: %s%s%s\n", n.c_str(), s.name.c_str(), rep, r.status.c_str(),
                    r.reason.empty() ? "" : ": ", r.reason.c_str());
        std::fflush(stdout);
        failed += r.status == "failed";
        rows.push_back(std::move(r));
      }
  nlohmann::json ctx = rctx.ToJson();
  ctx["command"] = "lazy";
  ctx["sockbench_lazy_schema_version"] = kLazySchemaVersion;
  ctx["workload"] = w->name;
  ctx["workload_file"] = path;
  ctx["approaches"] = *names;
  ctx["repetitions"] = reps;
  // What the maintainer suggested (bpf_set_retval() from RTO_CB), as this
  // kernel's verifier answers it (docs/lazy.md).
  absl::Status sr = ProbeSetRetvalFromRtoCb();
  ctx["set_retval_from_rto_cb"] = sr.ok() ? "loads" : std::string(sr.message());
  nlohmann::json doc = {{"context", ctx}, {"rows", nlohmann::json::array()}};
  for (const LazyRow& r : rows) doc["rows"].push_back(r.ToJson());
  // What icmp_unreachable's table costs the datagrams it lets through.
  std::string datapath_table;
  const int packets = absl::GetFlag(FLAGS_datapath_packets);
  if (packets > 0 && std::find(names->begin(), names->end(), "icmp_unreachable") != names->end()) {
    DatapathCostOptions dopts;
    dopts.packets = packets;
    dopts.repetitions = std::max(3, reps);
    std::printf("  datapath cost of the reject table: %d x %zu configurations x 2 families x %d datagrams\n",
                dopts.repetitions, dopts.dead.size(), packets);
    std::fflush(stdout);
    absl::Status probe = MakeIcmpUnreachable()->Probe();
    absl::StatusOr<std::vector<DatapathCostRow>> cost =
        probe.ok() ? MeasureRejectTableCost(dopts) : absl::StatusOr<std::vector<DatapathCostRow>>(probe);
    if (cost.ok()) {
      doc["datapath_cost"] = DatapathCostJson(dopts, *cost);
      datapath_table = DatapathCostTable(*cost);
    } else if (!probe.ok()) {
      doc["datapath_cost"] = {{"status", "unsupported"}, {"reason", std::string(probe.message())}};
      datapath_table = absl::StrCat("datapath cost: unsupported: ", probe.message(), "\n");
    } else {
      doc["datapath_cost"] = {{"status", "failed"}, {"reason", std::string(cost.status().message())}};
      datapath_table = absl::StrCat("datapath cost: FAILED: ", cost.status().message(), "\n");
      ++failed;
    }
  }
  absl::Status st = WriteJsonFile(out, doc);
  if (!st.ok()) {
    std::fprintf(stderr, "sockbench lazy: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("\n%s", LazyTable(rows).c_str());
  if (!datapath_table.empty()) std::printf("\n%s", datapath_table.c_str());
  if (failed) std::printf("%d row(s) failed\n", failed);
  std::printf("results: %s\n", out.c_str());
  return failed ? 1 : 0;
}

}  // namespace sockbench
