// Messages between sockbench and its leak worker (SOCK_SEQPACKET pair).
// The worker is the application: it owns the client sockets, which must be
// created inside the cgroup the socket-LB programs are attached to.
#pragma once

#include <cstdint>

#include "harness/endpoint.h"

namespace sockbench {

enum class LeakOp : uint8_t {
  kOpen = 1,   // open `count` clients to `dst`, exchange traffic, check translation
  kCheck,      // re-check translation of every client of the group
  kClose,      // close the group's clients (and their TCP peers)
  kCookies,    // socket cookies of the group's clients
  kTimeOpen,   // open `count` clients, timing only connect()/first sendto()
  kTimeClose,  // close the group, timing only the clients' close()
};

constexpr int kLeakGroups = 4;
// Bounds a wait for a datagram or a connection on loopback, which normally
// arrives within the sending syscall: only a broken translation hits it.
constexpr int kLeakIoTimeoutMs = 2000;

struct LeakRequest {
  LeakOp op = LeakOp::kOpen;
  uint8_t kind = 0;    // SockKind
  uint8_t group = 0;
  uint8_t backend = 0;  // the backend the traffic reaches (service index)
  int32_t count = 0;
  // kCheck: only clients i with i % stride == phase (a cohort), so each
  // long-lived socket can stay idle between its checks.
  int32_t stride = 1;
  int32_t phase = 0;
  Endpoint dst;        // where the application connects/sends: a VIP, or a backend
  Endpoint expect;     // the peer the application must see
};

struct LeakReply {
  int32_t ok = 0;
  int64_t sockets = 0;       // clients opened / in the group
  int64_t translated = 0;    // the application saw `expect` (the VIP)
  int64_t untranslated = 0;  // it saw the backend: reverse state missing
  int64_t errors = 0;        // a check could not complete
  int64_t aborted = 0;       // kClose: SO_ERROR was ECONNABORTED
  int64_t elapsed_ns = 0;    // kTime*: the timed loop
  // kTime*: median of the calls timed one by one. A call the scheduler (or
  // the hypervisor) interrupted moves the sum but hardly the median.
  int64_t median_call_ns = 0;
  int32_t n_cookies = 0;     // kCookies: that many uint64_t follow the reply
  char message[256] = {};
};

constexpr int kLeakMaxCookies = 8192;

}  // namespace sockbench
