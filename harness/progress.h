// One updating progress line on a terminal; silent when stdout is not one.
#pragma once

#include <functional>
#include <string>

namespace sockbench {

// How long work reports how far it got (namespaces created, sockets built).
using ProgressFn = std::function<void(long done, long total)>;

class Progress {
 public:
  explicit Progress(std::string what);
  ~Progress();
  void Update(long done, long total);
  // Update() as a ProgressFn; valid while this object lives.
  ProgressFn Fn() {
    return [this](long done, long total) { Update(done, total); };
  }

 private:
  std::string what_;
  bool tty_;
  bool shown_ = false;
};

}  // namespace sockbench
