// One interface for every way of destroying sockets. Each approach is one
// class (harness/approaches/) and, for BPF ones, one BPF object (bpf/).
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

// What an approach may see of the fleet before it is built.
struct FleetEnv {
  const NetnsSet* netns = nullptr;
  int cgroup_fd = -1;  // workers' cgroup (cgroup BPF programs attach here)
};

class Destroyer {
 public:
  virtual ~Destroyer() = default;
  virtual const char* name() const = 0;
  // Does the running kernel support this approach? Found by trying (load the
  // BPF object, open the netlink socket); the error says why not.
  virtual absl::Status Probe() = 0;
  // Before the fleet is built (outside timing): load and attach programs
  // (an approach that indexes sockets at connect time attaches here).
  virtual absl::Status Prepare(const FleetEnv& env) = 0;
  // The timed part: destroy every socket matching `target`. Everything an
  // agent would pay is inside: entering namespaces, creating and draining
  // iterators, netlink round trips.
  virtual absl::StatusOr<DestroyStats> Destroy(const Target& target) = 0;
  // After the fleet is gone: detach what Prepare attached.
  virtual void Release() {}
};

}  // namespace sockbench
