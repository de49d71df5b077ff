#include "harness/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "harness/endpoint.h"
#include "harness/status.h"
#include "sb_constants.h"

namespace sockbench {
namespace {

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

// Added over rtnetlink with IFA_F_NODAD: an address added without it (the
// SIOCSIFADDR ioctl, `ip addr add`) starts tentative even on loopback until
// the DAD work item runs, and a bind() in that window fails with
// EADDRNOTAVAIL. NODAD makes the address usable when the request is acked.
// One socket, one acked request per address, so an error names its address.
// Usable means: bind() to it works and the kernel has a route to it (a UDP
// connect() sends nothing but does the route lookup; the only route is the
// address's local route, see AddIpv6Addresses). Returns the errno of
// the first check that fails, 0 when both pass.
int Ipv6Unusable(const Endpoint& addr) {
  UniqueFd s(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return errno;
  Endpoint ep = addr;
  ep.port_be = 0;
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return errno;
  ep.port_be = htons(9);
  len = ep.ToSockaddr(&ss);
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return errno;
  return 0;
}

// Even with IFA_F_NODAD the kernel finishes a new address from a workqueue:
// it stays tentative, and its local route absent, for a moment after the
// RTM_NEWADDR ack (seen as EADDRNOTAVAIL on bind and ENETUNREACH on connect).
// `events` was subscribed to address and route changes before the addresses
// were added, so no change can slip between a failed check and the wait.
// That work item takes the RTNL, so it waits for whoever holds it: the
// cleanup of a namespace an earlier test or scenario dropped holds it while
// it unregisters every device (deleting a namespace of 5,000 veth pairs here
// delayed an `ip addr add` in another namespace by 1.05 s). A CI run once
// failed with a one-second limit, so the wait is bounded only by a deadline
// that no RTNL holder of this suite comes near. That is not the whole
// story: an address can also stay unroutable with its route in place (see
// kStuckAfter below).
constexpr absl::Duration kIpv6UsableDeadline = absl::Seconds(30);

// For the error when an address never became usable: the kernel's view of
// it in this thread's namespace, its line of if_inet6 (index, prefix,
// scope, IFA_F_* flags in hex) and every route to it in ipv6_route (all
// tables), so a CI log says which half was missing.
std::string Ipv6State(const Endpoint& addr) {
  std::string hex;
  for (uint8_t b : addr.addr) absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
  std::string out;
  for (const char* file : {"/proc/thread-self/net/if_inet6", "/proc/thread-self/net/ipv6_route"}) {
    std::ifstream in(file);
    std::string line, found;
    while (std::getline(in, line))
      if (line.find(hex) != std::string::npos) absl::StrAppend(&found, found.empty() ? "" : " | ", line);
    absl::StrAppend(&out, out.empty() ? "" : "; ", file, ": ", found.empty() ? "no line" : found);
  }
  return out;
}

// One acked RTM_NEWADDR or RTM_DELADDR of `a` on lo, whose index is `lo`
// (the flags as explained in AddIpv6Addresses).
absl::Status AddrRequest(mnl_socket* nl, uint32_t lo, uint16_t type, const Endpoint& a, uint32_t seq) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
  nlh->nlmsg_seq = seq;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET6;
  ifa->ifa_prefixlen = 128;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = lo;
  mnl_attr_put(nlh, IFA_LOCAL, 16, a.addr.data());
  mnl_attr_put(nlh, IFA_ADDRESS, 16, a.addr.data());
  if (type == RTM_NEWADDR)
    mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE);
  const std::string what = absl::StrCat(type == RTM_NEWADDR ? "add " : "delete ", a.ToString(), " on lo");
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return ErrnoStatus(what);
  const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
  if (n < 0) return ErrnoStatus(what);
  // The ack is an NLMSG_ERROR; mnl_cb_run turns a nonzero error into -1/errno.
  if (mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, mnl_socket_get_portid(nl), nullptr, nullptr) < 0)
    return ErrnoStatus(what);
  return absl::OkStatus();
}

// CI saw an address stay bindable (not tentative) but unroutable
// (ENETUNREACH) for the whole 30 s, although if_inet6 listed it and
// ipv6_route listed its local route; no pcpu copy of that route was ever
// made (its refcount stayed 2), so every lookup failed before reaching it.
// Not understood, and not reproduced outside CI. An address left in that
// state for kStuckAfter is deleted and added again, at most kReadds times,
// and the re-add said on stderr with the kernel's view of it, so a run
// that recovers still shows it happened.
constexpr absl::Duration kStuckAfter = absl::Seconds(2);
constexpr int kReadds = 3;

absl::Status WaitIpv6Usable(mnl_socket* events, mnl_socket* nl, uint32_t lo,
                            const std::vector<Endpoint>& addresses) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  const absl::Time deadline = absl::Now() + kIpv6UsableDeadline;
  uint32_t seq = 1u << 20;
  for (const Endpoint& a : addresses) {
    absl::Time unroutable_since = absl::InfiniteFuture();
    int readds = 0;
    for (;;) {
      const int err = Ipv6Unusable(a);
      if (err == 0) break;
      if (err != EADDRNOTAVAIL && err != ENETUNREACH)
        return ErrnoStatus(absl::StrCat("check ", a.ToString()), err);
      const absl::Time now = absl::Now();
      if (err != ENETUNREACH) {
        unroutable_since = absl::InfiniteFuture();
      } else if (unroutable_since == absl::InfiniteFuture()) {
        unroutable_since = now;
      } else if (now - unroutable_since >= kStuckAfter && readds < kReadds) {
        std::fprintf(stderr, "sockbench: %s bindable but unroutable for %s (%s); deleting and adding it again\n",
                     a.ToString().c_str(), absl::FormatDuration(now - unroutable_since).c_str(),
                     Ipv6State(a).c_str());
        SB_RETURN_IF_ERROR(AddrRequest(nl, lo, RTM_DELADDR, a, ++seq));
        SB_RETURN_IF_ERROR(AddrRequest(nl, lo, RTM_NEWADDR, a, ++seq));
        ++readds;
        unroutable_since = absl::InfiniteFuture();
        continue;
      }
      // Woken by the next address or route event, or at the next point
      // where a stuck address is due for its re-add.
      absl::Time wake = deadline;
      if (unroutable_since != absl::InfiniteFuture() && readds < kReadds)
        wake = std::min(wake, unroutable_since + kStuckAfter);
      const int wait_ms = static_cast<int>(
          absl::ToInt64Milliseconds(std::max(wake - now, absl::ZeroDuration())));
      pollfd p{mnl_socket_get_fd(events), POLLIN, 0};
      const int ready = wait_ms == 0 ? 0 : poll(&p, 1, wait_ms);
      if (ready < 0) return ErrnoStatus("poll address events");
      if (ready == 0 && absl::Now() >= deadline)
        return absl::DeadlineExceededError(
            absl::StrCat(a.ToString(), " never became usable within ",
                         absl::FormatDuration(kIpv6UsableDeadline), ": ", std::strerror(err), " (",
                         Ipv6State(a), "; re-added ", readds, " times)"));
      // Drained whole: the events of later addresses go too, which is safe
      // because each address is checked before any wait for it.
      while (recv(mnl_socket_get_fd(events), buf.data(), buf.size(), MSG_DONTWAIT) > 0) {
      }
    }
  }
  return absl::OkStatus();
}

absl::Status AddIpv6Addresses(const std::vector<Endpoint>& addresses) {
  if (addresses.empty()) return absl::OkStatus();
  mnl_socket* events = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (events == nullptr) return ErrnoStatus("rtnetlink socket for address events");
  absl::Cleanup close_events = [events] { mnl_socket_close(events); };
  if (mnl_socket_bind(events, RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE, MNL_SOCKET_AUTOPID) < 0)
    return ErrnoStatus("subscribe to IPv6 address and route events");
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == nullptr) return ErrnoStatus("rtnetlink socket for address setup");
  absl::Cleanup close_nl = [nl] { mnl_socket_close(nl); };
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return ErrnoStatus("bind rtnetlink");
  // NOPREFIXROUTE: the address's only route is then its local route, the
  // one the kernel inserts when the address becomes usable. With a /128
  // prefix route as well, a connect() could be routed (through the prefix
  // route) before the address was local: the SYN came back unroutable and
  // TCP connect() failed with ENETUNREACH, and WaitIpv6Usable's check
  // could not tell the two routes apart.
  const uint32_t lo = if_nametoindex("lo");
  if (lo == 0) return ErrnoStatus("if_nametoindex(lo)");
  for (size_t i = 0; i < addresses.size(); ++i)
    SB_RETURN_IF_ERROR(AddrRequest(nl, lo, RTM_NEWADDR, addresses[i], static_cast<uint32_t>(i + 1)));
  return WaitIpv6Usable(events, nl, lo, addresses);
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
  std::vector<Endpoint> ipv6;
  for (int i = 0; i < opts.ipv6_addresses; ++i) ipv6.push_back(BackendAddress(i, Family::kIpv6));
  for (int i = 0; i < opts.client_ipv6_addresses; ++i)
    ipv6.push_back(ClientSourceAddress(i, Family::kIpv6));
  if (st.ok()) st = AddIpv6Addresses(ipv6);
  if (st.ok()) st = WidenPortRange();
  absl::StatusOr<UniqueFd> fd = CurrentNetns();
  if (setns(home.get(), CLONE_NEWNET) < 0) abort();
  SB_RETURN_IF_ERROR(st);
  return fd;
}

absl::StatusOr<NetnsSet> NetnsSet::Create(int count, const NetnsOptions& opts,
                                          const ProgressFn& progress) {
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
