// Userspace walks over hash maps with bpf_map_get_next_key.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace sockbench {

absl::StatusOr<uint64_t> CountMapEntries(int map_fd, size_t key_size);
// Collects every key first, then deletes: deleting while walking could
// restart the walk at the first bucket.
absl::Status DeleteAllMapEntries(int map_fd, size_t key_size);

}  // namespace sockbench
