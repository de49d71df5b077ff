// What a BPF map costs in kernel memory, as the kernel accounts it.
#pragma once

#include <cstdint>

namespace sockbench {

// The "memlock:" line of the map fd's /proc/self/fdinfo entry, in bytes;
// -1 if the kernel shows none.
int64_t MapMemlockBytes(int map_fd);

}  // namespace sockbench
