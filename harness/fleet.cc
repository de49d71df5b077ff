#include "harness/fleet.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "harness/cgroup.h"
#include "harness/cleanup.h"
#include "harness/status.h"
#include "harness/worker.h"

namespace sockbench {

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Build(const FleetPlan& plan, const NetnsSet& netns,
                                                    const std::string& cgroup_path,
                                                    const ProgressFn& progress) {
  std::unique_ptr<Fleet> fleet(new Fleet(plan));
  size_t shm = sizeof(std::atomic<long>) * plan.workers();
  void* mem = mmap(nullptr, shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return ErrnoStatus("mmap progress counters");
  fleet->progress_ = new (mem) std::atomic<long>[plan.workers()]();

  for (int w = 0; w < plan.workers(); ++w) {
    SB_ASSIGN_OR_RETURN(ForkedWorker fw, ForkWorker("worker"));
    if (fw.pid == 0) {
      for (int fd : fleet->control_) close(fd);
      if (!cgroup_path.empty() && !JoinCgroup(cgroup_path).ok()) _exit(3);
      const_cast<NetnsSet&>(netns).CloseAllBut(plan.worker_netns[w]);
      WorkerMain(plan, w, netns, fw.fd, &fleet->progress_[w]);
    }
    fleet->pids_.push_back(fw.pid);
    fleet->control_.push_back(fw.fd);
  }
  long total = 0;
  for (const auto& np : plan.netns) total += np.clients;
  SB_ASSIGN_OR_RETURN(auto replies, fleet->Command(WorkerCmd::kBuild, progress, total));
  (void)replies;
  return fleet;
}

Fleet::~Fleet() { Stop(); }

void Fleet::Stop() {
  for (int fd : control_) close(fd);
  control_.clear();
  for (pid_t pid : pids_) KillAndReap(pid);
  pids_.clear();
  if (progress_) munmap(progress_, sizeof(std::atomic<long>) * plan_.workers());
  progress_ = nullptr;
}

absl::StatusOr<std::vector<WorkerReply>> Fleet::Command(WorkerCmd cmd, const ProgressFn& progress,
                                                        long total) {
  for (size_t w = 0; w < control_.size(); ++w)
    if (write(control_[w], &cmd, sizeof(cmd)) != sizeof(cmd))
      return ErrnoStatus(absl::StrFormat("command to worker %d", pids_[w]));
  std::vector<WorkerReply> replies(control_.size());
  std::vector<bool> done(control_.size(), false);
  size_t left = control_.size();
  absl::Status first_error;
  while (left > 0) {
    std::vector<pollfd> pfds;
    std::vector<size_t> idx;
    for (size_t w = 0; w < control_.size(); ++w)
      if (!done[w]) {
        pfds.push_back({control_[w], POLLIN, 0});
        idx.push_back(w);
      }
    // The timeout only paces the progress line; replies wake us at once.
    int n = poll(pfds.data(), pfds.size(), progress ? 200 : -1);
    if (n < 0 && errno != EINTR) return ErrnoStatus("poll workers");
    if (progress) {
      long sum = 0;
      for (int w = 0; w < plan_.workers(); ++w) sum += progress_[w].load();
      progress(sum, total);
    }
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t w = idx[k];
      done[w] = true;
      --left;
      ssize_t r = read(control_[w], &replies[w], sizeof(WorkerReply));
      if (r != sizeof(WorkerReply)) {
        int status = 0;
        std::string how = "closed its control socket";
        if (waitpid(pids_[w], &status, WNOHANG) == pids_[w]) {
          UnregisterWorker(pids_[w]);
          how = WIFSIGNALED(status) ? absl::StrFormat("was killed by signal %d", WTERMSIG(status))
                                    : absl::StrFormat("exited with status %d", WEXITSTATUS(status));
          pids_[w] = -1;
        }
        if (first_error.ok())
          first_error = absl::InternalError(absl::StrFormat("worker %d %s", w, how));
      } else if (!replies[w].ok && first_error.ok()) {
        first_error = absl::InternalError(absl::StrFormat("worker %d: %s", w, replies[w].message));
      }
    }
  }
  // Drop workers we already reaped before Stop() tries to.
  std::vector<pid_t> live;
  for (pid_t p : pids_)
    if (p > 0) live.push_back(p);
  pids_ = live;
  if (!first_error.ok()) return first_error;
  return replies;
}

absl::Status Fleet::RecreateTargets() {
  SB_ASSIGN_OR_RETURN(auto replies, Command(WorkerCmd::kRecreateTargets));
  (void)replies;
  return absl::OkStatus();
}

absl::StatusOr<VerifyResult> Fleet::Verify() {
  SB_ASSIGN_OR_RETURN(auto replies, Command(WorkerCmd::kVerify));
  VerifyResult r;
  for (const auto& rep : replies) {
    r.counts += rep.counts;
    if (r.first_problem.empty() && rep.message[0]) r.first_problem = rep.message;
  }
  return r;
}

Target Fleet::DyingBackend(const NetnsSet& netns) const {
  Target t;
  const auto& mix = plan_.scenario.mix;
  bool v4 = mix[0] > 0 || mix[2] > 0, v6 = mix[1] > 0 || mix[3] > 0;
  if (v4) t.endpoints.push_back(BackendEndpoint(0, Family::kIpv4));
  if (v6) t.endpoints.push_back(BackendEndpoint(0, Family::kIpv6));
  t.tcp = mix[0] > 0 || mix[1] > 0;
  t.udp = mix[2] > 0 || mix[3] > 0;
  t.netns_fds = netns.AllFds();
  t.netns_cookies = netns.cookies();
  return t;
}

}  // namespace sockbench
