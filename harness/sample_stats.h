// Median and coefficient of variation of a few samples (timings).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace sockbench {

inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Sample standard deviation over the mean; 0 for fewer than two samples.
inline double Cv(const std::vector<double>& v) {
  const size_t n = v.size();
  if (n < 2) return 0;
  double mean = 0, var = 0;
  for (double x : v) mean += x / n;
  for (double x : v) var += (x - mean) * (x - mean) / (n - 1);
  return mean > 0 ? std::sqrt(var) / mean : 0;
}

}  // namespace sockbench
