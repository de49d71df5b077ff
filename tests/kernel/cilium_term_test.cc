// Cilium's matching, reproduced (cilium_term, cilium_term_fixed), on the
// running kernel: the socket-LB programs (attached to the cgroup v2 root,
// which holds this test) record each connect() and sendto(); a pass
// destroys the dying backend's connected clients through their reverse-NAT
// entry, and, as released, the unconnected UDP socket that merely sent to
// it (cilium#48564), which the sk_state check of cilium#48725 spares.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <tuple>
#include <vector>

#include "harness/approaches/cilium_term.h"
#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "leak/bpf/leak_types.h"
#include "tests/kernel/destroy_scene.h"
#include "tests/kernel/two_netns_scene.h"

namespace sockbench {
namespace {

uint64_t CookieOf(int fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
  return cookie;
}

class CiliumTermTest : public ::testing::Test, protected TwoNetnsScene {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(CreateNamespaces()); }
  void TearDown() override {
    if (d_) d_->Release();
  }

  // The approach, its socket-LB programs attached before any socket.
  void Start(bool fixed) {
    d_ = std::make_unique<CiliumTermDestroyer>(fixed);
    absl::Status st = d_->Prepare(PrepareEnv{});
    ASSERT_TRUE(st.ok()) << st;
  }

  // Backend 0 of `family` dies, TCP and UDP, in namespace `ns`.
  Target Dying(Family family, int ns) {
    Target t = Backend0(Proto::kTcp, family, ns);
    t.udp = true;
    return t;
  }

  bool HasStorage(int fd) {
    leak_sk_entry e;
    return bpf_map_lookup_elem(d_->storage_map_fd(), &fd, &e) == 0;
  }

  std::unique_ptr<CiliumTermDestroyer> d_;
};

// The scene of the issue: TCP and connected UDP clients of the dying
// backend, an unconnected UDP socket that sendto()'d it, and clients (and a
// sender) of a backend that stays.
using SceneParam = std::tuple<bool, Family>;  // fixed, family
class CiliumTermSceneTest : public CiliumTermTest, public ::testing::WithParamInterface<SceneParam> {};

TEST_P(CiliumTermSceneTest, DestroysTheConnectedClientsAndAsReleasedTheUnconnectedSender) {
  auto [fixed, family] = GetParam();
  ASSERT_NO_FATAL_FAILURE(Start(fixed));
  Conn tcp_dying = ConnectIn(0, Proto::kTcp, family, 0);
  Conn udp_dying = ConnectIn(0, Proto::kUdp, family, 0);
  Conn tcp_live = ConnectIn(0, Proto::kTcp, family, 1);
  Conn udp_live = ConnectIn(0, Proto::kUdp, family, 1);
  UniqueFd sender, live_sender;
  {
    auto in = ScopedNetns::Enter(netns_[0].get());
    ASSERT_TRUE(in.ok());
    sender = SendOnceTo(family, 0);
    live_sender = SendOnceTo(family, 1);
  }
  const uint16_t sender_port = LocalPort(sender.get());
  const uint16_t live_sender_port = LocalPort(live_sender.get());
  // The socket-LB programs saw every one of them: both stores hold each.
  const Endpoint b0 = BackendEndpoint(0, family), b1 = BackendEndpoint(1, family);
  for (int fd : {tcp_dying.client.get(), udp_dying.client.get(), sender.get()}) {
    EXPECT_TRUE(HasStorage(fd));
    EXPECT_TRUE(*d_->reverse_maps().Has(CookieOf(fd), b0));
  }
  for (int fd : {tcp_live.client.get(), udp_live.client.get(), live_sender.get()}) {
    EXPECT_TRUE(HasStorage(fd));
    EXPECT_TRUE(*d_->reverse_maps().Has(CookieOf(fd), b1));
  }

  auto stats = d_->Destroy(Dying(family, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  const uint64_t want = fixed ? 2 : 3;
  EXPECT_EQ(stats->matched, want);
  EXPECT_EQ(stats->destroyed, want);
  EXPECT_EQ(stats->failed, 0u);

  ExpectOnlyTargetDestroyed(Proto::kTcp, tcp_dying, {&tcp_live});
  ExpectOnlyTargetDestroyed(Proto::kUdp, udp_dying, {&udp_live});
  if (fixed) {
    EXPECT_EQ(RecvErrno(sender.get()), EAGAIN) << "cilium#48725 must spare the unconnected sender";
    EXPECT_EQ(LocalPort(sender.get()), sender_port);
  } else {
    // cilium#48564, as the issue describes it: aborted, and the port the
    // kernel had bound is released.
    EXPECT_EQ(RecvErrno(sender.get()), ECONNABORTED) << "cilium#48564 not reproduced";
    EXPECT_EQ(LocalPort(sender.get()), 0);
  }
  EXPECT_EQ(RecvErrno(live_sender.get()), EAGAIN);
  EXPECT_EQ(LocalPort(live_sender.get()), live_sender_port);
}

INSTANTIATE_TEST_SUITE_P(ReleasedAndFixed, CiliumTermSceneTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(Family::kIpv4, Family::kIpv6)),
                         [](const ::testing::TestParamInfo<SceneParam>& info) {
                           return std::string(std::get<0>(info.param) ? "fixed_" : "released_") +
                                  FamilyName(std::get<1>(info.param));
                         });

// Cilium's lookup: the sk_storage entry, or else the LRU entry by cookie.
// Either store alone finds the connection; a socket neither holds (one
// socket-LB never translated) is not the agent's to destroy.
TEST_F(CiliumTermTest, EitherReverseNatStoreAloneFindsTheConnection) {
  ASSERT_NO_FATAL_FAILURE(Start(true));
  std::vector<Conn> c = ClientsIn(0, Proto::kUdp, Family::kIpv4, 0, 3);
  const Endpoint b0 = BackendEndpoint(0, Family::kIpv4);
  int lru_only = c[0].client.get(), storage_only = c[1].client.get(), neither = c[2].client.get();
  ASSERT_EQ(bpf_map_delete_elem(d_->storage_map_fd(), &lru_only), 0);
  ASSERT_TRUE(d_->reverse_maps().Delete(CookieOf(storage_only), b0).ok());
  ASSERT_EQ(bpf_map_delete_elem(d_->storage_map_fd(), &neither), 0);
  ASSERT_TRUE(d_->reverse_maps().Delete(CookieOf(neither), b0).ok());

  auto stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 2u);
  EXPECT_EQ(RecvErrno(lru_only), ECONNABORTED) << "the LRU entry by cookie was not looked up";
  EXPECT_EQ(RecvErrno(storage_only), ECONNABORTED) << "the sk_storage entry was not looked up";
  EXPECT_EQ(RecvErrno(neither), EAGAIN);
  EXPECT_TRUE(Connected(neither));
}

// The address gate: a connected socket is held to its destination. A UDP
// socket that connected to the dying backend and then to another keeps a
// stale LRU entry for the dying one (the new connect rewrote only its
// sk_storage), and must survive the dying backend's pass.
TEST_F(CiliumTermTest, TheAddressGateHoldsAConnectedSocketToItsDestination) {
  ASSERT_NO_FATAL_FAILURE(Start(false));
  Conn moved = ConnectIn(0, Proto::kUdp, Family::kIpv4, 0);
  ASSERT_NO_FATAL_FAILURE(ConnectUdpAgain(0, moved.client.get(), 1));
  const uint64_t cookie = CookieOf(moved.client.get());
  EXPECT_TRUE(*d_->reverse_maps().Has(cookie, BackendEndpoint(0, Family::kIpv4)));
  EXPECT_TRUE(*d_->reverse_maps().Has(cookie, BackendEndpoint(1, Family::kIpv4)));

  auto stats = d_->Destroy(Backend0(Proto::kUdp, Family::kIpv4, 0));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->destroyed, 0u);
  EXPECT_EQ(RecvErrno(moved.client.get()), EAGAIN);
  EXPECT_TRUE(Connected(moved.client.get()));
}

// Cilium's agent runs once per backend address: a backend with an IPv4 and
// an IPv6 endpoint costs two passes over each namespace (each socket visited
// twice), one per family's programs; only the namespaces given are visited.
TEST_F(CiliumTermTest, OnePassPerBackendEndpointInEachNamespaceGiven) {
  ASSERT_NO_FATAL_FAILURE(Start(true));
  Conn a4 = ConnectIn(0, Proto::kUdp, Family::kIpv4, 0);
  Conn a6 = ConnectIn(0, Proto::kUdp, Family::kIpv6, 0);
  Conn other_ns = ConnectIn(1, Proto::kUdp, Family::kIpv4, 0);
  Target v4 = Backend0(Proto::kUdp, Family::kIpv4, 0);
  auto one = d_->Destroy(v4);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->destroyed, 1u);
  EXPECT_EQ(RecvErrno(a4.client.get()), ECONNABORTED);
  EXPECT_EQ(RecvErrno(a6.client.get()), EAGAIN);
  EXPECT_EQ(RecvErrno(other_ns.client.get()), EAGAIN) << "a namespace not asked for";

  Target both = v4;
  both.endpoints.push_back(BackendEndpoint(0, Family::kIpv6));
  auto two = d_->Destroy(both);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->destroyed, 1u);
  EXPECT_EQ(RecvErrno(a6.client.get()), ECONNABORTED);
  // The a4 socket is gone from the table (udp_abort unhashed it): the two
  // passes each visit what is left, the same sockets.
  EXPECT_EQ(two->visited % 2, 0u);
  EXPECT_EQ(two->visited, 2 * (one->visited - 1));
  EXPECT_TRUE(Connected(other_ns.client.get()));
}

}  // namespace
}  // namespace sockbench
