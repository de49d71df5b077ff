// One leak experiment's world: a network namespace of sockbench's own (the
// backends' addresses on lo), a cgroup for the strategy's programs, and the
// worker process that plays the application inside both. Torn down in
// reverse order: worker killed, cgroup removed, namespace released.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "harness/cgroup.h"
#include "harness/destroyer.h"
#include "leak/plan.h"
#include "leak/app_process.h"
#include "harness/unique_fd.h"

namespace sockbench {

class LeakLab {
 public:
  static absl::StatusOr<std::unique_ptr<LeakLab>> Create(const std::string& tag);

  int netns_fd() const { return netns_.get(); }
  uint64_t netns_cookie() const { return netns_cookie_; }
  int cgroup_fd() const { return cgroup_->fd(); }
  const std::string& cgroup_path() const { return cgroup_->path(); }
  LeakAppProcess& worker() { return *worker_; }

  // What an agent aborts when `service`'s backend dies: every socket of the
  // kind's protocol whose destination is that backend, in our namespace.
  Target BackendTarget(int service, Family family, SockKind kind) const;

  // Convenience wrappers around the worker's requests.
  absl::StatusOr<LeakReply> Open(int group, SockKind kind, Family family, int service, int count);
  // Checks every client of the group, or the cohort i % stride == phase.
  absl::StatusOr<LeakReply> Check(int group, int stride = 1, int phase = 0);
  absl::StatusOr<LeakReply> Close(int group);
  absl::StatusOr<std::vector<uint64_t>> Cookies(int group);

 private:
  LeakLab() = default;
  UniqueFd netns_;
  uint64_t netns_cookie_ = 0;
  std::optional<ScopedCgroup> cgroup_;
  std::unique_ptr<LeakAppProcess> worker_;
};

}  // namespace sockbench
