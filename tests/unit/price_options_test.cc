// `sockbench price`'s flags: what they default to and every way they are
// refused, each with one error naming the flag.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "harness/price.h"
#include "harness/registry.h"

namespace sockbench {
namespace {

constexpr uint64_t kFds = 20000;  // the VM guest's RLIMIT_NOFILE

absl::StatusOr<PriceOptions> Parse(const std::string& approach, std::optional<int> sockets = std::nullopt,
                                   uint64_t fds = kFds) {
  return ParsePriceOptions(PriceFlags{approach, sockets, ""}, "7.3.4-sockbench", fds);
}

std::string Error(const absl::StatusOr<PriceOptions>& o) {
  EXPECT_FALSE(o.ok());
  return o.ok() ? "" : std::string(o.status().message());
}

TEST(PriceOptions, DefaultsAreEveryTrackingApproachAndTheDocumentedFile) {
  absl::StatusOr<PriceOptions> o = Parse("all");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->approaches, TrackingApproachNames());
  EXPECT_EQ(o->approaches, (std::vector<std::string>{"sockhash_bucket", "sk_storage_iter", "sleepable_kfunc",
                                                     "sleepable_kfunc_rbtree"}));
  EXPECT_EQ(o->sockets, kDefaultPriceSockets);
  EXPECT_EQ(o->out, "results/price-7.3.4-sockbench.json");
  absl::StatusOr<PriceOptions> given = ParsePriceOptions(PriceFlags{"all", 10, "/tmp/p.json"}, "x", kFds);
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(given->out, "/tmp/p.json");
  EXPECT_EQ(given->sockets, 10);
}

TEST(PriceOptions, NoneIsTheBaselineAloneAndAListKeepsItsOrder) {
  absl::StatusOr<PriceOptions> none = Parse("none");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->approaches.empty());
  absl::StatusOr<PriceOptions> two = Parse("sleepable_kfunc,none,sockhash_bucket");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->approaches, (std::vector<std::string>{"sleepable_kfunc", "sockhash_bucket"}));
}

TEST(PriceOptions, SocketsOutOfRangeAreRefusedNamingTheFlag) {
  EXPECT_EQ(Error(Parse("all", 0)), "--sockets must be at least 5 (the connect()s are timed in 5 blocks), got 0");
  EXPECT_EQ(Error(Parse("all", -200)),
            "--sockets must be at least 5 (the connect()s are timed in 5 blocks), got -200");
  EXPECT_EQ(Error(Parse("all", 4)), "--sockets must be at least 5 (the connect()s are timed in 5 blocks), got 4");
  EXPECT_TRUE(Parse("all", 5).ok());
  EXPECT_EQ(Error(Parse("all", 50001, 1 << 20)),
            "--sockets must be at most 50000 (the client ports of one namespace towards one backend), got 50001");
  EXPECT_TRUE(Parse("all", 50000, 1 << 20).ok());
}

TEST(PriceOptions, SocketsBeyondTheDescriptorLimitAreRefusedWithTheLimit) {
  EXPECT_TRUE(Parse("all", 9872).ok());
  EXPECT_EQ(Error(Parse("all", 9873)),
            "--sockets 9873: a TCP row holds 20002 descriptors (each socket and its accepted peer, and 256 "
            "spare), RLIMIT_NOFILE allows 20000 (at most --sockets 9872)");
}

TEST(PriceOptions, UnknownAndNonTrackingApproachesAreRefusedNamingTheFlag) {
  EXPECT_EQ(Error(Parse("sockhash_bucket,bogus")),
            "--approach: unknown approach 'bogus' (known: " + absl::StrJoin(ApproachNames(), ", ") + ")");
  EXPECT_EQ(Error(Parse("sock_diag")),
            "--approach: sock_diag records nothing at connect time, so connect() pays nothing for it (price "
            "measures: sockhash_bucket, sk_storage_iter, sleepable_kfunc, sleepable_kfunc_rbtree; or 'none' "
            "for the baseline alone)");
  EXPECT_EQ(Error(Parse("sleepable_kfunc,sleepable_kfunc")), "--approach: sleepable_kfunc is listed twice");
  EXPECT_EQ(Error(Parse(",")), "--approach: empty list");
}

}  // namespace
}  // namespace sockbench
