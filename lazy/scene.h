// The lazy runner's small cluster (docs/lazy.md): pod namespaces, a node
// namespace that routes between them and a backends namespace, joined by
// veth pairs, with one process per backend (UDP and TCP echo, IPv4 and
// IPv6). Nothing is on loopback: every datagram to a backend crosses the
// node's forward path, where the cluster's datapath decides.
//
//   pod i: eth0 10.201.i.2/24, fd00:5d:i::2/64   (default route via the node)
//   node:  p<i> 10.201.i.1, fd00:5d:i::1; b0 10.202.0.1, fd00:5e::1; forwarding on
//   backends: eth0 10.202.0.2, fd00:5e::2; backend b at 10.202.0.(10+b) and
//             fd00:5e::(10+b), port 8000
//
// A backend dies as a node or pod does when nothing says goodbye: the node's
// datapath starts dropping everything to and from its address (nft set
// `gone`), then its process is killed (its FIN and RST are dropped), then its
// address is removed. What a client learns after that is what an approach
// makes the datapath or the kernel tell it.
//
// Everything is anonymous namespaces held by descriptors and processes we
// started (registered with harness/cleanup.h): nothing outlives sockbench.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "harness/unique_fd.h"
#include "lazy/nft.h"

namespace sockbench {

constexpr uint16_t kLazyBackendPort = 8000;
// Backend b's address (port kLazyBackendPort).
Endpoint LazyBackend(int backend, Family family);
// Pod i's own address.
Endpoint LazyPodAddress(int pod, Family family);

struct SceneOptions {
  int pods = 1;
  int backends = 2;
  // The node's per-destination ICMP rate limit (net.ipv4.icmp_ratelimit and
  // net.ipv6.icmp.ratelimit, ms); -1 leaves the kernel's default (1000).
  int icmp_ratelimit_ms = -1;
};

class Scene {
 public:
  static absl::StatusOr<std::unique_ptr<Scene>> Create(const SceneOptions& opts);
  ~Scene();

  int pods() const { return static_cast<int>(pods_.size()); }
  int pod_fd(int i) const { return pods_[i].get(); }
  uint64_t pod_cookie(int i) const { return pod_cookies_[i]; }
  std::vector<int> PodFds() const;
  int node_fd() const { return node_.get(); }
  int backends_fd() const { return backends_ns_.get(); }
  Nft& node_nft() { return *nft_; }

  // The backend becomes unreachable (drop at the node), then its process
  // and its address go. Returns when the drop is in place.
  absl::Status KillBackend(int backend);
  // CLOCK_MONOTONIC ns at which KillBackend's drop took effect.
  int64_t death_ns() const { return death_ns_; }

 private:
  Scene() = default;
  absl::Status Build(const SceneOptions& opts);
  absl::Status StartBackend(int b);
  absl::Status WarmUp(int backends);

  std::vector<UniqueFd> pods_;
  std::vector<uint64_t> pod_cookies_;
  UniqueFd node_, backends_ns_;
  std::unique_ptr<Nft> nft_;
  std::vector<pid_t> backend_pids_;
  int64_t death_ns_ = 0;
};

// Runs `argv` (PATH lookup) with `input` on its standard input, in `netns_fd`.
absl::Status RunIn(int netns_fd, const std::vector<std::string>& argv, const std::string& input);
// Writes a /proc/sys file as seen from `netns_fd`.
absl::Status WriteSysctl(int netns_fd, const std::string& path, const std::string& value);

int64_t MonotonicNs();

}  // namespace sockbench
