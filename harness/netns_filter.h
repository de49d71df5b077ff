// Userspace side of bpf/sb_netns_filter.bpf.h: keeps a skeleton's sb_netns
// map holding exactly the namespaces a pass may touch. Filling it is part
// of what an agent pays, so approaches call Set() inside the timed
// Destroy(); it writes the map only when the namespaces changed.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace sockbench {

class NetnsFilter {
 public:
  absl::Status Set(int map_fd, const std::vector<uint64_t>& cookies);

 private:
  std::vector<uint64_t> loaded_;
};

}  // namespace sockbench
