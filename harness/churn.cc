#include "harness/churn.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/cgroup.h"
#include "harness/cleanup.h"
#include "harness/endpoint.h"
#include "harness/status.h"

namespace sockbench {
namespace {

constexpr int kReadyTimeoutMs = 60000;  // listeners in every namespace, under TCG
constexpr int kStopTimeoutMs = 60000;   // checking every open socket

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

Endpoint LiveEndpoint(int backends, Family family) {
  Endpoint e = BackendAddress((backends - 1) / 2, family);
  e.port_be = htons(kChurnPort);
  return e;
}

struct Churned {
  int fd = -1, peer = -1;  // peer: the accepted end of a TCP socket
  int netns = 0;
  Proto proto = Proto::kTcp;
  Family family = Family::kIpv4;
  bool sender = false;
  bool destroyed = false;  // seen destroyed by a send
};

class ChurnProcess {
 public:
  ChurnProcess(const ChurnSpec& spec, const NetnsSet& netns, int backends)
      : spec_(spec), netns_(netns), backends_(backends) {}

  absl::Status Listen();
  absl::Status OpenOne();
  void Tick();
  void CloseAll();
  const ChurnReport& report() const { return report_; }

 private:
  absl::Status Enter(int ns);
  void CheckAndClose(Churned& c);
  void Problem(const Churned& c, const std::string& what);

  const ChurnSpec spec_;
  const NetnsSet& netns_;
  const int backends_;
  int current_ns_ = -1;
  // Per namespace and family: the TCP listener and the UDP server.
  std::vector<int> tcp_, udp_;
  std::deque<Churned> open_;
  long next_ = 0;  // round robin over namespaces, then kinds
  ChurnReport report_;
};

absl::Status ChurnProcess::Enter(int ns) {
  if (ns == current_ns_) return absl::OkStatus();
  SB_RETURN_IF_ERROR(SetNetns(netns_.fd(ns)));
  current_ns_ = ns;
  return absl::OkStatus();
}

absl::Status ChurnProcess::Listen() {
  for (int ns = 0; ns < netns_.size(); ++ns) {
    SB_RETURN_IF_ERROR(Enter(ns));
    for (Family f : {Family::kIpv4, Family::kIpv6})
      for (Proto p : {Proto::kTcp, Proto::kUdp}) {
        int s = socket(AfOf(f), SockTypeOf(p) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s < 0) return ErrnoStatus("churn: socket");
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (f == Family::kIpv6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        sockaddr_storage ss;
        socklen_t len = LiveEndpoint(backends_, f).ToSockaddr(&ss);
        if (bind(s, reinterpret_cast<sockaddr*>(&ss), len) < 0)
          return ErrnoStatus(absl::StrFormat("churn: bind %s in netns %d", LiveEndpoint(backends_, f).ToString(), ns));
        if (p == Proto::kTcp && listen(s, 4096) < 0) return ErrnoStatus("churn: listen");
        (p == Proto::kTcp ? tcp_ : udp_).push_back(s);
      }
  }
  return absl::OkStatus();
}

void ChurnProcess::Problem(const Churned& c, const std::string& what) {
  if (report_.first_problem[0]) return;
  absl::SNPrintF(report_.first_problem, sizeof(report_.first_problem), "churned %s/%s socket in netns %d: %s",
                 c.proto == Proto::kTcp ? "tcp" : "udp", FamilyName(c.family), c.netns, what);
}

absl::Status ChurnProcess::OpenOne() {
  const int n = netns_.size();
  const long i = next_++;
  Churned c;
  c.netns = static_cast<int>(i % n);
  const int kind = static_cast<int>((i / n) % 4);
  c.proto = kind < 2 ? Proto::kTcp : Proto::kUdp;
  c.family = kind % 2 ? Family::kIpv6 : Family::kIpv4;
  // Senders spread evenly: the share of the first k sockets that send is
  // always within one socket of sending_share * k.
  c.sender = std::floor((report_.opened + 1) * spec_.sending_share) > std::floor(report_.opened * spec_.sending_share);
  SB_RETURN_IF_ERROR(Enter(c.netns));
  c.fd = socket(AfOf(c.family), SockTypeOf(c.proto) | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return ErrnoStatus("churn: socket");
  int one = 1;
  if (c.family == Family::kIpv6) setsockopt(c.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  const Endpoint to = LiveEndpoint(backends_, c.family);
  sockaddr_storage ss;
  socklen_t len = to.ToSockaddr(&ss);
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    close(c.fd);
    return ErrnoStatus(absl::StrFormat("churn: connect to %s in netns %d", to.ToString(), c.netns));
  }
  if (c.proto == Proto::kTcp) {
    // Loopback: the handshake is done when connect() returns, so the
    // listener, which only this process uses, holds exactly this one.
    int l = tcp_[c.netns * 2 + (c.family == Family::kIpv6)];
    pollfd p{l, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1 || (c.peer = accept4(l, nullptr, nullptr, SOCK_CLOEXEC)) < 0) {
      close(c.fd);
      return ErrnoStatus(absl::StrFormat("churn: accept on %s in netns %d", to.ToString(), c.netns));
    }
  }
  report_.opened++;
  open_.push_back(c);
  while (static_cast<int>(open_.size()) > spec_.max_open) {
    CheckAndClose(open_.front());
    open_.pop_front();
    report_.closed++;
  }
  return absl::OkStatus();
}

void ChurnProcess::Tick() {
  for (Churned& c : open_) {
    if (!c.sender || c.destroyed) continue;
    if (send(c.fd, "c", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) {
      report_.sends++;
    } else if (errno == ECONNABORTED || errno == EPIPE) {
      c.destroyed = true;
      Problem(c, absl::StrCat("send: ", strerror(errno)));
    } else if (errno != EAGAIN) {
      Problem(c, absl::StrCat("send: ", strerror(errno), " (not a destroy)"));
    }
  }
}

// ECONNABORTED is the destroy's mark (tcp_abort/udp_abort); a TCP socket
// whose error was already taken reads end of file, which its peer (ours,
// open) never caused.
void ChurnProcess::CheckAndClose(Churned& c) {
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  bool destroyed = c.destroyed || err == ECONNABORTED;
  if (!destroyed && err != 0) Problem(c, absl::StrCat("SO_ERROR ", strerror(err), " (not a destroy)"));
  if (!destroyed && c.proto == Proto::kTcp) {
    char b;
    destroyed = recv(c.fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
  }
  if (destroyed) {
    report_.destroyed++;
    Problem(c, "destroyed, yet its endpoint is alive");
  }
  close(c.fd);
  if (c.peer >= 0) close(c.peer);
}

void ChurnProcess::CloseAll() {
  for (Churned& c : open_) CheckAndClose(c);
  open_.clear();
  for (int s : tcp_) close(s);
  for (int s : udp_) close(s);
}

// The child: set up, say ready, churn until told to stop (or sockbench
// goes: the control socket's end of file), then report.
[[noreturn]] void ChurnMain(const ChurnSpec& spec, const NetnsSet& netns, int backends, int control) {
  ChurnProcess p(spec, netns, backends);
  // max_open sockets before the pass, so that it starts among as many
  // churned sockets as the steady state holds.
  absl::Status st = p.Listen();
  for (int i = 0; st.ok() && i < spec.max_open; ++i) st = p.OpenOne();
  // The senders' first tick, so traffic flows whatever the pass's length.
  if (st.ok()) p.Tick();
  if (!st.ok()) {
    std::string msg = absl::StrCat("E", st.message());
    (void)!write(control, msg.data(), msg.size());
    _exit(1);
  }
  (void)!write(control, "r", 1);
  const int64_t period = 1'000'000'000LL / spec.opens_per_second;
  int64_t next = NowNs() + period;
  for (;;) {
    const int64_t wait = std::max<int64_t>(0, next - NowNs());
    timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    pollfd pfd{control, POLLIN, 0};
    int r = ppoll(&pfd, 1, &ts, nullptr);
    if (r < 0 && errno != EINTR) _exit(1);
    if (r > 0) break;  // "stop", or sockbench's end closed
    if (NowNs() < next) continue;
    st = p.OpenOne();
    if (!st.ok()) {
      ChurnReport failed = p.report();
      absl::SNPrintF(failed.first_problem, sizeof(failed.first_problem), "%s", st.message());
      char cmd;
      (void)!read(control, &cmd, 1);  // wait for "stop", then say what broke
      (void)!write(control, &failed, sizeof(failed));
      _exit(1);
    }
    p.Tick();
    next += period;
    // Behind by more than a second (a stopped or starved process): start
    // the schedule again instead of bursting.
    if (NowNs() - next > 1'000'000'000LL) next = NowNs() + period;
  }
  char cmd;
  if (read(control, &cmd, 1) != 1) _exit(0);
  p.CloseAll();
  ChurnReport report = p.report();
  (void)!write(control, &report, sizeof(report));
  _exit(0);
}

absl::StatusOr<std::string> ReadWithin(int fd, int timeout_ms, size_t max, const char* what) {
  pollfd p{fd, POLLIN, 0};
  int r = poll(&p, 1, timeout_ms);
  if (r < 0) return ErrnoStatus(absl::StrCat("churn: poll for ", what));
  if (r == 0) return absl::DeadlineExceededError(absl::StrFormat("churn: no %s within %d ms", what, timeout_ms));
  std::string buf(max, '\0');
  ssize_t n = read(fd, buf.data(), buf.size());
  if (n <= 0) return absl::InternalError(absl::StrCat("churn: the churn process died before its ", what));
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace

nlohmann::json ChurnReport::ToJson() const {
  nlohmann::json j = {{"opened", opened}, {"closed", closed}, {"destroyed", destroyed}, {"sends", sends}};
  if (first_problem[0]) j["first_problem"] = first_problem;
  return j;
}

absl::StatusOr<std::unique_ptr<Churn>> Churn::Start(const ChurnSpec& spec, const NetnsSet& netns, int backends,
                                                    const std::string& cgroup_path) {
  SB_ASSIGN_OR_RETURN(ForkedWorker w, ForkWorker("churn"));
  if (w.pid == 0) {
    // In the fleet's cgroup before any socket exists: cgroup hooks see them.
    if (!cgroup_path.empty() && !JoinCgroup(cgroup_path).ok()) {
      const std::string msg = absl::StrCat("Echurn: cannot join the fleet's cgroup ", cgroup_path);
      (void)!write(w.fd, msg.data(), msg.size());
      _exit(3);
    }
    ChurnMain(spec, netns, backends, w.fd);
  }
  std::unique_ptr<Churn> c(new Churn(w.pid, w.fd));
  SB_ASSIGN_OR_RETURN(std::string ready, ReadWithin(w.fd, kReadyTimeoutMs, 512, "ready message"));
  if (ready != "r") return absl::InternalError(ready.substr(1));
  return c;
}

absl::StatusOr<ChurnReport> Churn::Stop() {
  if (write(fd_, "s", 1) != 1) return ErrnoStatus("churn: stop");
  SB_ASSIGN_OR_RETURN(std::string msg, ReadWithin(fd_, kStopTimeoutMs, sizeof(ChurnReport), "report"));
  if (msg.size() != sizeof(ChurnReport)) return absl::InternalError("churn: a short report");
  ChurnReport r;
  std::memcpy(&r, msg.data(), sizeof(r));
  r.first_problem[sizeof(r.first_problem) - 1] = '\0';
  return r;
}

Churn::~Churn() {
  close(fd_);
  KillAndReap(pid_);
}

}  // namespace sockbench
