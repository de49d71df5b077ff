// What the opt-in price measurements (tests/kernel/*_price_test.cc) read
// besides the approach: a monotonic clock and /proc/meminfo.
#pragma once

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace sockbench {

inline double NowUs() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A /proc/meminfo field ("Slab:") in kB; -1 if absent.
inline long MeminfoKb(const char* field) {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  return -1;
}

}  // namespace sockbench
