// `sockbench run`: for each scenario of the workload, build the fleet, then
// time every requested approach with Google Benchmark (manual time: only the
// destruction), verify every socket after every repetition, and write one
// result document.
#include <benchmark/benchmark.h>
#include <sys/utsname.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/commands.h"
#include "bench/flags.h"
#include "bench/summary.h"
#include "harness/cgroup.h"
#include "harness/context.h"
#include "harness/fleet.h"
#include "harness/fleet_plan.h"
#include "harness/progress.h"
#include "harness/registry.h"
#include "harness/result_json.h"
#include "harness/workload.h"

namespace sockbench {
namespace {

using Clock = std::chrono::steady_clock;

struct ApproachSlot {
  std::string name;
  std::unique_ptr<Destroyer> destroyer;
  std::string unsupported;  // probe's reason; empty when supported
  std::string prepare_error;
};

// State one scenario's benchmarks share.
struct ScenarioRun {
  const Scenario* scenario;
  Fleet* fleet;
  Target target;
  double setup_seconds;
  bool targets_fresh = true;  // the fleet was just built: no re-creation needed
};

void TimeOne(benchmark::State& state, ScenarioRun* run, ApproachSlot* slot) {
  if (!slot->unsupported.empty() || !slot->prepare_error.empty()) {
    std::string msg = slot->unsupported.empty() ? "prepare failed: " + slot->prepare_error
                                                : "unsupported: " + slot->unsupported;
    state.SkipWithError(msg.c_str());
    for (auto _ : state) {
    }
    return;
  }
  for (auto _ : state) {
    if (!run->targets_fresh) {
      absl::Status st = run->fleet->RecreateTargets();
      if (!st.ok()) {
        state.SkipWithError(absl::StrCat("re-creating targets: ", st.message()).c_str());
        break;
      }
    }
    run->targets_fresh = false;
    auto t0 = Clock::now();
    absl::StatusOr<DestroyStats> stats = slot->destroyer->Destroy(run->target);
    auto t1 = Clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    if (!stats.ok()) {
      state.SkipWithError(absl::StrCat("destroy failed: ", stats.status().message()).c_str());
      break;
    }
    absl::StatusOr<VerifyResult> v = run->fleet->Verify();
    if (!v.ok()) {
      state.SkipWithError(absl::StrCat("verification could not run: ", v.status().message()).c_str());
      break;
    }
    const Scenario& s = *run->scenario;
    state.counters["netns"] = s.namespaces;
    state.counters["sockets"] = static_cast<double>(s.sockets);
    state.counters["targets"] = static_cast<double>(s.targets());
    state.counters["destroyed"] = static_cast<double>(v->counts.destroyed);
    state.counters["missed"] = static_cast<double>(v->counts.missed);
    state.counters["extra"] = static_cast<double>(v->counts.extra);
    state.counters["peer_reset"] = static_cast<double>(v->counts.peer_reset);
    state.counters["visited"] = static_cast<double>(stats->visited);
    state.counters["setup_seconds"] = run->setup_seconds;
    if (!v->ok(s.targets())) {
      state.SkipWithError(absl::StrFormat("verification failed: %d of %d targets destroyed, "
                                          "%d missed, %d extra; first: %s",
                                          v->counts.destroyed, s.targets(), v->counts.missed,
                                          v->counts.extra, v->first_problem)
                              .c_str());
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

}  // namespace

int RunCommand() {
  const std::string path = absl::GetFlag(FLAGS_workload);
  if (path.empty()) {
    std::fprintf(stderr, "sockbench run: --workload FILE is required\n");
    return 2;
  }
  absl::StatusOr<Workload> wl = LoadWorkload(path);
  if (!wl.ok()) {
    std::fprintf(stderr, "sockbench run: %s\n", std::string(wl.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> names = ParseApproachList(absl::GetFlag(FLAGS_approach));
  if (!names.ok()) {
    std::fprintf(stderr, "sockbench run: %s\n", std::string(names.status().message()).c_str());
    return 2;
  }
  int reps = absl::GetFlag(FLAGS_repetitions);
  if (reps < 0) {
    std::fprintf(stderr, "sockbench run: --repetitions must be >= 1 (0 = the workload's)\n");
    return 2;
  }
  if (reps == 0) reps = wl->repetitions;
  long cap = absl::GetFlag(FLAGS_socket_cap);
  if (cap < 0) {
    std::fprintf(stderr, "sockbench run: --socket_cap must be >= 0\n");
    return 2;
  }

  // Every scenario that will run must be buildable before anything is
  // created. Scenarios over --socket_cap are not planned: a cap exists to
  // scale a workload down to what this machine (or VM) can hold.
  const FleetLimits limits = FleetLimits::OfThisMachine();
  std::vector<FleetPlan> plans;
  nlohmann::json skipped = nlohmann::json::array();
  for (const Scenario& s : wl->scenarios) {
    if (cap > 0 && s.sockets > cap) {
      skipped.push_back({{"scenario", s.Label()}, {"reason", absl::StrCat("sockets > --socket_cap ", cap)}});
      continue;
    }
    absl::StatusOr<FleetPlan> p = FleetPlan::Make(s, limits);
    if (!p.ok()) {
      std::fprintf(stderr, "sockbench run: workload %s: %s\n", path.c_str(),
                   std::string(p.status().message()).c_str());
      return 2;
    }
    plans.push_back(std::move(*p));
  }
  std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) out = DefaultOutPath();

  std::vector<ApproachSlot> slots;
  for (const auto& n : *names) {
    ApproachSlot slot{n, MakeDestroyer(n), "", ""};
    absl::Status st = slot.destroyer->Probe();
    if (!st.ok()) slot.unsupported = std::string(st.message());
    slots.push_back(std::move(slot));
  }

  RunContext rctx = RunContext::Collect();
  std::printf("sockbench %s: kernel %s, patchset %s, vm %s, workload %s (%zu scenarios), %d repetitions\n",
              rctx.sockbench_git_revision.c_str(), rctx.kernel_release.c_str(), rctx.patchset.c_str(),
              rctx.vm.c_str(), wl->name.c_str(), wl->scenarios.size(), reps);
  for (const auto& s : slots)
    if (!s.unsupported.empty()) std::printf("  %s: unsupported: %s\n", s.name.c_str(), s.unsupported.c_str());

  absl::StatusOr<ScopedCgroup> cgroup = ScopedCgroup::Create("run");
  if (!cgroup.ok()) {
    std::fprintf(stderr, "sockbench run: %s\n", std::string(cgroup.status().message()).c_str());
    return 1;
  }

  InitBenchmarkLibrary();
  CollectingReporter reporter;
  nlohmann::json memory = nlohmann::json::array();
  int failures = 0;
  for (const auto& sk : skipped)
    std::printf("scenario %s: skipped, %s\n", sk["scenario"].get<std::string>().c_str(),
                sk["reason"].get<std::string>().c_str());

  for (const FleetPlan& plan : plans) {
    const Scenario& s = plan.scenario;
    auto mem_before = SocketMemory();
    auto t0 = Clock::now();
    absl::StatusOr<NetnsSet> netns;
    {
      Progress p(absl::StrCat("namespaces for ", s.Label()));
      static Progress* current;
      current = &p;
      netns = NetnsSet::Create(s.namespaces, plan.netns_options(),
                               [](int d, int t) { current->Update(d, t); });
    }
    if (!netns.ok()) {
      std::fprintf(stderr, "sockbench run: %s\n", std::string(netns.status().message()).c_str());
      return 1;
    }
    PrepareEnv env{&*netns, cgroup->fd()};
    for (auto& slot : slots) {
      slot.prepare_error.clear();
      if (!slot.unsupported.empty()) continue;
      absl::Status st = slot.destroyer->Prepare(env);
      if (!st.ok()) slot.prepare_error = std::string(st.message());
    }
    absl::StatusOr<std::unique_ptr<Fleet>> fleet;
    {
      Progress p(absl::StrCat("sockets for ", s.Label()));
      fleet = Fleet::Build(plan, *netns, cgroup->path(),
                           [&p](long d, long t) { p.Update(d, t); });
    }
    if (!fleet.ok()) {
      std::fprintf(stderr, "sockbench run: building the fleet for %s: %s\n", s.Label().c_str(),
                   std::string(fleet.status().message()).c_str());
      return 1;
    }
    double setup = std::chrono::duration<double>(Clock::now() - t0).count();
    auto mem_after = SocketMemory();
    memory.push_back({{"scenario", s.Label()}, {"workers", plan.worker_count()},
                      {"setup_seconds", setup}, {"before", mem_before}, {"after", mem_after}});
    std::printf("scenario %s: %d namespaces, %ld sockets, %d workers, built in %.2f s\n",
                s.Label().c_str(), s.namespaces, s.sockets, plan.worker_count(), setup);
    std::fflush(stdout);  // tests and wrappers wait for this line

    ScenarioRun run{&s, fleet->get(), (*fleet)->DyingBackend(*netns), setup};
    for (auto& slot : slots) {
      benchmark::RegisterBenchmark(absl::StrCat("destroy/", slot.name, "/", s.Label()).c_str(),
                                   [&run, &slot](benchmark::State& st) { TimeOne(st, &run, &slot); })
          ->UseManualTime()
          ->Iterations(1)
          ->Repetitions(slot.unsupported.empty() ? reps : 1)
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::ClearRegisteredBenchmarks();
    for (auto& slot : slots) slot.destroyer->Release();
  }

  nlohmann::json context = reporter.context();
  nlohmann::json ours = rctx.ToJson();
  for (auto& [k, v] : ours.items()) context[k] = v;
  context["workload"] = wl->name;
  context["workload_file"] = path;
  context["repetitions"] = reps;
  context["socket_memory"] = memory;
  context["skipped_scenarios"] = skipped;
  nlohmann::json doc = {{"context", context}, {"benchmarks", reporter.runs()}};
  absl::Status st = WriteJsonFile(out, doc);
  if (!st.ok()) {
    std::fprintf(stderr, "sockbench run: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  failures = PrintSummary(doc);
  std::printf("results: %s\n", out.c_str());
  return failures ? 1 : 0;
}

}  // namespace sockbench
