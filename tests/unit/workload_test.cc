#include "harness/workload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <string>

#include "nlohmann/json.hpp"

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
  EXPECT_EQ(s.unconnected(), 0);  // a file without the field has no senders
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
        BadCase{"{not json", "not valid JSON at line 1, column 3"},
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

// "not valid JSON" says where: line and column of the byte the parser
// stopped at (its last byte read), and what it expected.
struct SyntaxCase {
  const char* json;
  const char* where;  // "line L, column C"
  const char* why;    // part of the parser's explanation
};

class WorkloadSyntax : public ::testing::TestWithParam<SyntaxCase> {};

TEST_P(WorkloadSyntax, ErrorNamesLineAndColumn) {
  auto w = Parse(GetParam().json);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(w.status().message());
  EXPECT_THAT(msg, HasSubstr(std::string("workload t.json: not valid JSON at ") + GetParam().where + ": "));
  EXPECT_THAT(msg, HasSubstr(GetParam().why));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("json.exception"))) << "the library's prefix is left out";
}

INSTANTIATE_TEST_SUITE_P(
    All, WorkloadSyntax,
    ::testing::Values(
        SyntaxCase{"{not json", "line 1, column 3", "invalid literal; last read: '{no'"},
        SyntaxCase{"", "line 1, column 1", "unexpected end of input"},
        // The third line's "100" where ':' belongs.
        SyntaxCase{"{\n  \"name\": \"w\",\n  \"sockets\" 100\n}", "line 3, column 15", "expected ':'"},
        SyntaxCase{"{\"name\": \"w\",\n \"namespaces\": 4,}", "line 2, column 18", "expected string literal"},
        SyntaxCase{"{\"name\": \"w\"} x", "line 1, column 15", "expected end of input"},
        SyntaxCase{"{\"name\": \"w\",\n\n  \"sockets\": 1e400}", "line 3, column 14", "number overflow"}));

// Every field's bad values, each refused with one error naming the field:
// missing (required fields), wrong type, out of range, a float where an
// integer belongs. Each case changes one field of an otherwise valid
// workload that sets every field.
constexpr char kFull[] = R"({"name":"w","description":"d","namespaces":4,"sockets":100,
  "mix":{"tcp_ipv4":1,"tcp_ipv6":1,"udp_ipv4":1,"udp_ipv6":1},"backends":4,
  "targets":{"per_netns":2,"namespaces":2},"unconnected_senders":3,"repetitions":3,
  "churn":{"opens_per_second":100,"max_open":8,"sending_share":0.5}})";
constexpr char kMissing[] = "<missing>";

struct FieldCase {
  const char* field;  // dotted path: "targets.per_netns"
  const char* value;  // JSON text, or kMissing to remove the field
  // What the error quotes after "got ": nullptr for the value itself, ""
  // for nothing (unknown or missing fields, checks across fields, empty
  // lists); a sweep's bad element.
  const char* quoted = nullptr;
};

std::string WithField(const FieldCase& c) {
  nlohmann::json doc = nlohmann::json::parse(kFull);
  std::string path = c.field;
  nlohmann::json* obj = &doc;
  for (size_t dot; (dot = path.find('.')) != std::string::npos; path = path.substr(dot + 1))
    obj = &(*obj)[path.substr(0, dot)];
  if (std::string(c.value) == kMissing)
    obj->erase(path);
  else
    (*obj)[path] = nlohmann::json::parse(c.value);
  return doc.dump();
}

std::string CaseName(const ::testing::TestParamInfo<FieldCase>& info) {
  std::string name = std::to_string(info.index) + "_";
  for (const char* p = info.param.field; *p; ++p) name += isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return name;
}

TEST(Workload, EveryFieldSetParses) {
  auto w = Parse(kFull);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->repetitions, 3);
  EXPECT_EQ(w->scenarios.at(0).target_namespaces, 2);
  EXPECT_EQ(w->scenarios.at(0).unconnected_per_netns, 3);
  EXPECT_EQ(w->scenarios.at(0).unconnected(), 6);  // in each of the 2 target namespaces
  EXPECT_EQ(w->scenarios.at(0).churn.opens_per_second, 100);
  EXPECT_EQ(w->scenarios.at(0).churn.max_open, 8);
  EXPECT_EQ(w->scenarios.at(0).churn.sending_share, 0.5);
}

class WorkloadFieldErrors : public ::testing::TestWithParam<FieldCase> {};

TEST_P(WorkloadFieldErrors, ErrorNamesTheField) {
  const std::string text = WithField(GetParam());
  auto w = Parse(text);
  ASSERT_FALSE(w.ok()) << text;
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << w.status();
  EXPECT_THAT(std::string(w.status().message()),
              HasSubstr(std::string("workload t.json: field '") + GetParam().field + "'"))
      << text;
  if (std::string(GetParam().value) == kMissing) {
    EXPECT_THAT(std::string(w.status().message()), HasSubstr("required field is missing"));
    return;
  }
  std::string quoted =
      GetParam().quoted ? GetParam().quoted : nlohmann::json::parse(GetParam().value).dump();
  if (!quoted.empty()) {
    EXPECT_THAT(std::string(w.status().message()), HasSubstr("; got " + quoted)) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Missing, WorkloadFieldErrors,
    ::testing::Values(FieldCase{"name", kMissing}, FieldCase{"namespaces", kMissing},
                      FieldCase{"sockets", kMissing}, FieldCase{"targets", kMissing},
                      FieldCase{"targets.per_netns", kMissing}, FieldCase{"churn.opens_per_second", kMissing}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    WrongType, WorkloadFieldErrors,
    ::testing::Values(
        FieldCase{"name", "5"}, FieldCase{"name", "true"}, FieldCase{"name", "null"},
        FieldCase{"name", "[\"w\"]"}, FieldCase{"name", "{}"},
        FieldCase{"description", "5"}, FieldCase{"description", "null"}, FieldCase{"description", "[]"},
        FieldCase{"namespaces", "\"4\""}, FieldCase{"namespaces", "true"}, FieldCase{"namespaces", "null"},
        FieldCase{"namespaces", "{}"}, FieldCase{"namespaces", "[]", ""}, FieldCase{"namespaces", "[1,\"2\"]", "\"2\""},
        FieldCase{"namespaces", "[1,[2]]", "[2]"},
        FieldCase{"sockets", "\"100\""}, FieldCase{"sockets", "false"}, FieldCase{"sockets", "null"},
        FieldCase{"sockets", "{\"n\":100}"}, FieldCase{"sockets", "[]", ""}, FieldCase{"sockets", "[100,null]", "null"},
        FieldCase{"mix", "[1,1,1,1]"}, FieldCase{"mix", "\"tcp_ipv4\""}, FieldCase{"mix", "1"},
        FieldCase{"mix", "null"}, FieldCase{"mix", "{}"},
        FieldCase{"mix.tcp_ipv4", "\"1\""}, FieldCase{"mix.tcp_ipv6", "null"},
        FieldCase{"mix.udp_ipv4", "true"}, FieldCase{"mix.udp_ipv6", "[1]"}, FieldCase{"mix.sctp", "1", ""},
        FieldCase{"backends", "\"4\""}, FieldCase{"backends", "null"}, FieldCase{"backends", "[4,8]"},
        FieldCase{"targets", "2"}, FieldCase{"targets", "[2]"}, FieldCase{"targets", "\"all\""},
        FieldCase{"targets", "null"}, FieldCase{"targets.per_ns", "2", ""},
        FieldCase{"targets.per_netns", "\"2\""}, FieldCase{"targets.per_netns", "null"},
        FieldCase{"targets.per_netns", "[]", ""}, FieldCase{"targets.per_netns", "[2,\"3\"]", "\"3\""},
        FieldCase{"targets.namespaces", "\"some\""}, FieldCase{"targets.namespaces", "true"},
        FieldCase{"targets.namespaces", "null"}, FieldCase{"targets.namespaces", "[]", ""},
        FieldCase{"targets.namespaces", "{}"},
        FieldCase{"repetitions", "\"3\""}, FieldCase{"repetitions", "null"},
        FieldCase{"repetitions", "[3]"}, FieldCase{"colour", "1", ""},
        FieldCase{"unconnected_senders", "\"2\""}, FieldCase{"unconnected_senders", "null"},
        FieldCase{"unconnected_senders", "[2]"},
        FieldCase{"churn", "1"}, FieldCase{"churn", "[]"}, FieldCase{"churn", "null"},
        FieldCase{"churn.rate", "1", ""},
        FieldCase{"churn.opens_per_second", "\"100\""}, FieldCase{"churn.max_open", "null"},
        FieldCase{"churn.sending_share", "\"half\""}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    OutOfRange, WorkloadFieldErrors,
    ::testing::Values(
        FieldCase{"name", "\"\""}, FieldCase{"name", "\"a b\""}, FieldCase{"name", "\"w/x\""},
        FieldCase{"namespaces", "0"}, FieldCase{"namespaces", "-1"}, FieldCase{"namespaces", "8193"},
        FieldCase{"namespaces", "[1,8193]", "8193"}, FieldCase{"namespaces", "9223372036854775808"},
        FieldCase{"sockets", "0"}, FieldCase{"sockets", "4000001"}, FieldCase{"sockets", "[100,0]", "0"},
        FieldCase{"sockets", "18446744073709551615"},
        FieldCase{"mix.tcp_ipv4", "-1"}, FieldCase{"mix.udp_ipv6", "-0.5"},
        FieldCase{"mix", "{\"tcp_ipv4\":0,\"udp_ipv4\":0}", ""},
        FieldCase{"backends", "0"}, FieldCase{"backends", "1", ""}, FieldCase{"backends", "1001"},
        FieldCase{"backends", "-4"},
        FieldCase{"targets.per_netns", "0"}, FieldCase{"targets.per_netns", "4000001"},
        FieldCase{"targets.per_netns", "51", ""},  // 51 x 2 namespaces > 100 sockets
        FieldCase{"targets.namespaces", "0"}, FieldCase{"targets.namespaces", "5", ""},  // > 4 namespaces
        FieldCase{"targets.namespaces", "8193"}, FieldCase{"targets.namespaces", "[1,0]", "0"},
        FieldCase{"repetitions", "0"}, FieldCase{"repetitions", "10001"}, FieldCase{"repetitions", "-3"},
        FieldCase{"unconnected_senders", "-1"}, FieldCase{"unconnected_senders", "4000001"},
        FieldCase{"churn.opens_per_second", "0"}, FieldCase{"churn.opens_per_second", "100001"},
        FieldCase{"churn.max_open", "0"}, FieldCase{"churn.max_open", "10001"},
        FieldCase{"churn.sending_share", "-0.1"}, FieldCase{"churn.sending_share", "1.5"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    FloatForInt, WorkloadFieldErrors,
    ::testing::Values(FieldCase{"namespaces", "4.5"}, FieldCase{"namespaces", "4.0"},
                      FieldCase{"namespaces", "[1,2.5]", "2.5"}, FieldCase{"sockets", "100.5"},
                      FieldCase{"sockets", "1e2"}, FieldCase{"sockets", "99999999999999999999"},
                      FieldCase{"backends", "2.5"}, FieldCase{"backends", "4.0"},
                      FieldCase{"targets.per_netns", "2.5"}, FieldCase{"targets.per_netns", "[1,1.5]", "1.5"},
                      FieldCase{"targets.namespaces", "1.5"}, FieldCase{"repetitions", "3.0"},
                      FieldCase{"unconnected_senders", "1.5"}, FieldCase{"churn.opens_per_second", "10.5"},
                      FieldCase{"churn.max_open", "8.0"}),
    CaseName);

// Optional fields may be left out: the defaults apply, nothing is refused.
TEST(Workload, OptionalFieldsMayBeMissing) {
  for (const char* f : {"description", "mix", "backends", "repetitions", "targets.namespaces",
                        "mix.tcp_ipv4", "unconnected_senders", "churn", "churn.max_open",
                        "churn.sending_share"}) {
    auto w = Parse(WithField({f, kMissing}));
    EXPECT_TRUE(w.ok()) << f << ": " << w.status();
  }
}

TEST(Workload, MissingFileIsNotFoundAndNamesThePath) {
  char dir[] = "/tmp/sockbench-workload-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/absent.json";
  auto w = LoadWorkload(path);
  rmdir(dir);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kNotFound) << w.status();
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("workload " + path + ": "));
  // A file that exists but cannot be read is a different error.
  auto d = LoadWorkload("/");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().code(), absl::StatusCode::kNotFound) << d.status();
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("workload /: "));
}

TEST(Workload, ShippedWorkloadsParse) {
  for (const char* f : {"smoke.json", "default.json", "rfc-sweep.json", "netns-sweep.json"}) {
    auto w = LoadWorkload(std::string(SOCKBENCH_SOURCE_DIR "/workloads/") + f);
    ASSERT_TRUE(w.ok()) << f << ": " << w.status();
    // Every shipped fleet holds unconnected UDP senders of the dying
    // backend: every approach is checked against cilium#48564.
    for (const ScenarioSpec& s : w->scenarios) EXPECT_GT(s.unconnected(), 0) << f;
  }
}

}  // namespace
}  // namespace sockbench
