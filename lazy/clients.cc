#include "lazy/clients.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "harness/cgroup.h"
#include "harness/cleanup.h"
#include "harness/status.h"
#include "lazy/scene.h"

namespace sockbench {
namespace {

constexpr uint64_t kControl = ~0ull;

struct Loop {
  const std::vector<ClientSpec>& specs;
  ClientRecord* rec;
  std::vector<int> fds;
  int ep = -1;
  int64_t interval_ns;

  void Notice(size_t i, int err, Learned how) {
    rec[i].notice_ns = MonotonicNs();
    rec[i].err = err;
    rec[i].how = how;
    epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], nullptr);
  }

  void Send(size_t i) {
    const ClientSpec& s = specs[i];
    ssize_t r;
    if (s.role == Role::kUnconnected) {
      sockaddr_storage ss;
      socklen_t len = LazyBackend(s.backend, s.family).ToSockaddr(&ss);
      r = sendto(fds[i], "req", 3, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len);
    } else {
      r = send(fds[i], "req", 3, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    if (r >= 0) {
      ++rec[i].sends;
    } else if (errno != EAGAIN && errno != EINTR) {
      Notice(i, errno, Learned::kSend);
    }
  }

  void Readable(size_t i) {
    char buf[512];
    for (;;) {
      ssize_t r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
      if (r > 0) {
        ++rec[i].replies;
        rec[i].last_reply_ns = MonotonicNs();
        continue;
      }
      if (r == 0 && specs[i].proto == Proto::kTcp) Notice(i, 0, Learned::kEof);
      else if (r < 0 && errno != EAGAIN && errno != EINTR) Notice(i, errno, Learned::kRecv);
      return;
    }
  }
};

absl::StatusOr<int> OpenClient(const ClientSpec& s) {
  int one = 1;
  UniqueFd fd(socket(AfOf(s.family), SockTypeOf(s.proto) | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket");
  if (s.family == Family::kIpv6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (s.role != Role::kUnconnected) {
    sockaddr_storage ss;
    Endpoint ep = LazyBackend(s.backend, s.family);
    socklen_t len = ep.ToSockaddr(&ss);
    timeval tv{10, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));  // bounds connect()
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
      return ErrnoStatus(absl::StrCat("connect ", ProtoName(s.proto), " ", ep.ToString()));
  }
  return fd.release();
}

[[noreturn]] void RunClients(const std::vector<ClientSpec>& specs, const std::vector<int>& pod_fds,
                             const std::string& cgroup, int interval_ms, int ctl, ClientRecord* rec) {
  auto fail = [&](const absl::Status& st) {
    std::string m = std::string(st.message());
    if (m.empty()) m = "failed";
    send(ctl, m.data(), m.size(), 0);
    _exit(1);
  };
  if (!cgroup.empty()) {
    absl::Status st = JoinCgroup(cgroup);
    if (!st.ok()) fail(st);
  }
  Loop loop{specs, rec, std::vector<int>(specs.size(), -1), epoll_create1(EPOLL_CLOEXEC),
            static_cast<int64_t>(interval_ms) * 1000000};
  for (size_t i = 0; i < specs.size(); ++i) {
    if (setns(pod_fds[specs[i].pod], CLONE_NEWNET) < 0) fail(ErrnoStatus("setns"));
    absl::StatusOr<int> fd = OpenClient(specs[i]);
    if (!fd.ok()) fail(fd.status());
    loop.fds[i] = *fd;
  }
  using Due = std::pair<int64_t, size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due;
  const int64_t start = MonotonicNs();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].role == Role::kIdle) continue;
    epoll_event ev{EPOLLIN, {.u64 = i}};
    epoll_ctl(loop.ep, EPOLL_CTL_ADD, loop.fds[i], &ev);
    if (specs[i].role == Role::kReceiveOnly) continue;
    // Phases spread evenly over one interval (golden-ratio sequence).
    double frac = static_cast<double>(i) * 0.6180339887498949;
    frac -= static_cast<long>(frac);
    due.push({start + static_cast<int64_t>(frac * loop.interval_ns), i});
  }
  epoll_event cev{EPOLLIN, {.u64 = kControl}};
  epoll_ctl(loop.ep, EPOLL_CTL_ADD, ctl, &cev);
  if (send(ctl, "", 1, 0) != 1) _exit(1);  // ready (an empty message is not one)

  epoll_event evs[512];
  bool stop = false;
  while (!stop) {
    int64_t now = MonotonicNs();
    while (!due.empty() && due.top().first <= now) {
      auto [t, i] = due.top();
      due.pop();
      if (rec[i].how != Learned::kNot) continue;
      loop.Send(i);
      if (rec[i].how == Learned::kNot) due.push({t + loop.interval_ns, i});
    }
    timespec to{0, 0};
    timespec* top = nullptr;
    if (!due.empty()) {
      int64_t wait = std::max<int64_t>(0, due.top().first - MonotonicNs());
      to = {static_cast<time_t>(wait / 1000000000), static_cast<long>(wait % 1000000000)};
      top = &to;
    }
    int n = epoll_pwait2(loop.ep, evs, 512, top, nullptr);
    for (int k = 0; k < n; ++k) {
      if (evs[k].data.u64 == kControl) {
        stop = true;
        continue;
      }
      size_t i = evs[k].data.u64;
      if (rec[i].how == Learned::kNot) loop.Readable(i);
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (rec[i].how != Learned::kNot) continue;
    int err = 0;
    socklen_t l = sizeof(err);
    getsockopt(loop.fds[i], SOL_SOCKET, SO_ERROR, &err, &l);
    rec[i].final_error = err;
    sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    rec[i].final_connected = getpeername(loop.fds[i], reinterpret_cast<sockaddr*>(&ss), &sl) == 0;
  }
  send(ctl, "done", 4, 0);
  pause();
  _exit(0);
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kActive: return "active";
    case Role::kIdle: return "idle";
    case Role::kReceiveOnly: return "receive_only";
    case Role::kUnconnected: return "unconnected";
  }
  return "?";
}

absl::StatusOr<ClientApp> ClientApp::Start(const std::vector<ClientSpec>& specs, const std::vector<int>& pod_fds,
                                           const std::string& cgroup_path, int interval_ms) {
  ClientApp app;
  app.count_ = specs.size();
  size_t bytes = std::max<size_t>(1, specs.size()) * sizeof(ClientRecord);
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return ErrnoStatus("mmap client records");
  app.shared_ = new (m) ClientRecord[std::max<size_t>(1, specs.size())];
  SB_ASSIGN_OR_RETURN(ForkedWorker w, ForkWorker("lazy clients"));
  if (w.pid == 0) RunClients(specs, pod_fds, cgroup_path, interval_ms, w.fd, app.shared_);
  app.pid_ = w.pid;
  app.fd_ = w.fd;
  // Ready, or the reason it is not: bounded (every connect() is).
  pollfd p{app.fd_, POLLIN, 0};
  if (poll(&p, 1, 60000) != 1) return absl::DeadlineExceededError("client process: not ready after 60 s");
  char buf[512];
  ssize_t r = recv(app.fd_, buf, sizeof(buf), 0);
  if (r != 1 || buf[0] != '\0')
    return absl::InternalError(absl::StrCat("client process: ", r > 0 ? std::string(buf, r) : "died"));
  return app;
}

ClientApp::ClientApp(ClientApp&& o) noexcept
    : pid_(std::exchange(o.pid_, 0)), fd_(std::exchange(o.fd_, -1)), shared_(std::exchange(o.shared_, nullptr)),
      count_(o.count_) {}

absl::StatusOr<std::vector<ClientRecord>> ClientApp::Stop() {
  if (pid_ <= 0) return absl::FailedPreconditionError("client process not running");
  if (send(fd_, "S", 1, 0) != 1) return ErrnoStatus("stop clients");
  pollfd p{fd_, POLLIN, 0};
  char buf[16];
  if (poll(&p, 1, 30000) != 1 || recv(fd_, buf, sizeof(buf), 0) != 4)
    return absl::InternalError("client process did not finish its checks");
  std::vector<ClientRecord> out(shared_, shared_ + count_);
  KillAndReap(pid_);
  pid_ = 0;
  return out;
}

ClientApp::~ClientApp() {
  if (pid_ > 0) KillAndReap(pid_);
  if (fd_ >= 0) close(fd_);
  if (shared_) munmap(shared_, std::max<size_t>(1, count_) * sizeof(ClientRecord));
}

}  // namespace sockbench
