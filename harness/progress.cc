#include "harness/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sockbench {

Progress::Progress(std::string what) : what_(std::move(what)), tty_(isatty(STDOUT_FILENO)) {}

Progress::~Progress() {
  if (shown_) std::printf("\r\033[K");
  std::fflush(stdout);
}

void Progress::Update(long done, long total) {
  if (!tty_) return;
  shown_ = true;
  std::printf("\r\033[K%s: %ld/%ld (%.0f%%)", what_.c_str(), done, total,
              total ? 100.0 * done / total : 100.0);
  std::fflush(stdout);
}

}  // namespace sockbench
