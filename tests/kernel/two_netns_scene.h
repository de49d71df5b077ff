// Two namespaces with backend addresses, and clients connected to backends
// served in them: the scene of the selftest-style checks of the approaches
// that index or tag sockets at connect time (sleepable_kfunc,
// sk_storage_iter). Clients are opened by the test process, in the cgroup
// the approach attached to.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "tests/kernel/destroy_scene.h"

namespace sockbench {

class TwoNetnsScene {
 protected:
  // Call from SetUp(), under ASSERT_NO_FATAL_FAILURE.
  void CreateNamespaces() {
    for (int i = 0; i < 2; ++i) {
      auto fd = NetnsSet::CreateOne(NetnsOptions{BackendAddressCount(3)});
      ASSERT_TRUE(fd.ok()) << fd.status();
      auto cookie = NetnsCookie(fd->get());
      ASSERT_TRUE(cookie.ok());
      netns_.push_back(std::move(*fd));
      cookies_.push_back(*cookie);
    }
  }

  // A backend server in namespace `ns` and one client of it.
  Conn ConnectIn(int ns, Proto proto, Family family, int backend) {
    auto in = ScopedNetns::Enter(netns_[ns].get());
    EXPECT_TRUE(in.ok());
    return ConnectTo(proto, family, backend, &servers_);
  }
  // `n` clients of one backend server in namespace `ns`.
  std::vector<Conn> ClientsIn(int ns, Proto proto, Family family, int backend, int n) {
    std::vector<Conn> out;
    out.push_back(ConnectIn(ns, proto, family, backend));
    auto in = ScopedNetns::Enter(netns_[ns].get());
    EXPECT_TRUE(in.ok());
    for (int i = 1; i < n; ++i) out.push_back(ConnectClient(proto, family, backend, servers_.back().get()));
    return out;
  }
  // A UDP server for `backend` (IPv4) in namespace `ns`, and the connected
  // UDP socket `fd` connected again, to it.
  void ConnectUdpAgain(int ns, int fd, int backend) {
    auto in = ScopedNetns::Enter(netns_[ns].get());
    ASSERT_TRUE(in.ok());
    UniqueFd server(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    Endpoint ep = BackendEndpoint(backend, Family::kIpv4);
    sockaddr_storage ss;
    socklen_t len = ep.ToSockaddr(&ss);
    ASSERT_EQ(bind(server.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
    servers_.push_back(std::move(server));
  }
  // Backend 0 dies, for `proto` sockets in namespace `ns`.
  Target Backend0(Proto proto, Family family, int ns) {
    return Backend0In(proto, family, netns_[ns].get(), cookies_[ns]);
  }

  std::vector<UniqueFd> netns_, servers_;
  std::vector<uint64_t> cookies_;
};

}  // namespace sockbench
