// The lazy approaches (docs/lazy.md): no search for sockets. When a backend
// dies the agent updates one entry of what the datapath or a socket program
// consults, and each socket learns the backend is gone the next time it
// talks to it. Lifecycle, as lazy/runner.cc drives it:
//   Probe()        once: can this kernel do it (load, attach, apply rules in
//                  a scratch namespace); the error is the kernel's reason;
//   Prepare(env)   before the clients exist: attach programs, install rules;
//   BackendDied()  the agent's action, timed;
//   Deadline()     for a combined strategy: after `deadline_ms`, the search
//                  for those that have not noticed (timed);
//   Release()      detach; the scene's namespaces go after.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/destroyer.h"
#include "harness/endpoint.h"

namespace sockbench {

class Scene;

// How the datapath answers a datagram to a dead backend.
enum class IcmpKind : uint8_t { kPortUnreachable = 0, kHostUnreachable = 1, kAdminProhibited = 2 };
const char* IcmpKindName(IcmpKind k);
// icmp_unreachable's nft table in the node: the forward chain rejects UDP
// to the (address, port) pairs of its sets reject4/reject6 with `kind`.
std::string IcmpRejectRules(IcmpKind kind);

struct LazyOptions {
  IcmpKind icmp = IcmpKind::kPortUnreachable;
  int tcp_user_timeout_ms = 500;
  int deadline_ms = 2000;  // lazy_then_iter_per_netns: when the pass runs
};

struct LazyEnv {
  Scene* scene = nullptr;
  int cgroup_fd = -1;              // the clients' cgroup
  std::vector<Endpoint> dead;      // the dying backend, IPv4 and IPv6
  LazyOptions opts;
};

class LazyApproach {
 public:
  virtual ~LazyApproach() = default;
  virtual const char* name() const = 0;
  virtual absl::Status Probe() = 0;
  virtual absl::Status Prepare(const LazyEnv& env) = 0;
  virtual absl::Status BackendDied(const LazyEnv& env) = 0;
  virtual bool HasDeadline() const { return false; }
  virtual absl::StatusOr<DestroyStats> Deadline(const LazyEnv& env) { return DestroyStats{}; }
  virtual void Release() {}
  // What the approach's programs counted (sock_ops calls, ns per call, ...).
  virtual std::map<std::string, double> Counters() const { return {}; }
};

std::unique_ptr<LazyApproach> MakeIcmpUnreachable();
std::unique_ptr<LazyApproach> MakeRtoTimeout();
std::unique_ptr<LazyApproach> MakeRtoVerdict();
std::unique_ptr<LazyApproach> MakeLazyThenIterPerNetns();
// Comparison rows of the lazy table, not lazy approaches: `none` (the black
// hole alone: what sockets learn with no help) and a destroy approach of the
// main registry run at the death (its pass is the agent's action).
std::unique_ptr<LazyApproach> MakeNoAgent();
std::unique_ptr<LazyApproach> MakeDestroyAtDeath(const std::string& destroyer);

// The verifier's verdict on a sock_ops RTO_CB program that calls
// bpf_set_retval() (what the maintainer suggested): OK if it loads, else the
// reason. docs/lazy.md records it.
absl::Status ProbeSetRetvalFromRtoCb();

}  // namespace sockbench
