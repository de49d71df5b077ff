// What Google Benchmark itself writes, for unit.consumers.result_is_google_benchmark_json
// to hold sockbench's result files against: one benchmark timed like
// sockbench's (manual time, one iteration per repetition, milliseconds).
// Run with --benchmark_repetitions=N --benchmark_format=json.
#include <benchmark/benchmark.h>

static void BM_Reference(benchmark::State& state) {
  double ms = 1.0;
  for (auto _ : state) state.SetIterationTime((ms += 0.25) / 1e3);
}
BENCHMARK(BM_Reference)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
