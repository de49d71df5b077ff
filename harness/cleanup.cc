#include "harness/cleanup.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "harness/status.h"

namespace sockbench {
namespace {

// Fixed-size tables: the signal handler may only touch plain memory.
constexpr int kMaxCgroups = 16;
constexpr int kPathMax = 256;

std::atomic<pid_t> g_workers[kMaxRegisteredWorkers];
char g_cgroups[kMaxCgroups][kPathMax];
std::atomic<bool> g_cgroup_used[kMaxCgroups];

void OnSignal(int sig) {
  for (auto& w : g_workers) {
    pid_t pid = w.exchange(0);
    if (pid > 0) {
      kill(pid, SIGKILL);
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  for (int i = 0; i < kMaxCgroups; ++i)
    if (g_cgroup_used[i].exchange(false)) rmdir(g_cgroups[i]);
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void InstallCleanupHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  // Block the other stop signals while cleaning so cleanup runs once.
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGHUP);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
}

void RegisterWorker(pid_t pid) {
  for (auto& w : g_workers) {
    pid_t empty = 0;
    if (w.compare_exchange_strong(empty, pid)) return;
  }
}

void UnregisterWorker(pid_t pid) {
  for (auto& w : g_workers) {
    pid_t p = pid;
    if (w.compare_exchange_strong(p, 0)) return;
  }
}

void RegisterCgroup(const std::string& path) {
  for (int i = 0; i < kMaxCgroups; ++i) {
    if (g_cgroup_used[i].load()) continue;
    std::strncpy(g_cgroups[i], path.c_str(), kPathMax - 1);
    g_cgroup_used[i].store(true);
    return;
  }
}

void UnregisterCgroup(const std::string& path) {
  for (int i = 0; i < kMaxCgroups; ++i)
    if (g_cgroup_used[i].load() && path == g_cgroups[i]) g_cgroup_used[i].store(false);
}

void KillAndReap(pid_t pid) {
  UnregisterWorker(pid);
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

absl::StatusOr<ForkedWorker> ForkWorker(const char* what) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return ErrnoStatus(absl::StrCat("socketpair for ", what));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return ErrnoStatus(absl::StrCat("fork ", what));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);  // the parent died before prctl
    // Ctrl-C is sockbench's to handle: it kills us and removes the cgroup.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    close(sv[0]);
    return ForkedWorker{0, sv[1]};
  }
  RegisterWorker(pid);
  close(sv[1]);
  return ForkedWorker{pid, sv[0]};
}

}  // namespace sockbench
