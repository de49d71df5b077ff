#include "harness/backend_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "harness/status.h"
#include "harness/unique_fd.h"

namespace sockbench {
namespace {

absl::StatusOr<int> OpenServer(int ns, Proto proto, Family family, int backend) {
  Endpoint ep = BackendEndpoint(backend, family);
  UniqueFd fd(socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket for backend server");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (family == Family::kIpv6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return ErrnoStatus(absl::StrFormat("bind backend %s in netns %d", ep.ToString(), ns));
  if (proto == Proto::kTcp && listen(fd.get(), 4096) < 0) return ErrnoStatus("listen");
  return fd.release();
}

}  // namespace

BackendServers& BackendServers::operator=(BackendServers&& o) noexcept {
  if (this != &o) {
    Clear();
    fds_ = std::move(o.fds_);
    o.fds_.clear();
  }
  return *this;
}

absl::StatusOr<int> BackendServers::Get(int ns, Proto proto, Family family, int backend) {
  auto key = std::make_tuple(ns, static_cast<int>(proto), static_cast<int>(family), backend);
  auto it = fds_.find(key);
  if (it != fds_.end()) return it->second;
  SB_ASSIGN_OR_RETURN(int fd, OpenServer(ns, proto, family, backend));
  fds_[key] = fd;
  return fd;
}

absl::Status BackendServers::OpenAll(int ns, const std::vector<BackendServer>& servers) {
  for (const BackendServer& s : servers) SB_RETURN_IF_ERROR(Get(ns, s.proto, s.family, s.backend).status());
  return absl::OkStatus();
}

void BackendServers::Clear() {
  for (auto& [key, fd] : fds_) close(fd);
  fds_.clear();
}

}  // namespace sockbench
