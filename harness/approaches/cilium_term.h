// cilium_term, cilium_term_fixed: Cilium's own socket termination
// (bpf/bpf_sock_term.c), reproduced over Cilium's socket-LB state as the
// leak study builds it (bpf/cilium_term.bpf.c says how it matches). Per
// namespace, per backend endpoint (Cilium's filter holds one address), one
// iter/tcp and one iter/udp pass of that family's programs.
//
// Prepare() attaches the socket-LB programs (cgroup connect4/6, sendmsg4/6,
// sock_release) to the workers' cgroup; Probe() fills the service map with
// every backend a workload can have, each its own service (the fleet
// connects to backends, not to VIPs: the translation is the identity, the
// reverse-NAT entries are exactly those a VIP would have left). The
// released matching destroys unconnected UDP sockets that sent to the
// backend (cilium#48564); cilium_term_fixed checks sk_state (cilium#48725).
#pragma once

#include <memory>

#include "harness/destroyer.h"
#include "harness/socket_lb.h"

namespace sockbench {

class CiliumTermDestroyer : public Destroyer {
 public:
  // `check_state`: cilium#48725's sk_state check (cilium_term_fixed).
  explicit CiliumTermDestroyer(bool check_state);
  ~CiliumTermDestroyer() override;
  const char* name() const override;
  absl::Status Probe() override;
  absl::Status Prepare(const PrepareEnv& env) override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;
  void Release() override;

  // The socket-LB state the programs keep (after Probe), for tests: the LRU
  // reverse-NAT maps, and the sk_storage map (keyed by a socket fd from
  // userspace).
  ReverseMaps reverse_maps() const;
  int storage_map_fd() const;

  struct State;

 private:
  bool check_state_;
  std::unique_ptr<State> state_;
};

std::unique_ptr<Destroyer> MakeCiliumTermDestroyer();
std::unique_ptr<Destroyer> MakeCiliumTermFixedDestroyer();

}  // namespace sockbench
