#include "harness/probe_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "bpf/sb_constants.h"
#include "harness/status.h"

namespace sockbench {

absl::StatusOr<ProbeSocket> ProbeSocket::Create() {
  ProbeSocket p;
  p.fd.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!p.fd.valid()) return ErrnoStatus("probe: socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  sockaddr* sa = reinterpret_cast<sockaddr*>(&a);
  if (bind(p.fd.get(), sa, len) < 0) return ErrnoStatus("probe: bind");
  if (getsockname(p.fd.get(), sa, &len) < 0) return ErrnoStatus("probe: getsockname");
  if (connect(p.fd.get(), sa, len) < 0) return ErrnoStatus("probe: connect");
  socklen_t clen = sizeof(p.cookie);
  if (getsockopt(p.fd.get(), SOL_SOCKET, SO_COOKIE, &p.cookie, &clen) < 0)
    return ErrnoStatus("probe: SO_COOKIE");
  clen = sizeof(p.netns_cookie);
  if (getsockopt(p.fd.get(), SOL_SOCKET, SO_NETNS_COOKIE, &p.netns_cookie, &clen) < 0)
    return ErrnoStatus("probe: SO_NETNS_COOKIE");
  p.local = Endpoint::FromSockaddr(sa);
  return p;
}

int ProbeSocket::PendingError() const {
  char b;
  ssize_t n = recv(fd.get(), &b, 1, MSG_DONTWAIT);
  return n < 0 ? errno : 0;
}

}  // namespace sockbench
