#include "harness/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "harness/cleanup.h"
#include "harness/status.h"

namespace sockbench {

namespace {

// A sockbench process killed by SIGKILL or a crash cannot remove its cgroup.
// The next one removes such leftovers: "sockbench-<pid>-..." whose pid no
// longer exists. rmdir() only succeeds on an empty cgroup, so a directory
// still holding processes (a reused pid's, or anyone's) is left alone.
void RemoveStaleCgroups(const std::string& base) {
  DIR* d = opendir(base.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    long pid = 0;
    char rest = 0;
    if (sscanf(e->d_name, "sockbench-%ld-%c", &pid, &rest) != 2 || pid <= 0) continue;
    if (pid == getpid() || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    rmdir(absl::StrCat(base, "/", e->d_name).c_str());
  }
  closedir(d);
}

}  // namespace

absl::StatusOr<ScopedCgroup> ScopedCgroup::Create(const std::string& tag) {
  static std::atomic<int> seq{0};
  const std::string base = CgroupV2Root();
  RemoveStaleCgroups(base);
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

std::string CgroupV2Root() {
  const char* root = getenv("SOCKBENCH_CGROUP_ROOT");
  return root ? root : "/sys/fs/cgroup/unified";
}

absl::StatusOr<UniqueFd> OpenCgroupV2Root() {
  const std::string path = CgroupV2Root();
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("open cgroup v2 root ", path));
  return fd;
}

absl::StatusOr<UniqueFd> OpenAttachCgroup(int cgroup_fd) {
  if (cgroup_fd < 0) return OpenCgroupV2Root();
  UniqueFd fd(fcntl(cgroup_fd, F_DUPFD_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("dup cgroup fd");
  return fd;
}

absl::Status JoinCgroup(const std::string& path) {
  std::string procs = absl::StrCat(path, "/cgroup.procs");
  UniqueFd f(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  if (!f.valid()) return ErrnoStatus(absl::StrCat("open ", procs));
  if (write(f.get(), "0", 1) < 0) return ErrnoStatus(absl::StrCat("write ", procs));
  return absl::OkStatus();
}

}  // namespace sockbench
