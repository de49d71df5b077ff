// sleepable_kfunc (proposed, the BPF maintainers' direction; sockbench's
// sleepable series): fexit on connect records each socket of the agent's
// cgroup in an index keyed by backend; per dying backend, one
// BPF_PROG_TEST_RUN of a sleepable SEC("syscall") program takes the
// backend's entries, looks each socket up by 4-tuple and netns cookie
// (bpf_sk_lookup_connected) and destroys it (bpf_sock_destroy_might_sleep).
// Two indexes: a hash of per-backend slots, and a bpf_rb_root.
#pragma once

#include <cstdint>
#include <memory>

#include "harness/destroyer.h"

namespace sockbench {

enum class SleepableIndex { kHash, kRbtree };

// The index as the connect and release programs kept it.
struct SleepableIndexStats {
  uint64_t inserted = 0;  // sockets added at connect
  uint64_t removed = 0;   // entries removed at release
  uint64_t popped = 0;    // entries destroy passes took
  uint64_t replaced = 0;  // UDP sockets that connected again
  uint64_t failed = 0;    // entries that could not be added
  int64_t last_error = 0;
  uint64_t live() const { return inserted - removed - popped; }
};

class SleepableKfuncDestroyer : public Destroyer {
 public:
  explicit SleepableKfuncDestroyer(SleepableIndex index);
  ~SleepableKfuncDestroyer() override;
  const char* name() const override;
  absl::Status Probe() override;
  absl::Status Prepare(const PrepareEnv& env) override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;
  void Release() override;
  // The index's inserts (fexit on connect) and its maps' memory.
  bool TracksAtConnect() const override { return true; }
  TrackedCounts Tracked() const override;
  uint64_t TrackingBytes() const override { return index_map_bytes(); }

  SleepableIndexStats index_stats() const;
  // Memory of the index maps, from their fdinfo (0 before Prepare).
  uint64_t index_map_bytes() const;

  struct State;  // one per index variant (the skeletons differ)

 private:
  SleepableIndex index_;
  std::unique_ptr<State> state_;
};

}  // namespace sockbench
