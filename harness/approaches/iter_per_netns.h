// iter_per_netns: today's way (Cilium). iter/tcp + iter/udp programs call
// bpf_sock_destroy on matching sockets; the links are created once, and one
// iterator is created and drained in every namespace.
#pragma once

#include <memory>

#include "harness/destroyer.h"

namespace sockbench {

std::unique_ptr<Destroyer> MakeIterPerNetnsDestroyer();

}  // namespace sockbench
