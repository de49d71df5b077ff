#include "harness/result_file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "harness/result_json.h"

namespace sockbench {
namespace {

using json = nlohmann::json;

const std::string kSource = SOCKBENCH_SOURCE_DIR;
const std::string kScenario = "netns:4/sockets:512/targets:4x2";

std::string Name(const std::string& approach) {
  return "destroy/" + approach + "/" + kScenario + "/iterations:1/manual_time";
}

// A committed version 1 file (results/, written before the schema version):
// unsupported approaches as error_occurred runs, names with repeats:N.
TEST(ResultFile, ReadsVersion1) {
  absl::StatusOr<ResultFile> r = ReadResultFile(kSource + "/results/smoke-host-6.18.json");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->schema_version, 1);
  EXPECT_EQ(r->context["workload"], "smoke");
  ASSERT_EQ(r->timed.size(), 2u);
  EXPECT_EQ(r->timed[0].name, Name("sock_diag"));  // repeats:3 dropped
  EXPECT_EQ(r->timed[0].approach, "sock_diag");
  EXPECT_EQ(r->timed[0].scenario, kScenario);
  EXPECT_EQ(r->timed[0].ms.size(), 3u);  // the repetitions, not the aggregates
  EXPECT_EQ(r->timed[1].approach, "iter_per_netns");
  ASSERT_EQ(r->not_timed.size(), 4u);
  for (const NotTimedBenchmark& n : r->not_timed) {
    EXPECT_EQ(n.status, "unsupported") << n.name;
    EXPECT_EQ(n.reason.rfind("unsupported: ", 0), 0u) << n.reason;
    EXPECT_EQ(n.name.find("repeats:"), std::string::npos) << n.name;
  }
}

// Every committed result of `sockbench run` reads, nothing timed twice.
TEST(ResultFile, ReadsEveryCommittedRunResult) {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(kSource + "/results")) {
    std::ifstream in(e.path());
    json doc = json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.contains("benchmarks")) continue;  // leak and price results
    absl::StatusOr<ResultFile> r = ReadResultFile(e.path());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->timed.empty()) << e.path();
    for (const TimedBenchmark& t : r->timed) {
      EXPECT_FALSE(t.ms.empty()) << t.name;
      for (const NotTimedBenchmark& n : r->not_timed) EXPECT_NE(t.name, n.name);
    }
    ++files;
  }
  EXPECT_GE(files, 10);
}

json Rep(const std::string& name, int index, double real_time, const char* unit = "ms") {
  return {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetition_index", index},
          {"real_time", real_time}, {"cpu_time", real_time}, {"time_unit", unit}};
}

TEST(ResultFile, ReadsVersion2AsWritten) {
  json failed = Rep(Name("iter_per_netns"), 1, 0);
  failed["error_occurred"] = true;
  failed["error_message"] = "verification failed: 7 of 8";
  json unsupported = Rep(Name("iter_all_netns"), 0, 0);
  unsupported["error_occurred"] = true;
  unsupported["error_message"] = "unsupported: no BTF";
  json mean = Rep(Name("sock_diag"), 0, 99);
  mean["run_type"] = "aggregate";
  mean["name"] = Name("sock_diag") + "_mean";
  json doc = ResultDocument({{"workload", "smoke"}},
                            {Rep(Name("sock_diag"), 0, 2000, "us"), Rep(Name("sock_diag"), 1, 1.0),
                             Rep(Name("sock_diag"), 2, 0.004, "s"), mean, unsupported,
                             Rep(Name("iter_per_netns"), 0, 3), failed});
  absl::StatusOr<ResultFile> r = ParseResultFile(doc);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->schema_version, 2);
  ASSERT_EQ(r->timed.size(), 1u);
  EXPECT_EQ(r->timed[0].name, Name("sock_diag"));
  ASSERT_EQ(r->timed[0].ms.size(), 3u);
  EXPECT_DOUBLE_EQ(r->timed[0].median_ms(), 2.0);
  EXPECT_DOUBLE_EQ(r->timed[0].min_ms(), 1.0);
  EXPECT_DOUBLE_EQ(r->timed[0].max_ms(), 4.0);
  EXPECT_DOUBLE_EQ(r->timed[0].stddev_ms(), std::sqrt(7.0 / 3.0));
  ASSERT_EQ(r->not_timed.size(), 2u);
  EXPECT_EQ(r->not_timed[0].approach, "iter_all_netns");
  EXPECT_EQ(r->not_timed[0].status, "unsupported");
  EXPECT_EQ(r->not_timed[1].approach, "iter_per_netns");
  EXPECT_EQ(r->not_timed[1].status, "failed");
  EXPECT_EQ(r->not_timed[1].reason, "verification failed: 7 of 8");
}

std::string ErrorOf(const json& doc) {
  absl::StatusOr<ResultFile> r = ParseResultFile(doc);
  return r.ok() ? "ok" : std::string(r.status().message());
}

TEST(ResultFile, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(json::array()), "the document must be a JSON object");
  EXPECT_EQ(ErrorOf({{"context", json::object()}}), "benchmarks is missing (not a sockbench run result?)");
  EXPECT_EQ(ErrorOf({{"benchmarks", 3}}), "benchmarks must be an array");
  json no_time = Rep(Name("sock_diag"), 0, 1);
  no_time.erase("real_time");
  EXPECT_EQ(ErrorOf({{"benchmarks", {Rep(Name("sock_diag"), 0, 1), no_time}}}),
            "benchmarks[1].real_time must be a number");
  EXPECT_EQ(ErrorOf({{"benchmarks", {Rep(Name("sock_diag"), 0, 1, "min")}}}),
            "benchmarks[0].time_unit must be one of ns, us, ms, s (is 'min')");
  EXPECT_EQ(ErrorOf({{"benchmarks", {Rep("BM_Foo/iterations:1", 0, 1)}}}),
            "benchmarks[0].name 'BM_Foo/iterations:1' is not a sockbench benchmark (destroy/<approach>/<scenario>/...)");
  EXPECT_EQ(ErrorOf({{"context", {{kSchemaVersionKey, 99}}}, {"benchmarks", json::array()}}),
            "context.sockbench_json_schema_version is 99: newer than this sockbench reads (2)");
  EXPECT_EQ(ErrorOf({{"benchmarks", json::array()},
                     {kNotTimedKey, {{{"name", "n"}, {"approach", "a"}, {"scenario", "s"}, {"status", "gone"},
                                      {"reason", "r"}}}}}),
            "sockbench_not_timed[0].status must be \"unsupported\" or \"failed\" (is 'gone')");
  EXPECT_EQ(ErrorOf({{"benchmarks", json::array()}, {kNotTimedKey, {{{"name", "n"}}}}}),
            "sockbench_not_timed[0].approach is missing");
}

TEST(ResultFile, FileErrorsNameThePath) {
  absl::StatusOr<ResultFile> r = ReadResultFile("/nonexistent/r.json");
  EXPECT_EQ(r.status().message(), "/nonexistent/r.json: cannot open file");
  char path[] = "/tmp/sockbench-rf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "{\"benchmarks\": [", 16), 16);
  close(fd);
  r = ReadResultFile(path);
  EXPECT_EQ(std::string(r.status().message()).rfind(std::string(path) + ": not valid JSON: parse error", 0), 0u)
      << r.status();
  unlink(path);
}

}  // namespace
}  // namespace sockbench
