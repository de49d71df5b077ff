// What the sockhash_bucket selftests and the sockmap review tests share:
// whether the running kernel has the sockmap series, and small helpers.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "harness/approaches/sockhash_bucket.h"
#include "harness/endpoint.h"
#include "harness/unique_fd.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

namespace sockbench {
namespace sockhash_test {

// Why the sockhash_bucket approach does not load here ("" if it does).
inline const std::string& SkipReason() {
  static const std::string reason = [] {
    SockhashBucketDestroyer d;
    absl::Status st = d.Probe();
    return st.ok() ? std::string() : std::string(st.message());
  }();
  return reason;
}

inline uint64_t Cookie(int fd) {
  uint64_t c = 0;
  socklen_t len = sizeof(c);
  EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len), 0) << strerror(errno);
  return c;
}

inline Endpoint Loopback4(uint16_t port) {
  Endpoint e;
  e.family = Family::kIpv4;
  e.addr[0] = 127;
  e.addr[3] = 1;
  e.port_be = htons(port);
  return e;
}

// Reads a fresh iterator of `link_fd` `chunk` bytes at a time, calling
// `between` after every read, and returns the 8-byte records (cookies) the
// program wrote; fails the test after `max_reads` reads (a stuck pass).
inline std::vector<uint64_t> DumpCookies(int link_fd, size_t chunk,
                                         const std::function<void()>& between = nullptr,
                                         int max_reads = 100000) {
  std::vector<uint64_t> out;
  UniqueFd it(bpf_iter_create(link_fd));
  EXPECT_TRUE(it.valid()) << strerror(errno);
  std::vector<char> buf(chunk);
  std::string all;
  for (int reads = 0;; ++reads) {
    if (reads >= max_reads) {
      ADD_FAILURE() << "iterator did not finish after " << reads << " reads (stuck?)";
      break;
    }
    ssize_t n = read(it.get(), buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      ADD_FAILURE() << "read iterator: " << strerror(errno);
      break;
    }
    all.append(buf.data(), n);
    if (between) between();
  }
  EXPECT_EQ(all.size() % 8, 0u);
  for (size_t i = 0; i + 8 <= all.size(); i += 8) {
    uint64_t c;
    std::memcpy(&c, all.data() + i, 8);
    out.push_back(c);
  }
  return out;
}

}  // namespace sockhash_test
}  // namespace sockbench

#define SKIP_UNLESS_SUPPORTED()                                                                           \
  do {                                                                                                    \
    if (!::sockbench::sockhash_test::SkipReason().empty())                                                \
      GTEST_SKIP() << "sockhash_bucket unsupported (sockmap series missing): "                            \
                   << ::sockbench::sockhash_test::SkipReason();                                           \
  } while (0)
