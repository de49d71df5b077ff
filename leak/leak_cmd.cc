// `sockbench leak`: the reverse-NAT leak study (docs/leak.md).
//   matrix: {tcp, udp_connected, udp_unconnected} x {ipv4, ipv6} x {close,
//           abort by each supported destruction approach} x {strategy};
//           then the cost of each strategy (connect/close/abort).
//   --churn N: a backend that dies N times against an LRU map of
//           --lru_size entries, with long-lived sockets checked every cycle.
#include <sys/utsname.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/context.h"
#include "harness/registry.h"
#include "harness/result_json.h"
#include "leak/churn.h"
#include "leak/cost.h"
#include "leak/lab.h"
#include "leak/leak_cmd.h"
#include "leak/matrix.h"
#include "leak/report.h"
#include "leak/strategy.h"
#include "leak/strategy_registry.h"

ABSL_FLAG(std::string, strategy, "all",
          sockbench::Strategies().Help("leak: comma-separated reverse-NAT cleanup strategies"));
ABSL_FLAG(int, churn, 0, "leak: run the churn study for this many cycles instead of the matrix");
ABSL_FLAG(int, lru_size, 512, "leak --churn: entries of the LRU reverse maps");
ABSL_FLAG(int, churn_sockets, 64, "leak --churn: sockets opened and aborted per cycle");
ABSL_FLAG(int, live_sockets, 64, "leak --churn: long-lived sockets whose translation is checked");
ABSL_FLAG(int, check_every, 16,
          "leak --churn: each live socket's translation is checked (real getpeername/recvmsg) once "
          "every N cycles, one cohort per cycle; N sets how idle live sockets are (0: never)");
ABSL_FLAG(int, cost_sockets, 1000, "leak: sockets per cost measurement (0: skip the cost part)");
ABSL_FLAG(int, cost_rounds, 11, "leak: rounds of the cost measurement (medians are reported)");

namespace sockbench {
namespace {

struct Approach {
  std::string name;
  std::unique_ptr<Destroyer> destroyer;
};

struct Setup {
  std::vector<std::string> strategies;
  std::vector<Approach> approaches;  // supported and prepared
  nlohmann::json unsupported = nlohmann::json::array();
};

std::string Msg(const absl::Status& st) { return std::string(st.message()); }

int Usage(const std::string& what) {
  std::fprintf(stderr, "sockbench leak: %s\n", what.c_str());
  return 2;
}

std::string DefaultOut(bool churn) {
  utsname u{};
  uname(&u);
  return absl::StrCat("results/leak-", churn ? "churn-" : "", u.release, ".json");
}

// Probe each requested approach; keep the ones this kernel supports.
void PrepareApproaches(const std::vector<std::string>& names, Setup* setup) {
  for (const std::string& n : names) {
    Approach a{n, MakeDestroyer(n)};
    absl::Status st = a.destroyer->Probe();
    if (st.ok()) st = a.destroyer->Prepare(PrepareEnv{});
    if (!st.ok()) {
      std::printf("  approach %s: unsupported here: %s\n", n.c_str(), Msg(st).c_str());
      setup->unsupported.push_back({{"approach", n}, {"reason", Msg(st)}});
      continue;
    }
    setup->approaches.push_back(std::move(a));
  }
}

// Timings on a shared machine mean little without its load next to them.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

nlohmann::json BaseContext(const Setup& setup) {
  nlohmann::json ctx = RunContext::Collect().ToJson();
  ctx["loadavg"] = LoadAverage();  // when the study part before it ended
  ctx["strategies"] = setup.strategies;
  std::vector<std::string> names;
  for (const auto& a : setup.approaches) names.push_back(a.name);
  ctx["approaches"] = names;
  ctx["unsupported"] = setup.unsupported;
  return ctx;
}

int RunMatrix(Setup& setup, const std::string& out, int sockets) {
  std::vector<std::string> approach_names;
  for (const auto& a : setup.approaches) approach_names.push_back(a.name);
  std::vector<CellResult> results;
  nlohmann::json cells = nlohmann::json::array();
  std::vector<std::string> loaded;
  int errors = 0;

  for (const std::string& name : setup.strategies) {
    absl::StatusOr<std::unique_ptr<LeakLab>> lab = LeakLab::Create("leak");
    if (!lab.ok()) {
      std::fprintf(stderr, "sockbench leak: %s\n", Msg(lab.status()).c_str());
      return 1;
    }
    StrategyOptions so;
    so.reverse_entries = LEAK_DEFAULT_REVERSE_ENTRIES;
    so.netns_cookie = (*lab)->netns_cookie();
    absl::StatusOr<std::unique_ptr<LeakStrategy>> strategy = SetUpStrategy(name, so, (*lab)->cgroup_fd());
    if (!strategy.ok()) {
      std::printf("  strategy %s: unsupported here: %s\n", name.c_str(), Msg(strategy.status()).c_str());
      setup.unsupported.push_back({{"strategy", name}, {"reason", Msg(strategy.status())}});
      continue;
    }
    loaded.push_back(name);
    // Where the strategy's own map can be walked (sk_storage), its pass is
    // one more abort: the combination of no leak and one pass.
    std::vector<std::string> cell_approaches = approach_names;
    std::unique_ptr<Destroyer> own;
    absl::StatusOr<std::unique_ptr<Destroyer>> own_or = (*strategy)->OwnMapDestroyer();
    if (own_or.ok()) {
      own = std::move(*own_or);
      cell_approaches.push_back(own->name());
    } else if (!absl::IsUnimplemented(own_or.status())) {
      std::printf("  strategy %s: its own map's pass is unsupported here: %s\n", name.c_str(),
                  Msg(own_or.status()).c_str());
      setup.unsupported.push_back(
          {{"strategy", name}, {"approach", "own map"}, {"reason", Msg(own_or.status())}});
    }
    for (const CellSpec& spec : MatrixCells(cell_approaches)) {
      Destroyer* d = own && spec.approach == own->name() ? own.get() : nullptr;
      for (auto& a : setup.approaches)
        if (a.name == spec.approach) d = a.destroyer.get();
      absl::StatusOr<CellResult> r = RunCell(**lab, **strategy, d, spec, sockets);
      if (!r.ok()) {
        ++errors;
        std::fprintf(stderr, "  %s case %d %s/%s %s: %s\n", name.c_str(), spec.case_number(),
                     SockKindName(spec.kind), FamilyName(spec.family), spec.approach.c_str(),
                     Msg(r.status()).c_str());
        cells.push_back({{"case", spec.case_number()}, {"protocol", SockKindName(spec.kind)},
                         {"family", FamilyName(spec.family)}, {"type", spec.abort ? "abort" : "close"},
                         {"approach", spec.approach}, {"strategy", name}, {"error", Msg(r.status())}});
        continue;
      }
      results.push_back(*r);
      cells.push_back(CellToJson(*r));
    }
  }
  std::printf("\nReverse-NAT state left after every socket is gone (%d sockets per cell)\n\n%s\n",
              sockets, MatrixTable(results).c_str());

  nlohmann::json ctx = BaseContext(setup);
  ctx["sockets_per_cell"] = sockets;
  ctx["reverse_entries"] = LEAK_DEFAULT_REVERSE_ENTRIES;
  nlohmann::json doc = {{"context", ctx}, {"cells", cells}};

  const int cost_sockets = absl::GetFlag(FLAGS_cost_sockets);
  if (cost_sockets > 0) {
    Destroyer* d = setup.approaches.empty() ? nullptr : setup.approaches.front().destroyer.get();
    CostOptions co;
    co.sockets = cost_sockets;
    co.rounds = absl::GetFlag(FLAGS_cost_rounds);
    doc["context"]["loadavg_before_cost"] = LoadAverage();
    absl::StatusOr<std::vector<CostRow>> rows = RunCost(loaded, d, co);
    doc["context"]["loadavg_after_cost"] = LoadAverage();
    if (!rows.ok()) {
      ++errors;
      std::fprintf(stderr, "sockbench leak: cost: %s\n", Msg(rows.status()).c_str());
      doc["cost"] = {{"error", Msg(rows.status())}};
    } else {
      std::printf("Cost: median ns per socket over %d rounds of %d sockets (abort pass: %s); "
                  "(+N) = paired median difference to none\n\n%s\n",
                  co.rounds, co.sockets, d ? d->name() : "none", CostTable(*rows).c_str());
      doc["cost"] = {{"approach", d ? d->name() : "none"}, {"rows", CostToJson(*rows)}};
    }
  }
  absl::Status st = WriteJsonFile(out, doc);
  if (!st.ok()) {
    std::fprintf(stderr, "sockbench leak: %s\n", Msg(st).c_str());
    return 1;
  }
  std::printf("results: %s\n", out.c_str());
  return errors ? 1 : 0;
}

int RunChurnStudy(Setup& setup, const std::string& out) {
  if (setup.approaches.empty()) {
    std::fprintf(stderr, "sockbench leak --churn: no destruction approach works on this kernel\n");
    return 1;
  }
  Destroyer& d = *setup.approaches.front().destroyer;
  ChurnOptions co;
  co.cycles = absl::GetFlag(FLAGS_churn);
  co.lru_size = static_cast<uint32_t>(absl::GetFlag(FLAGS_lru_size));
  co.churn_sockets = absl::GetFlag(FLAGS_churn_sockets);
  co.live_sockets = absl::GetFlag(FLAGS_live_sockets);
  co.check_every = absl::GetFlag(FLAGS_check_every);
  std::vector<ChurnSeries> all;
  nlohmann::json series = nlohmann::json::array();
  int errors = 0;
  for (const std::string& name : setup.strategies) {
    absl::StatusOr<ChurnSeries> s = RunChurn(name, d, co);
    if (!s.ok()) {
      ++errors;
      std::fprintf(stderr, "  churn %s: %s\n", name.c_str(), Msg(s.status()).c_str());
      series.push_back({{"strategy", name}, {"error", Msg(s.status())}});
      continue;
    }
    std::printf("  %s:", name.c_str());
    for (const ChurnPoint& p : s->points)
      if (p.cycle % 5 == 0 || p.cycle == co.cycles)
        std::printf(" c%d=%lu/%ld", p.cycle, static_cast<unsigned long>(p.occupancy),
                    static_cast<long>(p.live_wrong_known));
    std::printf("  (cycle=occupancy/live sockets mistranslated)\n");
    all.push_back(*s);
    series.push_back(ChurnToJson(*s));
  }
  std::printf("\nChurn: %d cycles of %d aborted connected-UDP sockets (%s), %d live sockets\n\n%s\n",
              co.cycles, co.churn_sockets, d.name(), co.live_sockets, ChurnTable(all).c_str());
  nlohmann::json ctx = BaseContext(setup);
  ctx["churn_approach"] = d.name();
  nlohmann::json doc = {{"context", ctx}, {"churn", series}};
  absl::Status st = WriteJsonFile(out, doc);
  if (!st.ok()) {
    std::fprintf(stderr, "sockbench leak: %s\n", Msg(st).c_str());
    return 1;
  }
  std::printf("results: %s\nplot: /usr/bin/python3 plots/plot_leak.py %s\n", out.c_str(), out.c_str());
  return errors ? 1 : 0;
}

}  // namespace

int LeakCommand(const std::string& approach_list, const std::string& out_flag, int sockets) {
  Setup setup;
  absl::StatusOr<std::vector<std::string>> strategies = Strategies().ParseList(absl::GetFlag(FLAGS_strategy));
  if (!strategies.ok()) return Usage(Msg(strategies.status()));
  setup.strategies = *strategies;
  absl::StatusOr<std::vector<std::string>> approaches = ParseApproachList(approach_list);
  if (!approaches.ok()) return Usage(Msg(approaches.status()));
  const int churn = absl::GetFlag(FLAGS_churn);
  if (churn < 0) return Usage("--churn must be >= 0");
  if (sockets < 1 || sockets > 4000)
    return Usage("--sockets must be between 1 and 4000");
  if (absl::GetFlag(FLAGS_cost_sockets) < 0 || absl::GetFlag(FLAGS_cost_sockets) > 4000)
    return Usage("--cost_sockets must be between 0 and 4000");
  if (absl::GetFlag(FLAGS_cost_rounds) < 1) return Usage("--cost_rounds must be >= 1");
  if (absl::GetFlag(FLAGS_lru_size) < 16) return Usage("--lru_size must be >= 16");
  if (absl::GetFlag(FLAGS_churn_sockets) < 1 || absl::GetFlag(FLAGS_churn_sockets) > 4000)
    return Usage("--churn_sockets must be between 1 and 4000");
  if (absl::GetFlag(FLAGS_live_sockets) < 2 || absl::GetFlag(FLAGS_live_sockets) > 4000)
    return Usage("--live_sockets must be between 2 and 4000");
  if (absl::GetFlag(FLAGS_check_every) < 0) return Usage("--check_every must be >= 0");
  const std::string out = out_flag.empty() ? DefaultOut(churn > 0) : out_flag;

  RunContext rctx = RunContext::Collect();
  std::printf("sockbench leak: kernel %s, strategies %s\n", rctx.kernel_release.c_str(),
              absl::StrJoin(setup.strategies, ",").c_str());
  PrepareApproaches(*approaches, &setup);
  int rc = churn > 0 ? RunChurnStudy(setup, out) : RunMatrix(setup, out, sockets);
  for (auto& a : setup.approaches) a.destroyer->Release();
  return rc;
}

}  // namespace sockbench
