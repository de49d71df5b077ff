// iter_all_netns (proposed; sockbench kernel patch): one pass of the new
// tcp_all_netns / udp_all_netns iterators sees every namespace; the program
// keeps to the target namespaces by netns cookie. The kernel refuses the
// iterator links (so the probe fails) to callers without CAP_NET_ADMIN in
// the initial user namespace, or outside the initial network namespace.
#pragma once

#include <memory>

#include "harness/destroyer.h"

namespace sockbench {

std::unique_ptr<Destroyer> MakeIterAllNetnsDestroyer();

}  // namespace sockbench
