// The fleet's network namespaces: created anonymously (no bind mount under
// /run/netns), so they vanish with the last process or fd holding them:
// nothing survives a crash of sockbench.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/progress.h"
#include "harness/unique_fd.h"

namespace sockbench {

// Enters a network namespace for the lifetime of the object and returns the
// calling thread to the namespace it came from.
class ScopedNetns {
 public:
  static absl::StatusOr<ScopedNetns> Enter(int netns_fd);
  ScopedNetns(ScopedNetns&&) = default;
  ~ScopedNetns();

 private:
  explicit ScopedNetns(UniqueFd home) : home_(std::move(home)) {}
  UniqueFd home_;
};

// Switch the calling thread to `netns_fd` without coming back: the timed
// loops of the approaches use this, and restore the home namespace once.
absl::Status SetNetns(int netns_fd);
absl::StatusOr<UniqueFd> CurrentNetns();

struct NetnsOptions {
  int ipv6_addresses = 0;         // fd00:5b::1.. added to lo (backends)
  int client_ipv6_addresses = 0;  // fd00:5c::1.. added to lo (ClientSourceAddress)
};

class NetnsSet {
 public:
  // Creates `count` namespaces with loopback up, the backend addresses on
  // loopback and a wide ephemeral port range.
  static absl::StatusOr<NetnsSet> Create(int count, const NetnsOptions& opts,
                                         const ProgressFn& progress = nullptr);
  // A namespace set can also be built one at a time (tests).
  static absl::StatusOr<UniqueFd> CreateOne(const NetnsOptions& opts);

  int size() const { return static_cast<int>(fds_.size()); }
  int fd(int i) const { return fds_[i].get(); }
  uint64_t cookie(int i) const { return cookies_[i]; }
  std::vector<int> AllFds() const;
  const std::vector<uint64_t>& cookies() const { return cookies_; }
  // Close the descriptors of namespaces this process does not need (workers).
  void CloseAllBut(const std::vector<int>& keep);

 private:
  std::vector<UniqueFd> fds_;
  std::vector<uint64_t> cookies_;
};

// The netns cookie (SO_NETNS_COOKIE) of the namespace behind `netns_fd`.
absl::StatusOr<uint64_t> NetnsCookie(int netns_fd);

}  // namespace sockbench
