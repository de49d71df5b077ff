#include "harness/fleet.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/backend_server.h"
#include "harness/cgroup.h"
#include "harness/cleanup.h"
#include "harness/status.h"
#include "harness/fleet_worker.h"
#include "harness/hold_point.h"

namespace sockbench {

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Build(const FleetPlan& plan, const NetnsSet& netns,
                                                    const std::string& cgroup_path,
                                                    const ProgressFn& progress) {
  std::unique_ptr<Fleet> fleet(new Fleet(plan));
  SB_ASSIGN_OR_RETURN(fleet->shared_,
                      FleetSharedMemory::Create(plan.worker_count(), plan.scenario.namespaces));

  // The servers of the shared namespace whose workers are being forked: they
  // inherit them, and sockbench closes its copies when the next worker is
  // not one of them (a shared namespace's workers are consecutive).
  BackendServers shared_servers;
  int shared_ns = -1;
  for (int w = 0; w < plan.worker_count(); ++w) {
    const int ns = plan.workers[w].netns.front();
    const bool shared = plan.netns[ns].shared();
    if (shared_ns != (shared ? ns : -1)) {
      shared_servers.Clear();
      shared_ns = shared ? ns : -1;
      if (shared) {
        SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(netns.fd(ns)));
        SB_RETURN_IF_ERROR(shared_servers.OpenAll(ns, plan.netns[ns].servers));
      }
    }
    SB_ASSIGN_OR_RETURN(ForkedWorker fw, ForkWorker("worker"));
    if (fw.pid == 0) {
      for (int fd : fleet->control_) close(fd);
      if (!cgroup_path.empty() && !JoinCgroup(cgroup_path).ok()) _exit(3);
      const_cast<NetnsSet&>(netns).CloseAllBut(plan.workers[w].netns);
      WorkerMain(plan, w, netns, &shared_servers, fleet->shared_.get(), fw.fd);
    }
    fleet->pids_.push_back(fw.pid);
    fleet->control_.push_back(fw.fd);
  }
  shared_servers.Clear();
  HoldPoint("fleet");
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
  for (pid_t pid : pids_)
    if (pid > 0) KillAndReap(pid);
  pids_.clear();
  shared_.reset();
}

std::string Fleet::Reap(size_t w, int send_errno) {
  // Its control socket is closed: the worker is dead or dying. SIGKILL in
  // case it is not (a no-op for a zombie, whose status stays what killed it),
  // then the status says what happened to it.
  const pid_t pid = pids_[w];
  if (pid <= 0) return "is gone";
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  UnregisterWorker(pid);
  pids_[w] = -1;
  std::string how = WIFSIGNALED(status) ? absl::StrFormat("(pid %d) was killed by signal %d", pid, WTERMSIG(status))
                                        : absl::StrFormat("(pid %d) exited with status %d", pid, WEXITSTATUS(status));
  if (send_errno != 0) absl::StrAppend(&how, " (", std::strerror(send_errno), " on its control socket)");
  return how;
}

absl::StatusOr<std::vector<WorkerReply>> Fleet::Command(WorkerCmd cmd, const ProgressFn& progress,
                                                        long total) {
  // A fleet that lost a worker cannot verify anything any more: every later
  // command, for every approach, fails with what happened to it.
  if (!broken_.ok()) return broken_;
  for (size_t w = 0; w < control_.size(); ++w)
    // MSG_NOSIGNAL: a worker that died must be an error of this scenario,
    // not a SIGPIPE that ends sockbench before it cleans up.
    if (send(control_[w], &cmd, sizeof(cmd), MSG_NOSIGNAL) != sizeof(cmd)) {
      const int err = errno;
      broken_ = absl::AbortedError(absl::StrFormat("the fleet lost a worker: worker %d %s", w, Reap(w, err)));
      return broken_;
    }
  std::vector<WorkerReply> replies(control_.size());
  std::vector<bool> done(control_.size(), false);
  size_t left = control_.size();
  absl::Status first_error;
  bool lost = false;
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
    if (progress) progress(shared_->total_progress(), total);
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t w = idx[k];
      done[w] = true;
      --left;
      ssize_t r = read(control_[w], &replies[w], sizeof(WorkerReply));
      if (r != sizeof(WorkerReply)) {
        lost = true;
        const std::string how = Reap(w, 0);
        if (first_error.ok())
          first_error = absl::InternalError(absl::StrFormat("worker %d %s", w, how));
      } else if (!replies[w].ok && first_error.ok()) {
        first_error = absl::InternalError(absl::StrFormat("worker %d: %s", w, replies[w].message));
      }
    }
  }
  if (!first_error.ok()) {
    // A reply that was no reply means a worker is gone (its pid is -1 if
    // it was reaped here, so Stop() skips it): the fleet is broken for good.
    if (lost) broken_ = absl::AbortedError(absl::StrCat("the fleet lost a worker: ", first_error.message()));
    return first_error;
  }
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

}  // namespace sockbench
