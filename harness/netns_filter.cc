#include "harness/netns_filter.h"

#include <bpf/bpf.h>

#include "harness/status.h"

namespace sockbench {

absl::Status NetnsFilter::Set(int map_fd, const std::vector<uint64_t>& cookies) {
  if (loaded_ == cookies) return absl::OkStatus();
  for (uint64_t c : loaded_) bpf_map_delete_elem(map_fd, &c);
  loaded_.clear();
  uint8_t one = 1;
  for (uint64_t c : cookies)
    if (bpf_map_update_elem(map_fd, &c, &one, BPF_ANY) < 0) return ErrnoStatus("netns filter map");
  loaded_ = cookies;
  return absl::OkStatus();
}

}  // namespace sockbench
