// The socket a probe destroys to prove an approach works end to end: a UDP
// socket on loopback connected to itself, in the current namespace.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "harness/unique_fd.h"

namespace sockbench {

struct ProbeSocket {
  UniqueFd fd;
  Endpoint local;  // also its peer
  uint64_t cookie = 0;
  uint64_t netns_cookie = 0;

  static absl::StatusOr<ProbeSocket> Create();
  // What the application's next recv() reports: the pending socket error
  // (ECONNABORTED once destroyed), or 0.
  int PendingError() const;
};

}  // namespace sockbench
