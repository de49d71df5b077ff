// The scene every destroy test sets up and checks, shared by the approach-
// generic destroy_test and the sockhash_bucket selftests: a client connected
// to a backend served in the current namespace, and the checks of what the
// kernel did to it (the target aborted, the others untouched).
#pragma once

#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "harness/endpoint.h"
#include "harness/unique_fd.h"

namespace sockbench {

struct Conn {
  UniqueFd client, peer;  // peer: the accepted side, TCP only
};

// One more client of the backend server `server` (for `backend`, in the
// current namespace), with its accepted peer for TCP.
inline Conn ConnectClient(Proto proto, Family family, int backend, int server) {
  Endpoint ep = BackendEndpoint(backend, family);
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  int one = 1;
  Conn c;
  c.client.reset(socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC, 0));
  if (family == Family::kIpv6) setsockopt(c.client.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  EXPECT_EQ(connect(c.client.get(), reinterpret_cast<sockaddr*>(&ss), len), 0)
      << ep.ToString() << ": " << strerror(errno);
  if (proto == Proto::kTcp) {
    pollfd p{server, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 10000), 1) << "no connection queued on " << ep.ToString();
    c.peer.reset(accept4(server, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    EXPECT_TRUE(c.peer.valid());
  }
  return c;
}

// A backend server for `backend` in the current namespace (kept in
// `servers`) plus one client connected to it.
inline Conn ConnectTo(Proto proto, Family family, int backend, std::vector<UniqueFd>* servers) {
  Endpoint ep = BackendEndpoint(backend, family);
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  int one = 1;
  // Non-blocking: a connection that never arrives fails the test instead of
  // hanging it in accept().
  UniqueFd server(socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (family == Family::kIpv6) setsockopt(server.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  EXPECT_EQ(bind(server.get(), reinterpret_cast<sockaddr*>(&ss), len), 0)
      << ep.ToString() << ": " << strerror(errno);
  if (proto == Proto::kTcp) {
    EXPECT_EQ(listen(server.get(), 8), 0);
  }
  Conn c = ConnectClient(proto, family, backend, server.get());
  servers->push_back(std::move(server));
  return c;
}

// An unconnected UDP socket in the current namespace that sent one datagram
// to `backend` with sendto() (the kernel bound it to a port of its choice)
// and never connected: cilium#48564's DNS client.
inline UniqueFd SendOnceTo(Family family, int backend) {
  Endpoint ep = BackendEndpoint(backend, family);
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  int one = 1;
  UniqueFd fd(socket(AfOf(family), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (family == Family::kIpv6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  EXPECT_EQ(sendto(fd.get(), "q", 1, 0, reinterpret_cast<sockaddr*>(&ss), len), 1)
      << ep.ToString() << ": " << strerror(errno);
  return fd;
}

// The socket's local port, network order (0: it has none).
inline uint16_t LocalPort(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return 0;
  return Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&ss)).port_be;
}

// What the application sees on its next recv(): the pending socket error, or
// EAGAIN when there is none.
inline int RecvErrno(int fd) {
  char b;
  ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
  return n < 0 ? errno : 0;
}

inline bool Connected(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  return getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
}

// Backend 0 of `family` dies, for `proto` sockets in one namespace.
inline Target Backend0In(Proto proto, Family family, int netns_fd, uint64_t netns_cookie) {
  Target t;
  t.endpoints = {BackendEndpoint(0, family)};
  t.tcp = proto == Proto::kTcp;
  t.udp = proto == Proto::kUdp;
  t.netns_fds = {netns_fd};
  t.netns_cookies = {netns_cookie};
  return t;
}

// The target was aborted (its application sees ECONNABORTED, its TCP peer
// was reset) and every survivor is connected with nothing pending.
inline void ExpectOnlyTargetDestroyed(Proto proto, const Conn& target,
                                      std::initializer_list<const Conn*> survivors) {
  EXPECT_EQ(RecvErrno(target.client.get()), ECONNABORTED);
  EXPECT_FALSE(Connected(target.client.get()));
  if (proto == Proto::kTcp) {
    EXPECT_EQ(RecvErrno(target.peer.get()), ECONNRESET);
  }
  for (const Conn* c : survivors) {
    EXPECT_EQ(RecvErrno(c->client.get()), EAGAIN);
    EXPECT_TRUE(Connected(c->client.get()));
    if (proto == Proto::kTcp) {
      EXPECT_EQ(RecvErrno(c->peer.get()), EAGAIN);
    }
  }
}

}  // namespace sockbench
