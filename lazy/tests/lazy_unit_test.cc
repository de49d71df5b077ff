// The lazy runner's pure parts: its registry is the README's table, its
// workload files parse (and a bad one gets one error naming the field), and
// the client plan splits sockets as documented.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "lazy/registry.h"
#include "lazy/workload.h"

namespace sockbench {
namespace {

std::vector<std::string> ReadmeLazyRows() {
  std::ifstream in(SOCKBENCH_SOURCE_DIR "/README.md");
  std::vector<std::string> rows;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| lazy approach |", 0) == 0) {
      in_table = true;
      std::getline(in, line);
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') break;
    rows.push_back(line);
  }
  return rows;
}

TEST(LazyRegistry, TheReadmeTableIsTheRegistry) {
  std::vector<std::string> want;
  for (const LazyApproachInfo& a : LazyApproaches().rows())
    want.push_back("| `" + a.name + "` | " + a.description + " | " + a.kernel + " |");
  EXPECT_EQ(ReadmeLazyRows(), want) << "README.md's lazy approach table and lazy/registry.cc differ";
}

TEST(LazyRegistry, EveryRowMakesItsApproachAndListsParse) {
  for (const LazyApproachInfo& a : LazyApproaches().rows()) EXPECT_EQ(a.make()->name(), a.name);
  auto all = ParseLazyRowList("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->front(), "none");
  EXPECT_TRUE(ParseLazyRowList("rto_timeout,sock_diag").ok());
  auto bad = ParseLazyRowList("rto_timeout,rto_timout");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'rto_timout'"), std::string::npos) << bad.status();
}

TEST(LazyWorkload, ShippedFilesParse) {
  for (const char* f : {"lazy.json", "lazy-interval-sweep.json", "lazy-smoke.json", "lazy-ratelimit.json"}) {
    auto w = LoadLazyWorkload(std::string(SOCKBENCH_SOURCE_DIR "/workloads/") + f);
    ASSERT_TRUE(w.ok()) << f << ": " << w.status();
    EXPECT_FALSE(w->scenarios.empty()) << f;
  }
  auto sweep = LoadLazyWorkload(SOCKBENCH_SOURCE_DIR "/workloads/lazy-interval-sweep.json");
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->scenarios.size(), 4u);
}

// One error, naming the field and the value.
void ExpectError(const std::string& text, const std::string& field, const std::string& value) {
  auto w = ParseLazyWorkload(text, "x.json");
  ASSERT_FALSE(w.ok()) << text;
  std::string m(w.status().message());
  EXPECT_NE(m.find("workload x.json: field '" + field + "'"), std::string::npos) << m;
  EXPECT_NE(m.find(value), std::string::npos) << m;
}

TEST(LazyWorkload, BadInputNamesTheField) {
  ExpectError(R"({"pods": 2})", "name", "nothing");
  ExpectError(R"({"name": "x", "send_interval_ms": 2.5})", "send_interval_ms", "got 2.5");
  ExpectError(R"({"name": "x", "send_interval_ms": []})", "send_interval_ms", "got []");
  ExpectError(R"({"name": "x", "send_intervall_ms": 10})", "send_intervall_ms", "unknown field");
  ExpectError(R"({"name": "x", "icmp": "net-unreachable"})", "icmp", "got \"net-unreachable\"");
  ExpectError(R"({"name": "x", "icmp_ratelimit_ms": -3})", "icmp_ratelimit_ms", "got -3");
  ExpectError(R"({"name": "x", "roles": {"active": 1, "sleepy": 1}})", "roles.sleepy", "unknown field");
  ExpectError(R"({"name": "x", "roles": {"active": -1}})", "roles.active", "got -1");
  ExpectError(R"({"name": "x", "mix": {"udp_ipv4": 0}})", "mix", "weight > 0");
  ExpectError(R"({"name": "x", "sockets_per_pod": 10, "targets_per_pod": 11})", "targets_per_pod", "got 11");
  ExpectError(R"({"name": "x", "deadline_ms": 5000, "observe_ms": 4000})", "deadline_ms", "got 5000");
  auto w = ParseLazyWorkload("{", "x.json");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(std::string(w.status().message()).find("not valid JSON"), std::string::npos);
}

TEST(LazyWorkload, ClientsFollowTheMixAndTheRoles) {
  auto w = ParseLazyWorkload(
      R"({"name": "x", "pods": 2, "sockets_per_pod": 40, "targets_per_pod": 20, "backends": 3,
          "roles": {"active": 2, "idle": 1, "receive_only": 1}, "unconnected_senders": 2})",
      "x.json");
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<ClientSpec> c = LazyClients(w->scenarios[0]);
  long targets = 0, live = 0, unconnected = 0, active_targets = 0;
  for (const ClientSpec& s : c) {
    if (s.role == Role::kUnconnected) {
      ++unconnected;
      EXPECT_EQ(s.proto, Proto::kUdp);
      EXPECT_EQ(s.backend, 0);
    } else if (s.backend == 0) {
      ++targets;
      active_targets += s.role == Role::kActive;
    } else {
      ++live;
      EXPECT_TRUE(s.backend == 1 || s.backend == 2);
    }
  }
  EXPECT_EQ(targets, 40);
  EXPECT_EQ(live, 40);
  EXPECT_EQ(unconnected, 4);
  EXPECT_EQ(active_targets, 24);  // 5 per kind and pod: 3 active (largest remainder), 1 idle, 1 receive-only
}

}  // namespace
}  // namespace sockbench
