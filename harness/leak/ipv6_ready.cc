#include "harness/leak/ipv6_ready.h"

#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "harness/status.h"
#include "harness/unique_fd.h"

namespace sockbench {
namespace {

// A throw-away bind to port 0 of the address: succeeds once it is usable.
int TryBind(const Endpoint& addr) {
  UniqueFd s(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return errno;
  Endpoint any = addr;
  any.port_be = 0;
  sockaddr_storage ss;
  socklen_t len = any.ToSockaddr(&ss);
  return bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0 ? 0 : errno;
}

}  // namespace

absl::Status WaitIpv6Usable(const Endpoint& addr) {
  // Subscribe first, then look: a notification between the two is queued.
  UniqueFd nl(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!nl.valid()) return ErrnoStatus("socket(NETLINK_ROUTE)");
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV6_IFADDR;
  if (bind(nl.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0)
    return ErrnoStatus("bind rtnetlink RTMGRP_IPV6_IFADDR");
  // Each round waits for an address event; ten rounds of at most a second
  // bound a kernel that never finishes DAD.
  for (int round = 0; round < 10; ++round) {
    int err = TryBind(addr);
    if (err == 0) return absl::OkStatus();
    if (err != EADDRNOTAVAIL) return ErrnoStatus("bind " + addr.ToString(), err);
    pollfd p{nl.get(), POLLIN, 0};
    if (poll(&p, 1, 1000) > 0) {
      char buf[8192];
      while (recv(nl.get(), buf, sizeof(buf), MSG_DONTWAIT) > 0) {
      }
    }
  }
  return absl::DeadlineExceededError(addr.ToString() + " stayed tentative (DAD never completed)");
}

}  // namespace sockbench
