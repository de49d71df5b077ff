#include "harness/bpf_map_memory.h"

#include <cstdlib>
#include <fstream>
#include <string>

namespace sockbench {

int64_t MapMemlockBytes(int map_fd) {
  std::ifstream f("/proc/self/fdinfo/" + std::to_string(map_fd));
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("memlock:", 0) == 0) return std::strtoll(line.c_str() + 8, nullptr, 10);
  return -1;
}

}  // namespace sockbench
