// Selftest-style checks of what the kernel did for each approach: exactly
// the target destroyed, its application sees ECONNABORTED, its TCP peer is
// reset; a socket to the same address on another port, one to the same port
// on another address, and one to the same backend in a namespace the agent
// did not ask for all survive.
#include <errno.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <tuple>

#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/registry.h"
#include "harness/unique_fd.h"

namespace sockbench {
namespace {

struct Conn {
  UniqueFd client, peer;
};

class Namespace {
 public:
  explicit Namespace(UniqueFd fd) : fd_(std::move(fd)) {}
  int fd() const { return fd_.get(); }

  // A backend server in this namespace plus one client connected to it.
  Conn Connect(Proto proto, Family family, int backend) {
    auto in = ScopedNetns::Enter(fd());
    EXPECT_TRUE(in.ok());
    Endpoint ep = BackendEndpoint(backend, family);
    sockaddr_storage ss;
    socklen_t len = ep.ToSockaddr(&ss);
    int one = 1;
    // Non-blocking: a connection that never arrives fails the test instead
    // of hanging it in accept().
    UniqueFd server(socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (family == Family::kIpv6) setsockopt(server.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    EXPECT_EQ(bind(server.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << ep.ToString() << strerror(errno);
    if (proto == Proto::kTcp) {
      EXPECT_EQ(listen(server.get(), 8), 0);
    }
    Conn c;
    c.client.reset(socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC, 0));
    EXPECT_EQ(connect(c.client.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
    if (proto == Proto::kTcp) {
      pollfd p{server.get(), POLLIN, 0};
      EXPECT_EQ(poll(&p, 1, 10000), 1) << "no connection queued on " << ep.ToString();
      c.peer.reset(accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      EXPECT_TRUE(c.peer.valid());
    }
    servers_.push_back(std::move(server));
    return c;
  }

 private:
  UniqueFd fd_;
  std::vector<UniqueFd> servers_;
};

// What the application sees on its next recv(): the pending socket error, or
// EAGAIN when there is none.
int RecvErrno(int fd) {
  char b;
  ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
  return n < 0 ? errno : 0;
}

bool Connected(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  return getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
}

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
  ASSERT_TRUE(d->Prepare(FleetEnv{}).ok());

  Conn target = a.Connect(proto, family, 0);
  Conn same_addr = a.Connect(proto, family, 1);  // same address, other port
  Conn same_port = a.Connect(proto, family, 2);  // same port, other address
  Conn elsewhere = b.Connect(proto, family, 0);  // same backend, namespace not asked for

  Target t;
  t.endpoints = {BackendEndpoint(0, family)};
  t.tcp = proto == Proto::kTcp;
  t.udp = proto == Proto::kUdp;
  t.netns_fds = {a.fd()};
  t.netns_cookies = {*a_cookie};
  auto stats = d->Destroy(t);
  ASSERT_TRUE(stats.ok()) << stats.status();
  d->Release();

  EXPECT_EQ(stats->destroyed, 1u);
  EXPECT_EQ(stats->failed, 0u);
  EXPECT_EQ(RecvErrno(target.client.get()), ECONNABORTED);
  EXPECT_FALSE(Connected(target.client.get()));
  if (proto == Proto::kTcp) {
    EXPECT_EQ(RecvErrno(target.peer.get()), ECONNRESET);
  }

  for (Conn* c : {&same_addr, &same_port, &elsewhere}) {
    EXPECT_EQ(RecvErrno(c->client.get()), EAGAIN);
    EXPECT_TRUE(Connected(c->client.get()));
    if (proto == Proto::kTcp) {
      EXPECT_EQ(RecvErrno(c->peer.get()), EAGAIN);
    }
  }
}

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
