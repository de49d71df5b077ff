// What must go away when sockbench stops, however it stops. Worker processes
// also carry PR_SET_PDEATHSIG, and namespaces are anonymous (they die with the
// last holder), so SIGKILL of sockbench leaves nothing but a cgroup directory;
// SIGINT/SIGTERM leave nothing at all.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace sockbench {

// Installs SIGINT/SIGTERM/SIGHUP handlers that kill registered workers (by
// pid), reap them, remove registered cgroups and re-raise the signal.
void InstallCleanupHandlers();

// Workers the handlers can track (a fixed table: signal-safe).
constexpr int kMaxRegisteredWorkers = 4096;

void RegisterWorker(pid_t pid);
void UnregisterWorker(pid_t pid);
void RegisterCgroup(const std::string& path);
void UnregisterCgroup(const std::string& path);

// Kill and reap one worker we started.
void KillAndReap(pid_t pid);

// Forks a worker process tied to this one: SIGKILLed when we die
// (PR_SET_PDEATHSIG), Ctrl-C left to our handler, registered for cleanup.
// A SOCK_SEQPACKET pair connects the two: `fd` is the caller's end, in the
// parent as in the child (where `pid` is 0).
struct ForkedWorker {
  pid_t pid;
  int fd;
};
absl::StatusOr<ForkedWorker> ForkWorker(const char* what);

}  // namespace sockbench
