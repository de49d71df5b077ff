// Messages between sockbench and its worker processes (SOCK_SEQPACKET pair).
// Workers are forked after the plan is computed, so they already know what
// to build: commands are single words and replies fixed-size.
#pragma once

#include <cstdint>

namespace sockbench {

enum class WorkerCmd : uint8_t { kBuild = 1, kRecreateTargets = 2, kVerify = 3 };

struct VerifyCounts {
  long targets = 0;         // target clients checked
  long destroyed = 0;       // target saw ECONNABORTED and is disconnected
  long missed = 0;          // target still alive
  long intact = 0;          // non-target client alive, no error
  long extra = 0;           // non-target client or its peer hit
  long peer_reset = 0;      // accepted peer of a destroyed TCP target, reset
  long peer_not_reset = 0;  // such a peer that saw no reset
  long unconnected = 0;     // unconnected UDP senders checked (not among the above)
  long unconnected_extra = 0;  // of those, destroyed (also counted in extra)

  VerifyCounts& operator+=(const VerifyCounts& o) {
    targets += o.targets;
    destroyed += o.destroyed;
    missed += o.missed;
    intact += o.intact;
    extra += o.extra;
    peer_reset += o.peer_reset;
    peer_not_reset += o.peer_not_reset;
    unconnected += o.unconnected;
    unconnected_extra += o.unconnected_extra;
    return *this;
  }
};

struct WorkerReply {
  int32_t ok = 0;             // 1 on success
  VerifyCounts counts;
  char message[400] = {};     // error, or the first verification problem
};

}  // namespace sockbench
