// iter_per_netns: today's way (Cilium). iter/tcp + iter/udp programs call
// bpf_sock_destroy on matching sockets; the links are created once, and one
// iterator is created and drained in every namespace.
#pragma once

#include <memory>

#include "harness/destroyer.h"

namespace sockbench {

class IterPerNetnsDestroyer : public Destroyer {
 public:
  IterPerNetnsDestroyer();
  ~IterPerNetnsDestroyer() override;
  const char* name() const override { return "iter_per_netns"; }
  // Loads the programs and creates their iterator links.
  absl::Status Probe() override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sockbench
