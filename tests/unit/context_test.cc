#include "harness/context.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"

namespace sockbench {
namespace {

bool IsSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The build's own stamp (cmake/GitRevision.cmake): the revision, whether the
// tree was dirty, and, only when it was, the diff's hash; one consistent with
// the other.
TEST(RunContext, GitStampSaysDirtyAndCarriesTheDiffHash) {
  const RunContext c = RunContext::Collect();
  const nlohmann::json j = c.ToJson();
  ASSERT_TRUE(j.contains("sockbench_git_revision"));
  ASSERT_TRUE(j.contains("sockbench_git_dirty"));
  ASSERT_TRUE(j["sockbench_git_dirty"].is_boolean());
  const std::string rev = j["sockbench_git_revision"];
  const bool dirty = j["sockbench_git_dirty"];
  if (rev == "unknown") {
    EXPECT_TRUE(dirty) << "no checkout: nothing says the tree was clean";
  } else {
    EXPECT_EQ(dirty, absl::EndsWith(rev, "-dirty")) << rev;
  }
  if (!dirty) {
    EXPECT_FALSE(j.contains("sockbench_git_diff_sha256")) << j.dump();
    return;
  }
  ASSERT_TRUE(j.contains("sockbench_git_diff_sha256")) << j.dump();
  const std::string sha = j["sockbench_git_diff_sha256"];
  if (rev == "unknown")
    EXPECT_TRUE(absl::StartsWith(sha, "unavailable")) << sha;
  else
    EXPECT_TRUE(IsSha256Hex(sha)) << sha;
}

TEST(RunContext, CleanStampHasNoDiffHash) {
  RunContext c;
  c.sockbench_git_revision = "0123456789ab";
  c.sockbench_git_dirty = false;
  c.sockbench_git_diff_sha256 = "";
  nlohmann::json j = c.ToJson();
  EXPECT_EQ(j["sockbench_git_dirty"], false);
  EXPECT_FALSE(j.contains("sockbench_git_diff_sha256"));
  c.sockbench_git_revision = "0123456789ab-dirty";
  c.sockbench_git_dirty = true;
  c.sockbench_git_diff_sha256 = std::string(64, 'a');
  j = c.ToJson();
  EXPECT_EQ(j["sockbench_git_dirty"], true);
  EXPECT_EQ(j["sockbench_git_diff_sha256"], std::string(64, 'a'));
  EXPECT_EQ(j["sockbench_git_revision"], "0123456789ab-dirty");
}

}  // namespace
}  // namespace sockbench
