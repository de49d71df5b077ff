#include "harness/workload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sockbench {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Workload> Parse(const std::string& s) { return ParseWorkload(s, "t.json"); }

constexpr char kMinimal[] =
    R"({"name":"w","namespaces":4,"sockets":100,"targets":{"per_netns":2}})";

TEST(Workload, MinimalGetsDefaults) {
  auto w = Parse(kMinimal);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->name, "w");
  EXPECT_EQ(w->repetitions, 5);
  ASSERT_EQ(w->scenarios.size(), 1u);
  const ScenarioSpec& s = w->scenarios[0];
  EXPECT_EQ(s.namespaces, 4);
  EXPECT_EQ(s.sockets, 100);
  EXPECT_EQ(s.targets_per_netns, 2);
  EXPECT_EQ(s.target_namespaces, 4);  // "all" by default
  EXPECT_EQ(s.targets(), 8);
  EXPECT_EQ(s.backends, 4);
  EXPECT_EQ(s.Label(), "netns:4/sockets:100/targets:2x4");
}

TEST(Workload, SweepExpandsToTheCartesianProductInOrder) {
  auto w = Parse(R"({"name":"s","namespaces":[1,16],"sockets":[100,1000,10000],
                     "targets":{"per_netns":1,"namespaces":1}})");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->scenarios.size(), 6u);
  EXPECT_EQ(w->scenarios[0].namespaces, 1);
  EXPECT_EQ(w->scenarios[0].sockets, 100);
  EXPECT_EQ(w->scenarios[2].sockets, 10000);
  EXPECT_EQ(w->scenarios[3].namespaces, 16);
  EXPECT_EQ(w->scenarios[5].target_namespaces, 1);
}

TEST(Workload, MixKeepsOnlyNamedKinds) {
  auto w = Parse(R"({"name":"m","namespaces":1,"sockets":10,"mix":{"udp_ipv4":3},
                     "targets":{"per_netns":1}})");
  ASSERT_TRUE(w.ok()) << w.status();
  auto mix = w->scenarios[0].mix;
  EXPECT_EQ(mix[0], 0);
  EXPECT_EQ(mix[1], 0);
  EXPECT_EQ(mix[2], 3);
  EXPECT_EQ(mix[3], 0);
}

struct BadCase {
  const char* json;
  const char* field;  // the error must name this field
};

class WorkloadErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(WorkloadErrors, OneErrorNamingTheField) {
  auto w = Parse(GetParam().json);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(w.status().message()), HasSubstr(GetParam().field));
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("t.json"));
}

INSTANTIATE_TEST_SUITE_P(
    All, WorkloadErrors,
    ::testing::Values(
        BadCase{"[1,2]", "must be a JSON object"},
        BadCase{"{not json", "not valid JSON"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"targets":{"per_netns":2},"colour":1})",
                "'colour'"},
        BadCase{R"({"namespaces":4,"sockets":100,"targets":{"per_netns":2}})", "'name'"},
        BadCase{R"({"name":"w","namespaces":0,"sockets":100,"targets":{"per_netns":2}})",
                "'namespaces'"},
        BadCase{R"({"name":"w","namespaces":"4","sockets":100,"targets":{"per_netns":2}})",
                "'namespaces'"},
        BadCase{R"({"name":"w","namespaces":[],"sockets":100,"targets":{"per_netns":2}})",
                "'namespaces'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":[10,-1],"targets":{"per_netns":2}})",
                "'sockets'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"targets":{"per_ns":2}})",
                "'targets.per_ns'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"targets":{"per_netns":2,"namespaces":9}})",
                "'targets.namespaces'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"targets":{"per_netns":2,"namespaces":"some"}})",
                "'targets.namespaces'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":7,"targets":{"per_netns":2}})",
                "'targets.per_netns'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"mix":{"sctp":1},"targets":{"per_netns":2}})",
                "'mix.sctp'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"mix":{"udp_ipv4":-1},"targets":{"per_netns":2}})",
                "'mix.udp_ipv4'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"mix":{"udp_ipv4":0},"targets":{"per_netns":2}})",
                "'mix'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"backends":1,"targets":{"per_netns":2}})",
                "'backends'"},
        BadCase{R"({"name":"w","namespaces":4,"sockets":100,"repetitions":0,"targets":{"per_netns":2}})",
                "'repetitions'"},
        BadCase{R"({"name":"a b","namespaces":4,"sockets":100,"targets":{"per_netns":2}})",
                "'name'"}));

TEST(Workload, MissingFileIsNotFound) {
  auto w = LoadWorkload("/nonexistent/w.json");
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("/nonexistent/w.json"));
}

TEST(Workload, ShippedWorkloadsParse) {
  for (const char* f : {"smoke.json", "default.json", "rfc-sweep.json", "netns-sweep.json"}) {
    auto w = LoadWorkload(std::string(SOCKBENCH_SOURCE_DIR "/workloads/") + f);
    EXPECT_TRUE(w.ok()) << f << ": " << w.status();
  }
}

}  // namespace
}  // namespace sockbench
