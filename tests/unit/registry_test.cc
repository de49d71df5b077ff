// The registry is the one list of approaches: the README's table must be
// its rows, in its order, and list parsing follows it.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "harness/registry.h"

namespace sockbench {
namespace {

// The rows of the README's approach table, as written.
std::vector<std::string> ReadmeTableRows() {
  std::ifstream in(SOCKBENCH_SOURCE_DIR "/README.md");
  std::vector<std::string> rows;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| approach |", 0) == 0) {
      in_table = true;
      std::getline(in, line);  // |---|
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') break;
    rows.push_back(line);
  }
  return rows;
}

TEST(Registry, TheReadmeTableIsTheRegistry) {
  std::vector<std::string> want;
  for (const ApproachInfo& a : Approaches().rows())
    want.push_back("| `" + a.name + "` | " + a.description + " | " + a.kernel + " |");
  EXPECT_EQ(ReadmeTableRows(), want) << "README.md's approach table and harness/registry.cc differ";
}

TEST(Registry, EveryRowMakesItsApproach) {
  for (const ApproachInfo& a : Approaches().rows()) {
    auto d = a.make();
    ASSERT_NE(d, nullptr) << a.name;
    EXPECT_EQ(a.name, d->name());
    EXPECT_FALSE(a.kernel.empty()) << a.name;
    EXPECT_FALSE(a.description.empty()) << a.name;
  }
}

// The approaches whose Prepare() attaches connect-time programs say so
// (sockbench price measures exactly those); the others do not.
TEST(Registry, ExactlyTheIndexingApproachesTrackAtConnect) {
  std::vector<std::string> tracking;
  for (const ApproachInfo& a : Approaches().rows()) {
    auto d = a.make();
    if (d->TracksAtConnect()) tracking.push_back(a.name);
    else EXPECT_EQ(d->TrackingBytes(), 0u) << a.name;
  }
  EXPECT_EQ(tracking, (std::vector<std::string>{"sockhash_bucket", "sk_storage_iter", "sleepable_kfunc",
                                                "sleepable_kfunc_rbtree"}));
}

TEST(Registry, ListsFollowTheRows) {
  auto two = ParseApproachList("iter_per_netns,sock_diag");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(*two, (std::vector<std::string>{"iter_per_netns", "sock_diag"}));
  auto bad = ParseApproachList("nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--approach: unknown approach 'nope' (known: sock_diag, iter_per_netns, cilium_term, "
            "cilium_term_fixed, iter_all_netns, sockhash_bucket, sk_storage_iter, sleepable_kfunc, "
            "sleepable_kfunc_rbtree)");
}

}  // namespace
}  // namespace sockbench
