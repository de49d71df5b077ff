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
  // Loads the programs and creates their iterator links (the kernel refuses
  // the links to callers without CAP_NET_ADMIN in the initial user
  // namespace, or outside the initial network namespace).
  absl::Status Probe() override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sockbench
