#include "leak/app_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "harness/cgroup.h"
#include "harness/cleanup.h"
#include "leak/app.h"
#include "harness/netns.h"
#include "harness/status.h"

namespace sockbench {
namespace {

[[noreturn]] void ChildMain(int netns_fd, const std::string& cgroup_path, int control) {
  LeakReply ready;
  absl::Status st = SetNetns(netns_fd);
  std::unique_ptr<LeakApp> app;
  if (st.ok()) {
    // Backends first, while this process is still outside the cgroup.
    absl::StatusOr<std::unique_ptr<LeakApp>> a = LeakApp::Create();
    st = a.status();
    if (a.ok()) app = std::move(*a);
  }
  if (st.ok()) st = JoinCgroup(cgroup_path);
  ready.ok = st.ok() ? 1 : 0;
  if (!st.ok()) std::strncpy(ready.message, std::string(st.message()).c_str(), sizeof(ready.message) - 1);
  if (write(control, &ready, sizeof(ready)) != sizeof(ready) || !st.ok()) _exit(3);

  std::vector<char> out(sizeof(LeakReply) + sizeof(uint64_t) * kLeakMaxCookies);
  for (;;) {
    LeakRequest req;
    ssize_t n = read(control, &req, sizeof(req));
    if (n <= 0) _exit(0);  // sockbench closed the pair: exit, sockets go with us
    if (n != sizeof(req)) _exit(2);
    std::vector<uint64_t> cookies;
    LeakReply rep = app->Handle(req, &cookies);
    size_t len = sizeof(rep);
    rep.n_cookies = static_cast<int32_t>(cookies.size());
    std::memcpy(out.data(), &rep, sizeof(rep));
    std::memcpy(out.data() + sizeof(rep), cookies.data(), cookies.size() * sizeof(uint64_t));
    len += cookies.size() * sizeof(uint64_t);
    if (write(control, out.data(), len) != static_cast<ssize_t>(len)) _exit(2);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<LeakAppProcess>> LeakAppProcess::Start(int netns_fd,
                                                              const std::string& cgroup_path) {
  SB_ASSIGN_OR_RETURN(ForkedWorker fw, ForkWorker("leak worker"));
  if (fw.pid == 0) {
    // Replies carry up to kLeakMaxCookies cookies in one message.
    int buf = 1 << 20;
    setsockopt(fw.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    ChildMain(netns_fd, cgroup_path, fw.fd);
  }
  std::unique_ptr<LeakAppProcess> w(new LeakAppProcess(fw.pid, fw.fd));
  LeakReply ready;
  ssize_t n = read(w->control_, &ready, sizeof(ready));
  if (n != sizeof(ready)) return absl::InternalError("leak worker died during setup");
  if (!ready.ok) return absl::InternalError(absl::StrFormat("leak worker setup: %s", ready.message));
  return w;
}

LeakAppProcess::~LeakAppProcess() {
  close(control_);
  KillAndReap(pid_);
}

absl::StatusOr<LeakReply> LeakAppProcess::Call(const LeakRequest& req, std::vector<uint64_t>* cookies) {
  if (write(control_, &req, sizeof(req)) != sizeof(req)) return ErrnoStatus("request to leak worker");
  std::vector<char> in(sizeof(LeakReply) + sizeof(uint64_t) * kLeakMaxCookies);
  ssize_t n = read(control_, in.data(), in.size());
  if (n < static_cast<ssize_t>(sizeof(LeakReply))) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_)
      return absl::InternalError(absl::StrFormat("leak worker %d ended (status 0x%x)", pid_, status));
    return absl::InternalError("short reply from leak worker");
  }
  LeakReply rep;
  std::memcpy(&rep, in.data(), sizeof(rep));
  if (!rep.ok) return absl::InternalError(absl::StrFormat("leak worker: %s", rep.message));
  if (cookies) {
    size_t have = (static_cast<size_t>(n) - sizeof(rep)) / sizeof(uint64_t);
    cookies->assign(have, 0);
    std::memcpy(cookies->data(), in.data() + sizeof(rep), have * sizeof(uint64_t));
  }
  return rep;
}

}  // namespace sockbench
