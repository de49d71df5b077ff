#include "leak/map_util.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <vector>

#include "harness/status.h"

namespace sockbench {
namespace {

absl::StatusOr<std::vector<char>> AllKeys(int map_fd, size_t key_size, uint64_t* count) {
  std::vector<char> keys;
  std::vector<char> cur(key_size), next(key_size);
  const void* prev = nullptr;  // NULL: the first key
  *count = 0;
  for (;;) {
    if (bpf_map_get_next_key(map_fd, prev, next.data()) < 0) {
      if (errno == ENOENT) return keys;
      return ErrnoStatus("bpf_map_get_next_key");
    }
    keys.insert(keys.end(), next.begin(), next.end());
    ++*count;
    cur.swap(next);
    prev = cur.data();
  }
}

}  // namespace

absl::StatusOr<uint64_t> CountMapEntries(int map_fd, size_t key_size) {
  uint64_t n = 0;
  SB_ASSIGN_OR_RETURN(std::vector<char> keys, AllKeys(map_fd, key_size, &n));
  (void)keys;
  return n;
}

absl::Status DeleteAllMapEntries(int map_fd, size_t key_size) {
  uint64_t n = 0;
  SB_ASSIGN_OR_RETURN(std::vector<char> keys, AllKeys(map_fd, key_size, &n));
  for (uint64_t i = 0; i < n; ++i)
    if (bpf_map_delete_elem(map_fd, keys.data() + i * key_size) < 0 && errno != ENOENT)
      return ErrnoStatus("bpf_map_delete_elem");
  return absl::OkStatus();
}

}  // namespace sockbench
