#include "harness/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "harness/cleanup.h"
#include "harness/status.h"

namespace sockbench {

absl::StatusOr<ScopedCgroup> ScopedCgroup::Create(const std::string& tag) {
  static std::atomic<int> seq{0};
  const char* root = getenv("SOCKBENCH_CGROUP_ROOT");
  std::string base = root ? root : "/sys/fs/cgroup/unified";
  std::string path = absl::StrCat(base, "/sockbench-", getpid(), "-", tag, "-", seq++);
  if (mkdir(path.c_str(), 0755) < 0)
    return ErrnoStatus(absl::StrCat("mkdir ", path, " (is cgroup v2 mounted at ", base,
                                    "? set SOCKBENCH_CGROUP_ROOT)"));
  RegisterCgroup(path);
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    absl::Status st = ErrnoStatus(absl::StrCat("open ", path));
    UnregisterCgroup(path);
    rmdir(path.c_str());
    return st;
  }
  return ScopedCgroup(std::move(path), std::move(fd));
}

ScopedCgroup::~ScopedCgroup() {
  if (path_.empty()) return;
  fd_.reset();
  UnregisterCgroup(path_);
  rmdir(path_.c_str());
}

absl::Status JoinCgroup(const std::string& path) {
  std::string procs = absl::StrCat(path, "/cgroup.procs");
  UniqueFd f(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  if (!f.valid()) return ErrnoStatus(absl::StrCat("open ", procs));
  if (write(f.get(), "0", 1) < 0) return ErrnoStatus(absl::StrCat("write ", procs));
  return absl::OkStatus();
}

}  // namespace sockbench
