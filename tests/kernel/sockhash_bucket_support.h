// What the sockhash_bucket selftests share (sockhash_bucket_test.cc and
// sockhash_bucket_price_test.cc): sockets, keys, the test programs' object
// and a namespace of the test's own.
#pragma once

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bpf/sockhash_bucket.h"
#include "sb_constants.h"
#include "sockbench_target.h"
#include "harness/status.h"
#include "harness/approaches/sockhash_bucket.h"
#include "harness/bpf_skeleton.h"
#include "harness/endpoint.h"
#include "harness/netns.h"
#include "harness/unique_fd.h"
#include "tests/kernel/sockhash_test_support.h"
#include "nlohmann/json.hpp"
#include "tests/bpf/sockmap_test.h"
#include "sockmap_test.skel.h"
#include "tests/kernel/destroy_scene.h"

namespace sockbench {
namespace sockhash_test {

// A UDP socket connected to `to` (no server needed), bound by connect().
inline UniqueFd UdpConnected(const Endpoint& to) {
  UniqueFd s(socket(AfOf(to.family), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(s.valid());
  sockaddr_storage ss;
  socklen_t len = to.ToSockaddr(&ss);
  EXPECT_EQ(connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
  return s;
}

// All keys of a sockhash, by syscall.
inline std::vector<sb_sockhash_key> Keys(int map) {
  std::vector<sb_sockhash_key> out;
  sb_sockhash_key k, next;
  void* prev = nullptr;
  while (bpf_map_get_next_key(map, prev, &next) == 0) {
    out.push_back(next);
    k = next;
    prev = &k;
  }
  return out;
}

// The test programs' object (tests/bpf/sockmap_test.bpf.c) with its own
// sockhash; tests vary the map geometry.
inline absl::StatusOr<BpfSkeleton<sockmap_test_bpf>> LoadSkel(uint32_t max_entries, uint64_t map_extra) {
  return LoadWithSockhash<sockmap_test_bpf>(max_entries, map_extra);
}

// NetnsSet returns once the namespace's IPv6 addresses bind and route.
inline absl::StatusOr<UniqueFd> NewNetns() { return NetnsSet::CreateOne({BackendAddressCount(3)}); }

class InNetns {
 public:
  InNetns() {
    auto fd = NewNetns();
    EXPECT_TRUE(fd.ok()) << fd.status();
    fd_ = std::move(*fd);
    auto in = ScopedNetns::Enter(fd_.get());
    EXPECT_TRUE(in.ok());
    in_.emplace(std::move(*in));
  }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::optional<ScopedNetns> in_;
};

}  // namespace sockhash_test
}  // namespace sockbench
