// `sockbench run`: for each scenario of the workload, build it (harness/
// scenario.h), time every requested approach with Google Benchmark (manual
// time: only the destruction, verified after every repetition), and write
// one result document.
#include <benchmark/benchmark.h>
#include <sys/utsname.h>

#include <cstdio>
#include <ctime>
#include <deque>
#include <memory>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/commands.h"
#include "bench/flags.h"
#include "bench/summary.h"
#include "harness/cgroup.h"
#include "harness/context.h"
#include "harness/fleet_plan.h"
#include "harness/hold_point.h"
#include "harness/registry.h"
#include "harness/result_json.h"
#include "harness/scenario.h"
#include "harness/workload.h"

namespace sockbench {
namespace {

struct ApproachSlot {
  std::string name;
  std::unique_ptr<Destroyer> destroyer;
  absl::Status probe;  // the kernel's answer
};

// The repetition's figures as the result file's counters.
void SetCounters(benchmark::State& state, const Scenario& scenario, const Repetition& r) {
  const ScenarioSpec& s = scenario.plan().scenario;
  state.counters["netns"] = s.namespaces;
  state.counters["sockets"] = static_cast<double>(s.sockets);
  state.counters["targets"] = static_cast<double>(s.targets());
  state.counters["destroyed"] = static_cast<double>(r.verify.counts.destroyed);
  state.counters["missed"] = static_cast<double>(r.verify.counts.missed);
  state.counters["extra"] = static_cast<double>(r.verify.counts.extra);
  state.counters["peer_reset"] = static_cast<double>(r.verify.counts.peer_reset);
  state.counters["unconnected"] = static_cast<double>(r.verify.counts.unconnected);
  state.counters["unconnected_extra"] = static_cast<double>(r.verify.counts.unconnected_extra);
  state.counters["visited"] = static_cast<double>(r.stats.visited);
  state.counters["setup_seconds"] = scenario.setup_seconds();
  if (r.churn) {
    state.counters["churn_opened"] = static_cast<double>(r.churn->opened);
    state.counters["churn_destroyed"] = static_cast<double>(r.churn->destroyed);
    state.counters["churn_sends"] = static_cast<double>(r.churn->sends);
  }
}

// One Google Benchmark repetition (one iteration) is one harness
// repetition; a run that cannot time is an error run with the reason, which
// the result file lists under sockbench_not_timed (ResultDocument).
void TimeOne(benchmark::State& state, Scenario& scenario, ApproachSlot& slot, BenchmarkLog* log) {
  std::optional<Repetition> no =
      slot.probe.ok() ? scenario.CannotRun(*slot.destroyer) : UnsupportedRepetition(slot.probe);
  if (no) {
    log->repetitions.push_back(*no);
    state.SkipWithError(no->error.c_str());
    for (auto _ : state) {
    }
    return;
  }
  for (auto _ : state) {
    Repetition r = scenario.RunRepetition(*slot.destroyer);
    log->repetitions.push_back(r);
    if (r.outcome != Outcome::kRecreateFailed) state.SetIterationTime(r.seconds);
    if (r.verified()) SetCounters(state, scenario, r);
    if (!r.ok()) {
      state.SkipWithError(r.error.c_str());
      break;
    }
  }
}

std::string DefaultOutPath() {
  utsname u{};
  uname(&u);
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  return absl::StrCat("results/", u.release, "-", ts, ".json");
}

void InitBenchmarkLibrary() {
  static bool done = false;
  if (done) return;
  done = true;
  // Interleave the repetitions of all approaches in random order, so drift
  // of a noisy machine spreads over all approaches instead of one.
  static char a0[] = "sockbench", a1[] = "--benchmark_enable_random_interleaving=true";
  char* argv[] = {a0, a1, nullptr};
  int argc = 2;
  benchmark::Initialize(&argc, argv);
}

int Fail(int code, const std::string& what) {
  std::fprintf(stderr, "sockbench run: %s\n", what.c_str());
  return code;
}

}  // namespace

int RunCommand() {
  const std::string path = absl::GetFlag(FLAGS_workload);
  if (path.empty()) return Fail(2, "--workload FILE is required");
  absl::StatusOr<Workload> wl = LoadWorkload(path);
  if (!wl.ok()) return Fail(2, std::string(wl.status().message()));
  absl::StatusOr<std::vector<std::string>> names = ParseApproachList(absl::GetFlag(FLAGS_approach));
  if (!names.ok()) return Fail(2, std::string(names.status().message()));
  int reps = absl::GetFlag(FLAGS_repetitions);
  if (reps < 0) return Fail(2, "--repetitions must be >= 1 (0 = the workload's)");
  if (reps == 0) reps = wl->repetitions;
  long cap = absl::GetFlag(FLAGS_socket_cap);
  if (cap < 0) return Fail(2, "--socket_cap must be >= 0");
  if (absl::Status st = SetHoldPhase(absl::GetFlag(FLAGS_hold_at)); !st.ok())
    return Fail(2, std::string(st.message()));

  // Every scenario that will run must be buildable before anything is
  // created. Scenarios over --socket_cap are not planned: a cap exists to
  // scale a workload down to what this machine (or VM) can hold.
  const FleetLimits limits = FleetLimits::OfThisMachine();
  std::vector<FleetPlan> plans;
  nlohmann::json skipped = nlohmann::json::array();
  for (const ScenarioSpec& s : wl->scenarios) {
    if (cap > 0 && s.sockets > cap) {
      skipped.push_back({{"scenario", s.Label()}, {"reason", absl::StrCat("sockets > --socket_cap ", cap)}});
      continue;
    }
    absl::StatusOr<FleetPlan> p = FleetPlan::Make(s, limits);
    if (!p.ok()) return Fail(2, absl::StrCat("workload ", path, ": ", p.status().message()));
    plans.push_back(std::move(*p));
  }
  std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) out = DefaultOutPath();

  std::vector<ApproachSlot> slots;
  std::vector<Destroyer*> supported;
  for (const auto& n : *names) {
    ApproachSlot slot{n, MakeDestroyer(n), absl::OkStatus()};
    slot.probe = slot.destroyer->Probe();
    if (slot.probe.ok()) supported.push_back(slot.destroyer.get());
    slots.push_back(std::move(slot));
  }

  RunContext rctx = RunContext::Collect();
  std::printf("sockbench %s: kernel %s, patchset %s, vm %s, workload %s (%zu scenarios), %d repetitions\n",
              rctx.sockbench_git_revision.c_str(), rctx.kernel_release.c_str(), rctx.patchset.c_str(),
              rctx.vm.c_str(), wl->name.c_str(), wl->scenarios.size(), reps);
  for (const auto& s : slots)
    if (!s.probe.ok())
      std::printf("  %s: unsupported: %s\n", s.name.c_str(), std::string(s.probe.message()).c_str());

  absl::StatusOr<ScopedCgroup> cgroup = ScopedCgroup::Create("run");
  if (!cgroup.ok()) return Fail(1, std::string(cgroup.status().message()));

  InitBenchmarkLibrary();
  CollectingReporter reporter;
  nlohmann::json memory = nlohmann::json::array();
  std::deque<BenchmarkLog> logs;  // stable addresses for the benchmarks
  for (const auto& sk : skipped)
    std::printf("scenario %s: skipped, %s\n", sk["scenario"].get<std::string>().c_str(),
                sk["reason"].get<std::string>().c_str());

  for (const FleetPlan& plan : plans) {
    const ScenarioSpec& s = plan.scenario;
    absl::StatusOr<std::unique_ptr<Scenario>> scenario =
        Scenario::Build(plan, ScenarioEnv{cgroup->path(), cgroup->fd()}, supported);
    if (!scenario.ok()) return Fail(1, std::string(scenario.status().message()));
    Scenario& sc = **scenario;
    memory.push_back({{"scenario", s.Label()}, {"workers", plan.worker_count()},
                      {"setup_seconds", sc.setup_seconds()}, {"before", sc.memory_before()},
                      {"after", sc.memory_after()}});
    std::printf("scenario %s: %d namespaces, %ld sockets (+%ld unconnected UDP senders), %d workers, built in %.2f s\n",
                s.Label().c_str(), s.namespaces, s.sockets, s.unconnected(), plan.worker_count(),
                sc.setup_seconds());
    std::fflush(stdout);  // tests and wrappers wait for this line

    for (auto& slot : slots) {
      const std::string name = absl::StrCat("destroy/", slot.name, "/", s.Label());
      const int n = slot.probe.ok() ? reps : 1;
      BenchmarkLog* log = &logs.emplace_back();
      // As the result file names it: no repeats:N (WithStableName).
      log->run_name = absl::StrCat(name, "/iterations:1/manual_time");
      log->targets = s.targets();
      log->known_defect = Approaches().Find(slot.name)->known_defect;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [&sc, &slot, log](benchmark::State& st) { TimeOne(st, sc, slot, log); })
          ->UseManualTime()
          ->Iterations(1)
          ->Repetitions(n)
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::ClearRegisteredBenchmarks();
  }

  nlohmann::json context = reporter.context();
  nlohmann::json ours = rctx.ToJson();
  for (auto& [k, v] : ours.items()) context[k] = v;
  context["workload"] = wl->name;
  context["workload_file"] = path;
  context["repetitions"] = reps;
  context["socket_memory"] = memory;
  context["skipped_scenarios"] = skipped;
  std::map<std::string, nlohmann::json> details;
  for (const BenchmarkLog& log : logs)
    if (nlohmann::json d = NotTimedDetails(log); !d.is_null()) details[log.run_name] = std::move(d);
  nlohmann::json doc = ResultDocument(std::move(context), reporter.runs(), details);
  absl::Status st = WriteJsonFile(out, doc);
  if (!st.ok()) return Fail(1, std::string(st.message()));
  int failures = PrintSummary({logs.begin(), logs.end()});
  std::printf("results: %s\n", out.c_str());
  return failures ? 1 : 0;
}

}  // namespace sockbench
