// iter_all_netns (proposed; sockbench kernel patch): one pass of the new
// tcp_all_netns / udp_all_netns iterators sees every namespace; the program
// keeps to the target namespaces by netns cookie.
#pragma once

#include <memory>

#include "harness/destroyer.h"

namespace sockbench {

class IterAllNetnsDestroyer : public Destroyer {
 public:
  IterAllNetnsDestroyer();
  ~IterAllNetnsDestroyer() override;
  const char* name() const override { return "iter_all_netns"; }
  absl::Status Probe() override;
  absl::Status Prepare(const FleetEnv& env) override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;
  void Release() override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sockbench
