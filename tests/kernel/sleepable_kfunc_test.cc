// Selftest-style checks of the sleepable_kfunc index (both variants) on a
// kernel with sockbench's sleepable series: what fexit put in the index and
// cgroup/sock_release took out, that a pass destroys exactly the backend's
// sockets in the namespaces it was given and leaves the rest indexed, and
// that a connected UDP socket that connects again moves to its new backend.
// Skipped where the kernel lacks the kfuncs (the probe says why).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/approaches/sleepable_kfunc.h"
#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "tests/kernel/destroy_scene.h"
#include "tests/kernel/two_netns_scene.h"

namespace sockbench {
namespace {

class SleepableKfuncTest : public ::testing::TestWithParam<SleepableIndex>, protected TwoNetnsScene {
 protected:
  void SetUp() override {
    SleepableKfuncDestroyer probe(GetParam());
    absl::Status st = probe.Probe();
    if (!st.ok()) GTEST_SKIP() << probe.name() << " unsupported here: " << st.message();
    ASSERT_NO_FATAL_FAILURE(CreateNamespaces());
    d_ = std::make_unique<SleepableKfuncDestroyer>(GetParam());
    // The cgroup v2 root (this test's cgroup) scopes the index.
    ASSERT_TRUE(d_->Prepare(PrepareEnv{}).ok());
  }
  void TearDown() override {
    if (d_) d_->Release();
  }

  std::unique_ptr<SleepableKfuncDestroyer> d_;
};

// Connect adds, close removes, a pass takes: the index holds exactly the
// open sockets it has not destroyed, for TCP and UDP, IPv4 and IPv6.
TEST_P(SleepableKfuncTest, IndexFollowsConnectCloseAndDestroy) {
  for (Proto proto : {Proto::kTcp, Proto::kUdp}) {
    for (Family family : {Family::kIpv4, Family::kIpv6}) {
      SCOPED_TRACE(std::string(ProtoName(proto)) + "/" + FamilyName(family));
      SleepableIndexStats before = d_->index_stats();
      std::vector<Conn> open = ClientsIn(0, proto, family, 0, 7);
      open.resize(4);  // close 3: cgroup/sock_release runs in close()
      SleepableIndexStats after = d_->index_stats();
      EXPECT_EQ(after.inserted - before.inserted, 7u);
      EXPECT_EQ(after.removed - before.removed, 3u);
      EXPECT_EQ(after.failed, 0u);
      EXPECT_EQ(after.live() - before.live(), 4u);

      auto stats = d_->Destroy(Backend0(proto, family, 0));
      ASSERT_TRUE(stats.ok()) << stats.status();
      EXPECT_EQ(stats->destroyed, 4u);
      EXPECT_EQ(stats->failed, 0u);
      EXPECT_EQ(d_->index_stats().live(), before.live());
      for (const Conn& c : open) EXPECT_EQ(RecvErrno(c.client.get()), ECONNABORTED);

      // Each at most once: nothing of the backend is left to destroy.
      stats = d_->Destroy(Backend0(proto, family, 0));
      ASSERT_TRUE(stats.ok()) << stats.status();
      EXPECT_EQ(stats->visited, 0u);
      EXPECT_EQ(stats->destroyed, 0u);
      servers_.clear();
    }
  }
}

// A pass touches only the namespaces it was given; the others' entries
// stay in the index for a later pass.
TEST_P(SleepableKfuncTest, OtherNamespacesStayIndexed) {
  Conn a = ConnectIn(0, Proto::kUdp, Family::kIpv4, 0);
  Conn b = ConnectIn(1, Proto::kUdp, Family::kIpv4, 0);
  auto stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(RecvErrno(a.client.get()), ECONNABORTED);
  EXPECT_EQ(RecvErrno(b.client.get()), EAGAIN);
  EXPECT_TRUE(Connected(b.client.get()));
  EXPECT_EQ(d_->index_stats().live(), 1u);

  stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 1));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(RecvErrno(b.client.get()), ECONNABORTED);
  EXPECT_EQ(d_->index_stats().live(), 0u);
}

// A connected UDP socket that connects to another backend leaves its old
// backend's entries: the old backend's pass spares it, the new one's
// destroys it.
TEST_P(SleepableKfuncTest, UdpReconnectMovesTheEntry) {
  Conn c = ConnectIn(0, Proto::kUdp, Family::kIpv4, 1);
  ASSERT_NO_FATAL_FAILURE(ConnectUdpAgain(0, c.client.get(), 0));
  EXPECT_EQ(d_->index_stats().replaced, 1u);
  EXPECT_EQ(d_->index_stats().live(), 1u);

  Target old_backend = Backend0(Proto::kUdp, Family::kIpv4, 0);
  old_backend.endpoints = {BackendEndpoint(1, Family::kIpv4)};
  auto stats = d_->Destroy(old_backend);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->visited, 0u);
  EXPECT_TRUE(Connected(c.client.get()));

  stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(RecvErrno(c.client.get()), ECONNABORTED);
}

INSTANTIATE_TEST_SUITE_P(Indexes, SleepableKfuncTest,
                         ::testing::Values(SleepableIndex::kHash, SleepableIndex::kRbtree),
                         [](const ::testing::TestParamInfo<SleepableIndex>& i) {
                           return std::string(i.param == SleepableIndex::kHash ? "hash" : "rbtree");
                         });

}  // namespace
}  // namespace sockbench
