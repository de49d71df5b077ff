// Sockets, namespaces and sysctls for the all-netns iterator selftests
// (iter_all_netns_test.cc, iter_all_netns_churn_test.cc): loopback TCP and
// UDP sockets with their cookies, namespaces with private hash tables.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "sb_constants.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

namespace sockbench {
namespace all_netns_test {

inline uint64_t SockOpt64(int fd, int opt) {
  uint64_t v = 0;
  socklen_t len = sizeof(v);
  if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) < 0) ADD_FAILURE() << "getsockopt " << opt << ": " << strerror(errno);
  return v;
}
inline uint64_t Cookie(int fd) { return SockOpt64(fd, SO_COOKIE); }

// Reset on close: no TIME_WAIT socket (which would carry the same cookie).
inline void CloseWithReset(UniqueFd& fd) {
  linger l{1, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  fd.reset();
}

inline socklen_t Loopback(int family, uint16_t port, sockaddr_storage* ss) {
  memset(ss, 0, sizeof(*ss));
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(*a);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(ss);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  a->sin6_addr = in6addr_loopback;
  return sizeof(*a);
}

inline uint16_t LocalPort(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// Sockets created in one namespace (the calling thread's), with cookies.
struct Sockets {
  std::vector<UniqueFd> fds;
  std::map<uint64_t, std::string> what;  // cookie -> description

  int Keep(UniqueFd fd, const std::string& desc) {
    what[Cookie(fd.get())] = desc;
    fds.push_back(std::move(fd));
    return fds.back().get();
  }
  UniqueFd TcpListener(int family) {
    UniqueFd s(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = Loopback(family, 0, &ss);
    EXPECT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
    EXPECT_EQ(listen(s.get(), 128), 0) << strerror(errno);
    return s;
  }
  // Client and accepted socket of one connection to `listener`.
  std::pair<UniqueFd, UniqueFd> TcpPair(int listener, int family) {
    sockaddr_storage ss;
    socklen_t len = Loopback(family, LocalPort(listener), &ss);
    UniqueFd c(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(connect(c.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
    UniqueFd p(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(p.valid()) << strerror(errno);
    return {std::move(c), std::move(p)};
  }
  UniqueFd Udp(int family, uint16_t port, bool reuseport) {
    UniqueFd s(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    int one = 1;
    if (reuseport) setsockopt(s.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    sockaddr_storage ss;
    socklen_t len = Loopback(family, port, &ss);
    EXPECT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
    return s;
  }
  // A bit of everything, IPv4 and IPv6.
  void Mix(const std::string& ns) {
    for (int family : {AF_INET, AF_INET6}) {
      std::string f = family == AF_INET ? "v4" : "v6";
      int l = Keep(TcpListener(family), ns + " tcp listener " + f);
      auto [c, p] = TcpPair(l, family);
      Keep(std::move(c), ns + " tcp client " + f);
      Keep(std::move(p), ns + " tcp accepted " + f);
      int u = Keep(Udp(family, 0, false), ns + " udp bound " + f);
      UniqueFd uc(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      sockaddr_storage ss;
      socklen_t len = Loopback(family, LocalPort(u), &ss);
      EXPECT_EQ(connect(uc.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
      Keep(std::move(uc), ns + " udp connected " + f);
    }
  }
};

// Writes a sysctl of the calling thread's namespace, restores it on scope exit.
class Sysctl {
 public:
  Sysctl(const std::string& name, const std::string& value) : path_("/proc/sys/net/ipv4/" + name) {
    old_ = Read(path_);
    ok_ = Write(path_, value);
  }
  ~Sysctl() {
    if (ok_) Write(path_, old_);
  }
  bool ok() const { return ok_; }
  static std::string Read(const std::string& path) {
    UniqueFd f(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    char buf[64] = {};
    if (f.valid() && read(f.get(), buf, sizeof(buf) - 1) < 0) buf[0] = 0;
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  static bool Write(const std::string& path, const std::string& v) {
    UniqueFd f(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    return f.valid() && write(f.get(), v.data(), v.size()) == static_cast<ssize_t>(v.size());
  }

 private:
  std::string path_, old_;
  bool ok_ = false;
};

// A namespace created while the creating namespace had
// tcp_child_ehash_entries / udp_child_hash_entries set: private tables.
inline absl::StatusOr<UniqueFd> CreatePrivateTableNetns(int tcp_ehash, int udp_hash) {
  Sysctl t("tcp_child_ehash_entries", std::to_string(tcp_ehash));
  Sysctl u("udp_child_hash_entries", std::to_string(udp_hash));
  if (!t.ok() || !u.ok()) return absl::InternalError("cannot set *_child_*hash_entries");
  return NetnsSet::CreateOne(NetnsOptions{});
}

// tcp_ehash_entries / udp_hash_entries read in `netns_fd`: negative when the
// namespace shares the global table.
inline int TableEntries(int netns_fd, const char* sysctl) {
  auto in = ScopedNetns::Enter(netns_fd);
  EXPECT_TRUE(in.ok());
  return std::atoi(Sysctl::Read(std::string("/proc/sys/net/ipv4/") + sysctl).c_str());
}

inline uint64_t CookieOf(int netns_fd) {
  auto c = NetnsCookie(netns_fd);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : 0;
}

}  // namespace all_netns_test
}  // namespace sockbench
