#include "harness/result_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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
  agg.time_unit = benchmark::kMillisecond;
  auto a = RunToJson(agg);
  EXPECT_EQ(a["run_type"], "aggregate");
  EXPECT_EQ(a["aggregate_unit"], "percentage");
  EXPECT_DOUBLE_EQ(a["real_time"].get<double>(), 0.05);
  EXPECT_FALSE(a.contains("repetition_index"));
  // Google Benchmark writes time_unit on every entry, the cv's included.
  EXPECT_EQ(a["time_unit"], "ms");
}

// The cv of a counter that is 0 in every repetition is 0/0: Google
// Benchmark 1.7.1 writes NaN (not JSON), nlohmann would write null.
TEST(ResultJson, CvOfAZeroCounterIsZeroNotNull) {
  benchmark::BenchmarkReporter::Run cv;
  cv.run_type = benchmark::BenchmarkReporter::Run::RT_Aggregate;
  cv.aggregate_name = "cv";
  cv.aggregate_unit = benchmark::kPercentage;
  cv.time_unit = benchmark::kMillisecond;
  cv.real_accumulated_time = 0.1;
  cv.counters["missed"] = benchmark::Counter(std::nan(""));
  cv.counters["visited"] = benchmark::Counter(0.02);
  auto j = RunToJson(cv);
  ASSERT_TRUE(j["missed"].is_number());
  EXPECT_EQ(j["missed"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["visited"].get<double>(), 0.02);
  EXPECT_EQ(j.dump().find("null"), std::string::npos) << j.dump();
}

TEST(ResultJson, NamesCarryNoRepetitionCount) {
  EXPECT_EQ(StableBenchmarkName("destroy/sock_diag/netns:4/sockets:512/targets:4x2/iterations:1/repeats:10/manual_time"),
            "destroy/sock_diag/netns:4/sockets:512/targets:4x2/iterations:1/manual_time");
  EXPECT_EQ(StableBenchmarkName("destroy/a/netns:4/iterations:1/repeats:3/manual_time_median"),
            "destroy/a/netns:4/iterations:1/manual_time_median");
  EXPECT_EQ(StableBenchmarkName("x/iterations:1/repeats:3_cv"), "x/iterations:1_cv");
  EXPECT_EQ(StableBenchmarkName("x/repeats:many/y"), "x/repeats:many/y");

  benchmark::BenchmarkReporter::Run run;
  run.run_name.function_name = "destroy/sock_diag/netns:4/sockets:512/targets:4x2";
  run.run_name.iterations = "iterations:1";
  run.run_name.repetitions = "repeats:3";
  run.run_name.time_type = "manual_time";
  run.run_type = benchmark::BenchmarkReporter::Run::RT_Aggregate;
  run.aggregate_name = "mean";
  auto j = RunToJson(WithStableName(run));
  EXPECT_EQ(j["name"], "destroy/sock_diag/netns:4/sockets:512/targets:4x2/iterations:1/manual_time_mean");
  EXPECT_EQ(j["run_name"], "destroy/sock_diag/netns:4/sockets:512/targets:4x2/iterations:1/manual_time");

  std::string approach, scenario;
  ASSERT_TRUE(ParseBenchmarkName(j["name"], &approach, &scenario));
  EXPECT_EQ(approach, "sock_diag");
  EXPECT_EQ(scenario, "netns:4/sockets:512/targets:4x2");
  EXPECT_FALSE(ParseBenchmarkName("BM_other/iterations:1", &approach, &scenario));
}

nlohmann::json Iteration(const std::string& run_name, int index, double ms, const char* error = nullptr) {
  nlohmann::json j = {{"name", run_name}, {"run_name", run_name}, {"run_type", "iteration"},
                      {"family_index", 7}, {"repetition_index", index}, {"real_time", ms},
                      {"cpu_time", ms}, {"time_unit", "ms"}};
  if (error) {
    j["error_occurred"] = true;
    j["error_message"] = error;
  }
  return j;
}

TEST(ResultJson, DocumentKeepsNotTimedBenchmarksOutOfTheTimedOnes) {
  const std::string ok = "destroy/sock_diag/netns:4/sockets:512/targets:4x2/iterations:1/manual_time";
  const std::string unsupported = "destroy/iter_all_netns/netns:4/sockets:512/targets:4x2/iterations:1/manual_time";
  const std::string failed = "destroy/iter_per_netns/netns:4/sockets:512/targets:4x2/iterations:1/manual_time";
  nlohmann::json mean = Iteration(failed, 0, 2.0);
  mean["run_type"] = "aggregate";
  mean["name"] = failed + "_mean";
  std::vector<nlohmann::json> runs = {
      Iteration(unsupported, 0, 0, "unsupported: no BTF for tcp_all_netns"),
      Iteration(failed, 0, 2.0), Iteration(failed, 1, 0, "verification failed: 7 of 8 targets destroyed"),
      Iteration(failed, 2, 2.5), mean,
      Iteration(ok, 0, 1.0), Iteration(ok, 1, 1.5)};
  nlohmann::json doc = ResultDocument({{"vm", "none"}}, runs);

  EXPECT_EQ(doc["context"]["vm"], "none");
  EXPECT_EQ(doc["context"][kSchemaVersionKey], kResultSchemaVersion);
  ASSERT_EQ(doc["benchmarks"].size(), 2u);
  for (const auto& b : doc["benchmarks"]) {
    EXPECT_EQ(b["run_name"], ok);
    EXPECT_FALSE(b.contains("error_occurred"));
    EXPECT_EQ(b["family_index"], 0);  // renumbered over the timed ones
  }
  const auto& nt = doc[kNotTimedKey];
  ASSERT_EQ(nt.size(), 2u);
  EXPECT_EQ(nt[0]["name"], unsupported);
  EXPECT_EQ(nt[0]["approach"], "iter_all_netns");
  EXPECT_EQ(nt[0]["scenario"], "netns:4/sockets:512/targets:4x2");
  EXPECT_EQ(nt[0]["status"], "unsupported");
  EXPECT_EQ(nt[0]["reason"], "unsupported: no BTF for tcp_all_netns");
  EXPECT_EQ(nt[1]["approach"], "iter_per_netns");
  EXPECT_EQ(nt[1]["status"], "failed");
  EXPECT_EQ(nt[1]["reason"], "verification failed: 7 of 8 targets destroyed");
  EXPECT_FALSE(nt[1].contains("verification"));

  // Details add fields to a not-timed entry, never replace its own.
  nlohmann::json d = ResultDocument({}, runs,
                                    {{failed, {{"verification", {{"missed", 1}}}, {"status", "ok"}}},
                                     {ok, {{"verification", {{"missed", 0}}}}}});
  ASSERT_EQ(d[kNotTimedKey].size(), 2u);
  EXPECT_EQ(d[kNotTimedKey][1]["verification"]["missed"], 1);
  EXPECT_EQ(d[kNotTimedKey][1]["status"], "failed");
  EXPECT_FALSE(d[kNotTimedKey][0].contains("verification"));
  for (const auto& b : d["benchmarks"]) EXPECT_FALSE(b.contains("verification"));
}

// A scratch directory, removed with what is left in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sockbench-json-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr) << strerror(errno);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  // Names in the directory (recursively), relative to it.
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(path_))
      out.push_back(std::filesystem::relative(e.path(), path_).string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A document of about `bytes` bytes, told apart by `tag`.
nlohmann::json Doc(const std::string& tag, size_t bytes) {
  nlohmann::json runs = nlohmann::json::array();
  for (size_t n = 0; n * 64 < bytes; ++n) runs.push_back({{"name", tag}, {"index", n}});
  return {{"context", {{"tag", tag}}}, {"benchmarks", runs}};
}

TEST(ResultJson, WriteCreatesTheDirectoryAndLeavesOnlyTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/sub/r.json";
  nlohmann::json doc = {{"context", {{"vm", "none"}}}, {"benchmarks", nlohmann::json::array()}};
  ASSERT_TRUE(WriteJsonFile(path, doc).ok());
  EXPECT_EQ(nlohmann::json::parse(ReadFile(path)), doc);
  EXPECT_EQ(dir.Entries(), (std::vector<std::string>{"sub", "sub/r.json"})) << "no temporary left";
}

// Lowers RLIMIT_FSIZE for the scope (SIGXFSZ ignored, so that a write past
// the limit fails with EFBIG instead of killing the test).
class ScopedFileSizeLimit {
 public:
  explicit ScopedFileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit l{bytes, saved_.rlim_max};
    ok_ = setrlimit(RLIMIT_FSIZE, &l) == 0;
  }
  ~ScopedFileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  sighandler_t old_handler_;
  bool ok_ = false;
};

// A write that fails part-way (the file size limit stops it after 1 KiB of
// a 4 KiB document) reports the error and leaves the previous file exactly
// as it was, with no temporary beside it.
TEST(ResultJson, AFailedWriteLeavesTheOldFileIntact) {
  TempDir dir;
  const std::string path = dir.path() + "/r.json";
  const nlohmann::json old_doc = Doc("old", 256), new_doc = Doc("new", 4096);
  ASSERT_LT(old_doc.dump(2).size() + 1, 1024u);
  ASSERT_GT(new_doc.dump(2).size(), 1024u);
  ASSERT_TRUE(WriteJsonFile(path, old_doc).ok());
  const std::string before = ReadFile(path);
  absl::Status st;
  {
    ScopedFileSizeLimit limit(1024);
    ASSERT_TRUE(limit.ok()) << strerror(errno);
    st = WriteJsonFile(path, new_doc);
  }
  EXPECT_FALSE(st.ok()) << "a write past RLIMIT_FSIZE cannot succeed";
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr(strerror(EFBIG)));
  EXPECT_EQ(ReadFile(path), before) << "the old file must survive a failed write";
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"r.json"}) << "no temporary left";
}

// A reader that opens the file while it is being rewritten sees a whole
// document, the old one or the new one, never an empty or partial file:
// one thread rewrites 1 MiB documents while another reads the file back
// and compares it with both (a byte compare, so that it reads often).
TEST(ResultJson, AReaderNeverSeesAPartialFile) {
  TempDir dir;
  const std::string path = dir.path() + "/r.json";
  const nlohmann::json a = Doc("a", 1 << 20), b = Doc("b", 1 << 20);
  const std::string text_a = a.dump(2) + "\n", text_b = b.dump(2) + "\n";
  ASSERT_TRUE(WriteJsonFile(path, a).ok());
  ASSERT_EQ(ReadFile(path), text_a) << "the file is the document, dumped with indent 2";
  constexpr int kMinWrites = 50, kMinReads = 500;
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0}, bad{0};
  std::string first_bad;
  std::thread reader([&] {
    while (writing.load()) {
      std::string text = ReadFile(path);
      if (text != text_a && text != text_b && bad++ == 0)
        first_bad = std::to_string(text.size()) + " bytes: " + text.substr(0, 80);
      reads++;
    }
  });
  // Until the reader has read often enough while writes went on; the
  // deadline only bounds a broken run.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int writes = 0;
  absl::Status st;
  while ((writes < kMinWrites || reads.load() < kMinReads) && std::chrono::steady_clock::now() < deadline) {
    st = WriteJsonFile(path, writes % 2 ? a : b);
    if (!st.ok()) break;
    ++writes;
  }
  writing = false;
  reader.join();
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_GE(writes, kMinWrites);
  EXPECT_GE(reads.load(), kMinReads);
  EXPECT_EQ(bad.load(), 0) << "of " << reads.load() << " reads during " << writes
                           << " writes, these saw neither document whole; the first: " << first_bad;
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"r.json"});
}

}  // namespace
}  // namespace sockbench
