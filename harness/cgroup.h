// A cgroup v2 directory of sockbench's own, for its worker processes (cgroup
// BPF programs attach here). Removed on destruction and on SIGINT/SIGTERM.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "harness/unique_fd.h"

namespace sockbench {

class ScopedCgroup {
 public:
  // Under CgroupV2Root().
  static absl::StatusOr<ScopedCgroup> Create(const std::string& tag);
  ScopedCgroup(ScopedCgroup&& o) noexcept : path_(std::move(o.path_)), fd_(std::move(o.fd_)) {
    o.path_.clear();
  }
  ScopedCgroup& operator=(ScopedCgroup&&) = delete;
  ~ScopedCgroup();

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  ScopedCgroup(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

// Where cgroup v2 is mounted: $SOCKBENCH_CGROUP_ROOT, default
// /sys/fs/cgroup/unified.
std::string CgroupV2Root();
// That directory, open (socket-LB programs attach to the root when there is
// no cgroup of sockbench's own).
absl::StatusOr<UniqueFd> OpenCgroupV2Root();

// The cgroup an approach attaches its connect-time programs to: its own
// copy of `cgroup_fd` (the workers' cgroup), or, when that is -1 (kernel
// tests, which run no workers), the cgroup v2 root, which holds the test.
absl::StatusOr<UniqueFd> OpenAttachCgroup(int cgroup_fd);

// Moves the calling process into the cgroup at `path`.
absl::Status JoinCgroup(const std::string& path);

}  // namespace sockbench
