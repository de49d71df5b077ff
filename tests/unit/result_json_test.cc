#include "harness/result_json.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace sockbench {
namespace {

TEST(ResultJson, RunHasGoogleBenchmarkFieldsAndCounters) {
  benchmark::BenchmarkReporter::Run run;
  run.run_name.function_name = "destroy/iter_per_netns/netns:4";
  run.run_type = benchmark::BenchmarkReporter::Run::RT_Iteration;
  run.repetitions = 3;
  run.repetition_index = 1;
  run.threads = 1;
  run.iterations = 1;
  run.time_unit = benchmark::kMillisecond;
  run.real_accumulated_time = 0.002;  // seconds
  run.cpu_accumulated_time = 0.001;
  run.counters["visited"] = benchmark::Counter(826);
  auto j = RunToJson(run);
  EXPECT_EQ(j["name"], "destroy/iter_per_netns/netns:4");
  EXPECT_EQ(j["run_type"], "iteration");
  EXPECT_EQ(j["repetition_index"], 1);
  EXPECT_EQ(j["time_unit"], "ms");
  EXPECT_DOUBLE_EQ(j["real_time"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["visited"].get<double>(), 826);
  EXPECT_FALSE(j.contains("error_occurred"));
}

TEST(ResultJson, ErrorAndAggregateRuns) {
  benchmark::BenchmarkReporter::Run run;
  run.run_name.function_name = "destroy/sockhash_bucket/x";
  run.error_occurred = true;
  run.error_message = "unsupported: R1 must be referenced or trusted";
  auto j = RunToJson(run);
  EXPECT_EQ(j["error_occurred"], true);
  EXPECT_EQ(j["error_message"].get<std::string>().rfind("unsupported", 0), 0u);

  benchmark::BenchmarkReporter::Run agg;
  agg.run_type = benchmark::BenchmarkReporter::Run::RT_Aggregate;
  agg.aggregate_name = "cv";
  agg.aggregate_unit = benchmark::kPercentage;
  agg.real_accumulated_time = 0.05;
  auto a = RunToJson(agg);
  EXPECT_EQ(a["run_type"], "aggregate");
  EXPECT_EQ(a["aggregate_unit"], "percentage");
  EXPECT_DOUBLE_EQ(a["real_time"].get<double>(), 0.05);
  EXPECT_FALSE(a.contains("repetition_index"));
}

TEST(ResultJson, WriteIsAtomicAndReadable) {
  char dir[] = "/tmp/sockbench-json-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/sub/r.json";
  nlohmann::json doc = {{"context", {{"vm", "none"}}}, {"benchmarks", nlohmann::json::array()}};
  ASSERT_TRUE(WriteJsonFile(path, doc).ok());
  std::ifstream in(path);
  auto back = nlohmann::json::parse(in);
  EXPECT_EQ(back, doc);
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0);
  unlink(path.c_str());
  rmdir((std::string(dir) + "/sub").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace sockbench
