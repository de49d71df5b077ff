// sock_diag: the old way. In each namespace, an inet_diag dump filtered in
// the kernel by destination (bytecode), then one SOCK_DESTROY per match.
#pragma once

#include "harness/destroyer.h"

namespace sockbench {

class SockDiagDestroyer : public Destroyer {
 public:
  const char* name() const override { return "sock_diag"; }
  absl::Status Probe() override;
  absl::StatusOr<DestroyStats> Destroy(const Target& target) override;
};

}  // namespace sockbench
