// What must go away when sockbench stops, however it stops. Worker processes
// also carry PR_SET_PDEATHSIG, and namespaces are anonymous (they die with the
// last holder), so SIGKILL of sockbench leaves nothing but a cgroup directory;
// SIGINT/SIGTERM leave nothing at all.
#pragma once

#include <sys/types.h>

#include <string>

namespace sockbench {

// Installs SIGINT/SIGTERM/SIGHUP handlers that kill registered workers (by
// pid), reap them, remove registered cgroups and re-raise the signal.
void InstallCleanupHandlers();

void RegisterWorker(pid_t pid);
void UnregisterWorker(pid_t pid);
void RegisterCgroup(const std::string& path);
void UnregisterCgroup(const std::string& path);

// Kill and reap one worker we started.
void KillAndReap(pid_t pid);

}  // namespace sockbench
