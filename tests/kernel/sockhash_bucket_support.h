// What the sockhash_bucket selftests (sockhash_bucket_test.cc) use:
// sockets, keys, the test programs' object and a namespace of the test's
// own.
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
#include <condition_variable>
#include <deque>
#include <mutex>
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

// The kernel's jhash() (include/linux/jhash.h), which a sockhash uses with
// initval 0 over its first map_extra key bytes to choose a bucket
// (sock_hash_bucket_hash(), sockmap series 0006): the bucket of a key is
// Jhash(&key, SB_SOCKHASH_PREFIX_LEN) & (buckets - 1), buckets being
// max_entries rounded up to a power of two. Lets a test pick keys that
// share a bucket; whether they do is then checked against the kernel.
inline uint32_t Jhash(const void* key, uint32_t length, uint32_t initval = 0) {
  auto rol = [](uint32_t w, int s) { return (w << s) | (w >> (32 - s)); };
  const auto* k = static_cast<const uint8_t*>(key);
  uint32_t a, b, c;
  a = b = c = 0xdeadbeef + length + initval;
  auto word = [](const uint8_t* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);  // get_unaligned(): native order (x86: little)
    return w;
  };
  while (length > 12) {
    a += word(k);
    b += word(k + 4);
    c += word(k + 8);
    a -= c; a ^= rol(c, 4);  c += b;
    b -= a; b ^= rol(a, 6);  a += c;
    c -= b; c ^= rol(b, 8);  b += a;
    a -= c; a ^= rol(c, 16); c += b;
    b -= a; b ^= rol(a, 19); a += c;
    c -= b; c ^= rol(b, 4);  b += a;
    length -= 12;
    k += 12;
  }
  switch (length) {
    case 12: c += static_cast<uint32_t>(k[11]) << 24; [[fallthrough]];
    case 11: c += static_cast<uint32_t>(k[10]) << 16; [[fallthrough]];
    case 10: c += static_cast<uint32_t>(k[9]) << 8; [[fallthrough]];
    case 9: c += k[8]; [[fallthrough]];
    case 8: b += static_cast<uint32_t>(k[7]) << 24; [[fallthrough]];
    case 7: b += static_cast<uint32_t>(k[6]) << 16; [[fallthrough]];
    case 6: b += static_cast<uint32_t>(k[5]) << 8; [[fallthrough]];
    case 5: b += k[4]; [[fallthrough]];
    case 4: a += static_cast<uint32_t>(k[3]) << 24; [[fallthrough]];
    case 3: a += static_cast<uint32_t>(k[2]) << 16; [[fallthrough]];
    case 2: a += static_cast<uint32_t>(k[1]) << 8; [[fallthrough]];
    case 1:
      a += k[0];
      c ^= b; c -= rol(b, 14);
      a ^= c; a -= rol(c, 11);
      b ^= a; b -= rol(a, 25);
      c ^= b; c -= rol(b, 16);
      a ^= c; a -= rol(c, 4);
      b ^= a; b -= rol(a, 14);
      c ^= b; c -= rol(b, 24);
      break;
    case 0:
      break;
  }
  return c;
}

inline uint32_t BucketOf(const sb_sockhash_key& prefix, uint32_t buckets) {
  return Jhash(&prefix, SB_SOCKHASH_PREFIX_LEN) & (buckets - 1);
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
