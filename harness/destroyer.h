// One interface for every way of destroying sockets. Each approach is one
// class (harness/approaches/) and, for BPF ones, one BPF object (bpf/); the
// registry (harness/registry.cc) names them.
//
// Lifecycle, as harness/scenario.cc drives it:
//   Probe()    once: load (and keep) what the approach needs;
//   per scenario: Prepare(env) before the fleet is built, Destroy(target)
//              once per timed repetition, Release() after the fleet is gone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "harness/netns.h"

namespace sockbench {

// What a destruction pass reports about itself (beyond what the fleet sees).
struct DestroyStats {
  uint64_t visited = 0;    // sockets the approach examined
  uint64_t matched = 0;    // of those, sockets it tried to destroy
  uint64_t destroyed = 0;  // destroy calls that succeeded
  uint64_t failed = 0;     // destroy calls that returned an error
};

// What an approach may see of a scenario before its fleet is built.
struct PrepareEnv {
  const NetnsSet* netns = nullptr;
  int cgroup_fd = -1;  // workers' cgroup (cgroup BPF programs attach here)
};

// What the connect-time programs of an approach that tracks sockets
// (Destroyer::TracksAtConnect) have recorded.
struct TrackedCounts {
  uint64_t recorded = 0;  // sockets recorded (a socket closed since stays counted)
  uint64_t failed = 0;    // sockets that could not be recorded
};

class Destroyer {
 public:
  virtual ~Destroyer() = default;
  virtual const char* name() const = 0;
  // Does the running kernel support this approach? Found by trying (load
  // the BPF object, open the netlink socket); the error says why not. What
  // it loads is kept for Prepare() and Destroy(): a supported approach
  // loads once, and a second call does not load again.
  virtual absl::Status Probe() = 0;
  // Before a scenario's fleet is built (outside timing): attach what must
  // see the sockets being created (an approach that indexes sockets at
  // connect time). Probes first if Probe() has not succeeded yet.
  virtual absl::Status Prepare(const PrepareEnv& env) { return Probe(); }
  // The timed part: destroy every socket matching `target`. Everything an
  // agent would pay is inside: entering namespaces, creating and draining
  // iterators, netlink round trips.
  virtual absl::StatusOr<DestroyStats> Destroy(const Target& target) = 0;
  // After the scenario's fleet is gone: detach what Prepare() attached.
  // What Probe() loaded stays for the next scenario.
  virtual void Release() {}

  // Does Prepare() attach programs that record each socket as it connects
  // (an index kept at connect time)? Every connect() in the cgroup then
  // pays them: `sockbench price` measures what that costs.
  virtual bool TracksAtConnect() const { return false; }
  // What those programs recorded so far, cumulative (callers take the
  // difference over what they measure); zero for an approach that tracks
  // nothing.
  virtual TrackedCounts Tracked() const { return {}; }
  // The kernel memory of what it keeps per socket: its maps' memlock as the
  // kernel accounts it (fdinfo). 0 before Probe() and for an approach that
  // keeps nothing.
  virtual uint64_t TrackingBytes() const { return 0; }
};

}  // namespace sockbench
