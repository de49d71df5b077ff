// The leak study's application process: forked (never exec'd), it enters
// sockbench's namespace, binds the backends while still outside the test
// cgroup (so the socket-LB programs never see the backends' own sockets),
// then joins the cgroup and opens, checks and closes client sockets on
// command. Registered with harness/cleanup.h and PR_SET_PDEATHSIG'ed, so
// it dies with sockbench however sockbench stops.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leak/app_protocol.h"

namespace sockbench {

class LeakAppProcess {
 public:
  static absl::StatusOr<std::unique_ptr<LeakAppProcess>> Start(int netns_fd,
                                                           const std::string& cgroup_path);
  ~LeakAppProcess();

  // One request, one reply; `cookies` receives what kCookies returns.
  absl::StatusOr<LeakReply> Call(const LeakRequest& req, std::vector<uint64_t>* cookies = nullptr);
  pid_t pid() const { return pid_; }

 private:
  LeakAppProcess(pid_t pid, int control) : pid_(pid), control_(control) {}
  pid_t pid_;
  int control_;
};

}  // namespace sockbench
