// Checks of the sk_storage_iter approach on a kernel with sockbench's
// sk-storage series: the connect and sendmsg programs record each socket's
// backend, and one pass over the map destroys exactly the sockets still
// connected to the dying backend, in the namespaces it was given, each
// once; sockets that only sent to it, moved away from it, or were never
// seen by the agent stay. Skipped where the kernel refuses the iterator
// program (the probe says why).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/approaches/sk_storage_iter.h"
#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "tests/kernel/destroy_scene.h"
#include "tests/kernel/two_netns_scene.h"

namespace sockbench {
namespace {

class SkStorageIterTest : public ::testing::Test, protected TwoNetnsScene {
 protected:
  void SetUp() override {
    SkStorageIterDestroyer probe;
    absl::Status st = probe.Probe();
    if (!st.ok()) GTEST_SKIP() << "sk_storage_iter unsupported here: " << st.message();
    ASSERT_NO_FATAL_FAILURE(CreateNamespaces());
    d_ = std::make_unique<SkStorageIterDestroyer>();
    // The cgroup v2 root (this test's cgroup) gets the connect programs.
    ASSERT_TRUE(d_->Prepare(PrepareEnv{}).ok());
  }
  void TearDown() override {
    if (d_) d_->Release();
  }

  std::unique_ptr<SkStorageIterDestroyer> d_;
};

// Each connect() stores its backend; a pass destroys exactly the dying
// backend's clients, and a second pass finds nothing left to destroy.
TEST_F(SkStorageIterTest, DestroysExactlyTheBackendsClientsOnce) {
  for (Proto proto : {Proto::kTcp, Proto::kUdp}) {
    for (Family family : {Family::kIpv4, Family::kIpv6}) {
      SCOPED_TRACE(std::string(ProtoName(proto)) + "/" + FamilyName(family));
      TrackedCounts before = d_->Tracked();
      std::vector<Conn> dying = ClientsIn(0, proto, family, 0, 4);
      std::vector<Conn> living = ClientsIn(0, proto, family, 1, 3);
      EXPECT_EQ(d_->Tracked().recorded - before.recorded, 7u);
      EXPECT_EQ(d_->Tracked().failed, 0u);

      auto stats = d_->Destroy(Backend0(proto, family, 0));
      ASSERT_TRUE(stats.ok()) << stats.status();
      EXPECT_GE(stats->visited, 7u);
      EXPECT_EQ(stats->matched, 4u);
      EXPECT_EQ(stats->destroyed, 4u);
      EXPECT_EQ(stats->failed, 0u);
      for (const Conn& c : dying) ExpectOnlyTargetDestroyed(proto, c, {});
      for (const Conn& c : living) {
        EXPECT_EQ(RecvErrno(c.client.get()), EAGAIN);
        EXPECT_TRUE(Connected(c.client.get()));
      }

      stats = d_->Destroy(Backend0(proto, family, 0));
      ASSERT_TRUE(stats.ok()) << stats.status();
      EXPECT_EQ(stats->destroyed, 0u) << "a socket destroyed twice";
      servers_.clear();
    }
  }
}

// cilium#48564: an unconnected UDP socket that sendto()s the dying backend
// has its storage too (sendmsg stores it), but is no connection to that
// backend and must survive; the connected client is destroyed.
TEST_F(SkStorageIterTest, UnconnectedUdpThatSentToTheBackendSurvives) {
  Conn connected = ConnectIn(0, Proto::kUdp, Family::kIpv4, 0);
  UniqueFd unconnected;
  {
    auto in = ScopedNetns::Enter(netns_[0].get());
    ASSERT_TRUE(in.ok());
    unconnected.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    Endpoint ep = BackendEndpoint(0, Family::kIpv4);
    sockaddr_storage ss;
    socklen_t len = ep.ToSockaddr(&ss);
    uint64_t stored = d_->Tracked().recorded;
    ASSERT_EQ(sendto(unconnected.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&ss), len), 1)
        << strerror(errno);
    ASSERT_EQ(d_->Tracked().recorded, stored + 1) << "sendmsg did not store the backend";
  }
  auto stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GE(stats->visited, 2u);
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(RecvErrno(connected.client.get()), ECONNABORTED);
  EXPECT_EQ(RecvErrno(unconnected.get()), EAGAIN);
}

// A UDP socket that connects again stores its new backend: the old
// backend's pass spares it, the new one's destroys it.
TEST_F(SkStorageIterTest, UdpReconnectMovesTheStoredBackend) {
  Conn c = ConnectIn(0, Proto::kUdp, Family::kIpv4, 1);
  ASSERT_NO_FATAL_FAILURE(ConnectUdpAgain(0, c.client.get(), 0));
  Target old_backend = Backend0(Proto::kUdp, Family::kIpv4, 0);
  old_backend.endpoints = {BackendEndpoint(1, Family::kIpv4)};
  auto stats = d_->Destroy(old_backend);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->matched, 0u);
  EXPECT_TRUE(Connected(c.client.get()));

  stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(RecvErrno(c.client.get()), ECONNABORTED);
}

// One pass covers every namespace it is given, and only those.
TEST_F(SkStorageIterTest, OnePassCoversTheNamespacesGiven) {
  Conn a = ConnectIn(0, Proto::kTcp, Family::kIpv6, 0);
  Conn b = ConnectIn(1, Proto::kTcp, Family::kIpv6, 0);
  Conn c = ConnectIn(1, Proto::kUdp, Family::kIpv6, 0);
  auto stats = d_->Destroy(Backend0(Proto::kTcp, Family::kIpv6, 1));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(RecvErrno(a.client.get()), EAGAIN);
  EXPECT_EQ(RecvErrno(b.client.get()), ECONNABORTED);
  EXPECT_EQ(RecvErrno(c.client.get()), EAGAIN) << "a UDP socket in a TCP-only pass";

  Target both = Backend0(Proto::kTcp, Family::kIpv6, 0);
  both.udp = true;
  both.netns_fds.push_back(netns_[1].get());
  both.netns_cookies.push_back(cookies_[1]);
  stats = d_->Destroy(both);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 2u);
  EXPECT_EQ(RecvErrno(a.client.get()), ECONNABORTED);
  EXPECT_EQ(RecvErrno(c.client.get()), ECONNABORTED);
}

// The approach sees only what the agent recorded: a socket that connected
// before the programs were attached has no storage, is not visited, and
// survives a pass over its backend (an agent must attach before the pods'
// connections, or find older ones another way).
TEST_F(SkStorageIterTest, SocketsTheAgentNeverSawAreNotVisited) {
  d_->Release();
  Conn unseen = ConnectIn(0, Proto::kUdp, Family::kIpv4, 0);
  ASSERT_TRUE(d_->Prepare(PrepareEnv{}).ok());
  Conn seen;
  {
    auto in = ScopedNetns::Enter(netns_[0].get());
    ASSERT_TRUE(in.ok());
    seen = ConnectClient(Proto::kUdp, Family::kIpv4, 0, servers_.back().get());
  }
  auto stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(RecvErrno(seen.client.get()), ECONNABORTED);
  EXPECT_EQ(RecvErrno(unseen.client.get()), EAGAIN);
  EXPECT_TRUE(Connected(unseen.client.get()));
}

}  // namespace
}  // namespace sockbench
