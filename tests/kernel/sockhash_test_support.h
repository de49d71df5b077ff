// What the sockhash_bucket selftests and the sockmap review tests share:
// whether the running kernel has the sockmap series, and two small helpers.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "harness/approaches/sockhash_bucket.h"
#include "harness/endpoint.h"

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

}  // namespace sockhash_test
}  // namespace sockbench

#define SKIP_UNLESS_SUPPORTED()                                                                           \
  do {                                                                                                    \
    if (!::sockbench::sockhash_test::SkipReason().empty())                                                \
      GTEST_SKIP() << "sockhash_bucket unsupported (sockmap series missing): "                            \
                   << ::sockbench::sockhash_test::SkipReason();                                           \
  } while (0)
