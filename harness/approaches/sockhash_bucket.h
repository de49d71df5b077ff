// sockhash_bucket (RFC "bpf: Efficient socket destruction", sockbench kernel
// patches 0101-0106): sockets enter a SOCKHASH keyed {backend endpoint,
// cookie} at connect time (sock_ops for TCP, cgroup connect4/6 for UDP);
// the map hashes only the endpoint part (map_extra), so a destruction pass
// is one iterator per dead endpoint, restricted to that endpoint's bucket.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include <string>
#include <vector>

#include "harness/bpf_skeleton.h"
#include "harness/destroyer.h"
#include "harness/status.h"
#include "harness/endpoint.h"
#include "harness/unique_fd.h"
#include "bpf/sockhash_bucket.h"

namespace sockbench {

// The key prefix (endpoint part, cookie zero) of sockets connected to `e`.
sb_sockhash_key SockhashPrefix(const Endpoint& e);

// A sockhash iterator link for program `prog_fd` over `map_fd`, restricted
// to the keys starting with `prefix_len` bytes at `prefix` (nullptr: the
// whole map). The kernel requires the prefix to cover map_extra bytes.
absl::StatusOr<UniqueFd> AttachSockhashIter(int prog_fd, int map_fd, const void* prefix,
                                            uint32_t prefix_len);

// Opens skeleton T, whose sb_sockhash is the approach's map
// (bpf/sockhash_bucket_map.bpf.h: the approach's object, or the tests'),
// gives the map this geometry, turns on the `optional` programs (SEC("?..."))
// and loads it.
template <typename T>
absl::StatusOr<BpfSkeleton<T>> LoadWithSockhash(uint32_t max_entries, uint64_t map_extra,
                                                const std::vector<std::string>& optional = {}) {
  SB_ASSIGN_OR_RETURN(BpfSkeleton<T> skel, BpfSkeleton<T>::Open());
  bpf_map__set_max_entries(skel->maps.sb_sockhash, max_entries);
  bpf_map__set_map_extra(skel->maps.sb_sockhash, map_extra);
  for (const std::string& n : optional)
    if (bpf_program* p = bpf_object__find_program_by_name(skel->obj, n.c_str()))
      bpf_program__set_autoload(p, true);
  SB_RETURN_IF_ERROR(skel.Load());
  return skel;
}

// The sockhash's size: the RFC's 1 << 20, or $SOCKBENCH_SOCKHASH_MAX_ENTRIES.
uint32_t SockhashMaxEntries();

class SockhashBucketDestroyer : public Destroyer {
 public:
  explicit SockhashBucketDestroyer(uint32_t max_entries = SB_SOCKHASH_MAX_ENTRIES);
  ~SockhashBucketDestroyer() override;
  const char* name() const override { return "sockhash_bucket"; }
  // Loads the map (max_entries, map_extra) and the programs (the
  // verifier's verdict), then a real check: one connected UDP socket in the
  // map, destroyed through a prefix-restricted iterator.
  absl::Status Probe() override;
  // Attaches the connect-time programs to env.cgroup_fd, or to the cgroup
  // v2 root when there is none (as a socket LB agent does). Only sockets
  // that connect afterwards are indexed.
  absl::Status Prepare(const PrepareEnv& env) override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;
  void Release() override;
  // The sockhash's inserts since Prepare() (which resets them), and its
  // memlock.
  bool TracksAtConnect() const override { return true; }
  TrackedCounts Tracked() const override;
  uint64_t TrackingBytes() const override;

  // After Prepare: the sockhash, and what the connect-time programs did.
  int map_fd() const;
  sb_index_counters index_counters() const;

 private:
  struct State;
  uint32_t max_entries_;
  std::unique_ptr<State> state_;
};

}  // namespace sockbench
