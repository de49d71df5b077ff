// Selftest-style checks of what the kernel did for each approach: exactly
// the target destroyed, its application sees ECONNABORTED, its TCP peer is
// reset; a socket to the same address on another port, one to the same port
// on another address, and one to the same backend in a namespace the agent
// did not ask for all survive. And an unconnected UDP socket that sent to
// the dying backend survives every approach but the one whose registry row
// says it reproduces cilium#48564 (cilium_term), which must destroy it.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/registry.h"
#include "harness/unique_fd.h"
#include "tests/kernel/destroy_scene.h"

namespace sockbench {
namespace {

// A namespace of the test, with the backend servers it serves.
class Namespace {
 public:
  explicit Namespace(UniqueFd fd) : fd_(std::move(fd)) {}
  int fd() const { return fd_.get(); }

  // A backend server in this namespace plus one client connected to it.
  Conn Connect(Proto proto, Family family, int backend) {
    auto in = ScopedNetns::Enter(fd());
    EXPECT_TRUE(in.ok());
    return ConnectTo(proto, family, backend, &servers_);
  }

 private:
  UniqueFd fd_;
  std::vector<UniqueFd> servers_;
};

using Param = std::tuple<std::string, Proto, Family>;

class DestroyTest : public ::testing::TestWithParam<Param> {};

TEST_P(DestroyTest, ExactlyTheTargetIsDestroyed) {
  auto [approach, proto, family] = GetParam();
  ProbeResult probe = ProbeApproach(approach);
  if (!probe.supported) GTEST_SKIP() << approach << " unsupported here: " << probe.reason;

  NetnsOptions opts{BackendAddressCount(3)};
  auto a_fd = NetnsSet::CreateOne(opts);
  auto b_fd = NetnsSet::CreateOne(opts);
  ASSERT_TRUE(a_fd.ok() && b_fd.ok());
  Namespace a(std::move(*a_fd)), b(std::move(*b_fd));
  auto a_cookie = NetnsCookie(a.fd());
  ASSERT_TRUE(a_cookie.ok());

  // Before the sockets exist: an approach may index sockets at connect time
  // (sockhash_bucket). The cgroup v2 root holds this test process.
  auto d = MakeDestroyer(approach);
  ASSERT_TRUE(d->Prepare(PrepareEnv{}).ok());

  Conn target = a.Connect(proto, family, 0);
  Conn same_addr = a.Connect(proto, family, 1);  // same address, other port
  Conn same_port = a.Connect(proto, family, 2);  // same port, other address
  Conn elsewhere = b.Connect(proto, family, 0);  // same backend, namespace not asked for

  Target t = Backend0In(proto, family, a.fd(), *a_cookie);
  auto stats = d->Destroy(t);
  ASSERT_TRUE(stats.ok()) << stats.status();
  d->Release();

  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(stats->failed, 0u);
  ExpectOnlyTargetDestroyed(proto, target, {&same_addr, &same_port, &elsewhere});
}

// The scene's backend is served in namespace `a`; `Connect` made the
// server, the sender only sends to it.
using SenderParam = std::tuple<std::string, Family>;
class UnconnectedSenderTest : public ::testing::TestWithParam<SenderParam> {};

TEST_P(UnconnectedSenderTest, SurvivesUnlessTheApproachReproducesCilium48564) {
  auto [approach, family] = GetParam();
  ProbeResult probe = ProbeApproach(approach);
  if (!probe.supported) GTEST_SKIP() << approach << " unsupported here: " << probe.reason;
  const bool defect = !Approaches().Find(approach)->known_defect.empty();

  auto a_fd = NetnsSet::CreateOne(NetnsOptions{BackendAddressCount(3)});
  ASSERT_TRUE(a_fd.ok());
  Namespace a(std::move(*a_fd));
  auto a_cookie = NetnsCookie(a.fd());
  ASSERT_TRUE(a_cookie.ok());
  auto d = MakeDestroyer(approach);
  ASSERT_TRUE(d->Prepare(PrepareEnv{}).ok());

  Conn target = a.Connect(Proto::kUdp, family, 0);
  UniqueFd sender;
  {
    auto in = ScopedNetns::Enter(a.fd());
    ASSERT_TRUE(in.ok());
    sender = SendOnceTo(family, 0);
  }
  const uint16_t port = LocalPort(sender.get());
  ASSERT_NE(port, 0);

  auto stats = d->Destroy(Backend0In(Proto::kUdp, family, a.fd(), *a_cookie));
  ASSERT_TRUE(stats.ok()) << stats.status();
  d->Release();

  EXPECT_EQ(RecvErrno(target.client.get()), ECONNABORTED);
  EXPECT_FALSE(Connected(target.client.get()));
  if (defect) {
    // cilium#48564: the sender is aborted, and loses the port the kernel
    // gave it (the next sendto() would bind another).
    EXPECT_EQ(stats->destroyed, 2u);
    EXPECT_EQ(RecvErrno(sender.get()), ECONNABORTED);
    EXPECT_EQ(LocalPort(sender.get()), 0);
  } else {
    EXPECT_EQ(stats->destroyed, 1u);
    EXPECT_EQ(RecvErrno(sender.get()), EAGAIN);
    EXPECT_EQ(LocalPort(sender.get()), port);
  }
}

INSTANTIATE_TEST_SUITE_P(AllApproaches, UnconnectedSenderTest,
                         ::testing::Combine(::testing::ValuesIn(ApproachNames()),
                                            ::testing::Values(Family::kIpv4, Family::kIpv6)),
                         [](const ::testing::TestParamInfo<SenderParam>& info) {
                           return std::get<0>(info.param) + "_" + FamilyName(std::get<1>(info.param));
                         });

std::string Name(const ::testing::TestParamInfo<Param>& info) {
  return std::get<0>(info.param) + "_" + ProtoName(std::get<1>(info.param)) + "_" +
         FamilyName(std::get<2>(info.param));
}

INSTANTIATE_TEST_SUITE_P(
    AllApproaches, DestroyTest,
    ::testing::Combine(::testing::ValuesIn(ApproachNames()),
                       ::testing::Values(Proto::kTcp, Proto::kUdp),
                       ::testing::Values(Family::kIpv4, Family::kIpv6)),
    Name);

}  // namespace
}  // namespace sockbench
