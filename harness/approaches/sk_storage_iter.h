// sk_storage_iter (proposed; sockbench's sk-storage series): the agent's
// cgroup connect and sendmsg programs keep each socket's backend in
// sk_storage, as Cilium's socket-LB keeps its reverse-NAT entry
// (reverse_sk_v2); one iter/bpf_sk_storage_map pass over that map destroys
// the sockets still connected to the dying backend, in every namespace,
// visiting only sockets the agent translated.
#pragma once

#include <cstdint>
#include <memory>

#include "harness/destroyer.h"

namespace sockbench {

class SkStorageIterDestroyer : public Destroyer {
 public:
  SkStorageIterDestroyer();
  ~SkStorageIterDestroyer() override;
  const char* name() const override { return "sk_storage_iter"; }
  absl::Status Probe() override;
  absl::Status Prepare(const PrepareEnv& env) override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;
  void Release() override;
  // The backends stored at connect (and sendmsg), and the storage map's
  // memory.
  bool TracksAtConnect() const override { return true; }
  TrackedCounts Tracked() const override;
  // Memory of the storage map, from its fdinfo (0 before Probe). 7.3
  // charges the storages to their sockets, not to the map.
  uint64_t TrackingBytes() const override;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

std::unique_ptr<Destroyer> MakeSkStorageIterDestroyer();

}  // namespace sockbench
