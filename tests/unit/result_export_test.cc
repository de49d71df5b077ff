#include "harness/result_export.h"

#include <gtest/gtest.h>

namespace sockbench {
namespace {

ResultFile TwoApproaches() {
  ResultFile r;
  r.context = {{"kernel_release", "6.18.44"}, {"vm", "none"}, {"patchset", "none"}};
  r.timed.push_back({"destroy/sock_diag/netns:4/iterations:1/manual_time", "sock_diag", "netns:4", {3.0, 1.0, 2.0, 10.0}});
  r.timed.push_back({"destroy/iter_per_netns/netns:4/iterations:1/manual_time", "iter_per_netns", "netns:4", {0.5}});
  r.not_timed.push_back({"destroy/iter_all_netns/netns:4/iterations:1/manual_time", "iter_all_netns", "netns:4",
                         "unsupported", "unsupported: no BTF"});
  return r;
}

TEST(ResultExport, BencherMetricFormatIsTheMedianWithMinAndMaxInNanoseconds) {
  nlohmann::json bmf = ToBencherMetricFormat(TwoApproaches());
  ASSERT_EQ(bmf.size(), 2u);  // the unsupported one left out
  const auto& m = bmf["destroy/sock_diag/netns:4/iterations:1/manual_time"]["latency"];
  EXPECT_DOUBLE_EQ(m["value"].get<double>(), 2.5e6);
  EXPECT_DOUBLE_EQ(m["lower_value"].get<double>(), 1e6);
  EXPECT_DOUBLE_EQ(m["upper_value"].get<double>(), 10e6);
  EXPECT_DOUBLE_EQ(bmf["destroy/iter_per_netns/netns:4/iterations:1/manual_time"]["latency"]["value"].get<double>(),
                   0.5e6);
  EXPECT_FALSE(bmf.contains("destroy/iter_all_netns/netns:4/iterations:1/manual_time"));
}

TEST(ResultExport, GithubActionBenchmarkHasOneEntryPerApproachAndScenario) {
  nlohmann::json gab = ToGithubActionBenchmark(TwoApproaches());
  ASSERT_TRUE(gab.is_array());
  ASSERT_EQ(gab.size(), 2u);
  EXPECT_EQ(gab[0]["name"], "destroy/sock_diag/netns:4/iterations:1/manual_time");
  EXPECT_EQ(gab[0]["unit"], "ms");
  EXPECT_DOUBLE_EQ(gab[0]["value"].get<double>(), 2.5);
  EXPECT_EQ(gab[0]["range"], "± 4.082");  // sample stddev of 1, 2, 3, 10: sqrt(50 / 3)
  EXPECT_EQ(gab[0]["extra"], "median of 4 repetitions, min 1 ms, max 10 ms\nkernel 6.18.44, vm none, patchset none");
  EXPECT_EQ(gab[1]["range"], "± 0");
}

TEST(ResultExport, UnknownFormatNamesTheFlag) {
  absl::StatusOr<nlohmann::json> r = ExportResult(TwoApproaches(), "csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()).rfind("--format must be bmf", 0), 0u) << r.status();
  EXPECT_TRUE(ExportResult(TwoApproaches(), "bmf").ok());
  EXPECT_TRUE(ExportResult(TwoApproaches(), "gab").ok());
}

}  // namespace
}  // namespace sockbench
