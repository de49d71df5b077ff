#include "harness/netns.h"

#include <fcntl.h>
#include <linux/ipv6.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "harness/endpoint.h"
#include "harness/status.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace sockbench {
namespace {

// glibc's <netinet/in.h> and <linux/ipv6.h> disagree; declare what ioctl needs.
struct In6Ifreq {
  in6_addr addr;
  uint32_t prefixlen;
  int ifindex;
};

absl::Status BringUpLoopback() {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return ErrnoStatus("socket(AF_INET) for loopback setup");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) return ErrnoStatus("SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) return ErrnoStatus("SIOCSIFFLAGS lo up");
  return absl::OkStatus();
}

// Loopback skips duplicate address detection, so the address is usable at
// once: no waiting for it to leave the tentative state.
absl::Status AddIpv6Addresses(int count) {
  if (count == 0) return absl::OkStatus();
  UniqueFd s(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return ErrnoStatus("socket(AF_INET6) for address setup");
  int lo = static_cast<int>(if_nametoindex("lo"));
  for (int i = 0; i < count; ++i) {
    In6Ifreq req{};
    Endpoint a = BackendAddress(i, Family::kIpv6);
    std::memcpy(&req.addr, a.addr.data(), 16);
    req.prefixlen = 128;
    req.ifindex = lo;
    if (ioctl(s.get(), SIOCSIFADDR, &req) < 0)
      return ErrnoStatus(absl::StrCat("add ", a.ToString(), " to lo"));
  }
  return absl::OkStatus();
}

// /proc/sys/net resolves to the namespace of the opening thread. A wide range
// lets one namespace hold tens of thousands of UDP clients (each autobinds a
// port of its own); backend ports (8000, 8001) stay below it.
absl::Status WidenPortRange() {
  UniqueFd f(open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY | O_CLOEXEC));
  if (!f.valid()) return ErrnoStatus("open ip_local_port_range");
  static const char kRange[] = "10000 65535";
  if (write(f.get(), kRange, sizeof(kRange) - 1) < 0)
    return ErrnoStatus("write ip_local_port_range");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UniqueFd> CurrentNetns() {
  UniqueFd fd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("open /proc/thread-self/ns/net");
  return fd;
}

absl::Status SetNetns(int netns_fd) {
  if (setns(netns_fd, CLONE_NEWNET) < 0) return ErrnoStatus("setns(CLONE_NEWNET)");
  return absl::OkStatus();
}

absl::StatusOr<ScopedNetns> ScopedNetns::Enter(int netns_fd) {
  SB_ASSIGN_OR_RETURN(UniqueFd home, CurrentNetns());
  SB_RETURN_IF_ERROR(SetNetns(netns_fd));
  return ScopedNetns(std::move(home));
}

ScopedNetns::~ScopedNetns() {
  // Failing to return would leave the thread in a fleet namespace; there is
  // no sane way to continue, and the namespaces die with the process anyway.
  if (home_.valid() && setns(home_.get(), CLONE_NEWNET) < 0) abort();
}

absl::StatusOr<uint64_t> NetnsCookie(int netns_fd) {
  SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(netns_fd));
  UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return ErrnoStatus("socket for SO_NETNS_COOKIE");
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(s.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
    return ErrnoStatus("getsockopt(SO_NETNS_COOKIE)");
  return cookie;
}

absl::StatusOr<UniqueFd> NetnsSet::CreateOne(const NetnsOptions& opts) {
  SB_ASSIGN_OR_RETURN(UniqueFd home, CurrentNetns());
  if (unshare(CLONE_NEWNET) < 0) return ErrnoStatus("unshare(CLONE_NEWNET)");
  absl::Status st = BringUpLoopback();
  if (st.ok()) st = AddIpv6Addresses(opts.ipv6_addresses);
  if (st.ok()) st = WidenPortRange();
  absl::StatusOr<UniqueFd> fd = CurrentNetns();
  if (setns(home.get(), CLONE_NEWNET) < 0) abort();
  SB_RETURN_IF_ERROR(st);
  return fd;
}

absl::StatusOr<NetnsSet> NetnsSet::Create(int count, const NetnsOptions& opts,
                                          void (*progress)(int, int)) {
  NetnsSet set;
  set.fds_.reserve(count);
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<UniqueFd> fd = CreateOne(opts);
    if (!fd.ok())
      return absl::Status(fd.status().code(),
                          absl::StrCat("namespace ", i, ": ", fd.status().message()));
    SB_ASSIGN_OR_RETURN(uint64_t cookie, NetnsCookie(fd->get()));
    set.fds_.push_back(std::move(*fd));
    set.cookies_.push_back(cookie);
    if (progress) progress(i + 1, count);
  }
  return set;
}

std::vector<int> NetnsSet::AllFds() const {
  std::vector<int> out;
  out.reserve(fds_.size());
  for (const auto& f : fds_) out.push_back(f.get());
  return out;
}

void NetnsSet::CloseAllBut(const std::vector<int>& keep) {
  std::vector<bool> k(fds_.size(), false);
  for (int i : keep) k[i] = true;
  for (size_t i = 0; i < fds_.size(); ++i)
    if (!k[i]) fds_[i].reset();
}

}  // namespace sockbench
