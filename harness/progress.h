// One updating progress line on a terminal; silent when stdout is not one.
#pragma once

#include <string>

namespace sockbench {

class Progress {
 public:
  explicit Progress(std::string what);
  ~Progress();
  void Update(long done, long total);

 private:
  std::string what_;
  bool tty_;
  bool shown_ = false;
};

}  // namespace sockbench
