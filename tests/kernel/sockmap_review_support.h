// What the sockmap review tests share (sockmap_review_test.cc,
// sockmap_review_map_key_test.cc): loopback sockets, a namespace of the
// test's own, the test programs' object and map iterator links.
#pragma once

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bpf/sockhash_bucket.h"
#include "sockbench_target.h"
#include "harness/approaches/sockhash_bucket.h"
#include "harness/bpf_skeleton.h"
#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/status.h"
#include "harness/unique_fd.h"
#include "tests/kernel/sockhash_test_support.h"
#include "tests/bpf/sockmap_test.h"
#include "sockmap_test.skel.h"

namespace sockbench {
namespace sockhash_test {

inline sockaddr_in Sin(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// A UDP socket connected to 127.0.0.1:port, bound (and hashed) by connect().
inline UniqueFd UdpConnected(uint16_t port) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(s.valid()) << strerror(errno);
  sockaddr_in a = Sin(port);
  EXPECT_EQ(connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  return s;
}

inline uint16_t LocalPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0) << strerror(errno);
  return ntohs(a.sin_port);
}

inline int SoError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0) << strerror(errno);
  return err;
}

// A fresh network namespace, entered for the scope (its loopback is up).
class InNetns {
 public:
  InNetns() {
    auto fd = NetnsSet::CreateOne({BackendAddressCount(1)});
    EXPECT_TRUE(fd.ok()) << fd.status();
    fd_ = std::move(*fd);
    auto in = ScopedNetns::Enter(fd_.get());
    EXPECT_TRUE(in.ok());
    in_.emplace(std::move(*in));
  }

 private:
  UniqueFd fd_;
  std::optional<ScopedNetns> in_;
};

// The test programs' object with the optional programs a test asks for.
inline absl::StatusOr<BpfSkeleton<sockmap_test_bpf>> LoadWith(const std::vector<std::string>& names,
                                                        uint32_t max_entries = 64) {
  return LoadWithSockhash<sockmap_test_bpf>(max_entries, SB_SOCKHASH_PREFIX_LEN, names);
}

// A map iterator link over map_fd (no key prefix).
inline UniqueFd MapIterLink(int prog_fd, int map_fd) {
  union bpf_iter_link_info linfo;
  std::memset(&linfo, 0, sizeof(linfo));
  linfo.map.map_fd = map_fd;
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.iter_info = &linfo;
  opts.iter_info_len = sizeof(linfo);
  return UniqueFd(bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, &opts));
}

// An established TCP pair on loopback: client (connected) and accepted peer.
struct TcpPair {
  UniqueFd client, peer;
};
inline TcpPair TcpConnected(int listener, uint16_t port) {
  TcpPair p;
  p.client = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = Sin(port);
  EXPECT_EQ(connect(p.client.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << strerror(errno);
  p.peer = UniqueFd(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_TRUE(p.peer.valid()) << strerror(errno);
  return p;
}

}  // namespace sockhash_test
}  // namespace sockbench
