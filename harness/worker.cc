#include "harness/worker.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "harness/status.h"
#include "harness/worker_protocol.h"

namespace sockbench {
namespace {

constexpr int kAcceptTimeoutMs = 10000;

struct Client {
  int fd;
  int peer_fd;  // accepted TCP peer, -1 for UDP
  int netns;
  Proto proto;
  Family family;
  uint16_t backend;
  bool target;
};

class Worker {
 public:
  Worker(const FleetPlan& plan, int index, const NetnsSet& netns, std::atomic<long>* progress)
      : plan_(plan), index_(index), netns_(netns), progress_(progress) {}

  absl::Status Build();
  absl::Status RecreateTargets();
  VerifyCounts Verify(std::string* first_problem);

 private:
  absl::StatusOr<int> Server(int ns, Proto proto, Family family, int backend);
  absl::Status Connect(Client* c);
  absl::Status EnterIfNeeded(int ns);

  const FleetPlan& plan_;
  int index_;
  const NetnsSet& netns_;
  std::atomic<long>* progress_;
  int current_ns_ = -1;
  std::map<std::tuple<int, int, int, int>, int> servers_;
  std::vector<Client> clients_;
};

absl::Status Worker::EnterIfNeeded(int ns) {
  if (ns == current_ns_) return absl::OkStatus();
  SB_RETURN_IF_ERROR(SetNetns(netns_.fd(ns)));
  current_ns_ = ns;
  return absl::OkStatus();
}

absl::StatusOr<int> Worker::Server(int ns, Proto proto, Family family, int backend) {
  auto key = std::make_tuple(ns, static_cast<int>(proto), static_cast<int>(family), backend);
  auto it = servers_.find(key);
  if (it != servers_.end()) return it->second;
  Endpoint ep = BackendEndpoint(backend, family);
  int fd = socket(AfOf(family), SockTypeOf(proto) | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("socket for backend server");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (family == Family::kIpv6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return ErrnoStatus(absl::StrFormat("bind backend %s in netns %d", ep.ToString(), ns));
  if (proto == Proto::kTcp && listen(fd, 4096) < 0) return ErrnoStatus("listen");
  servers_[key] = fd;
  return fd;
}

// One client: a real connect() to the backend; TCP clients get their
// accepted peer at once, so the listener's queue never holds a stranger
// (each namespace belongs to exactly one worker).
absl::Status Worker::Connect(Client* c) {
  Endpoint ep = BackendEndpoint(c->backend, c->family);
  SB_ASSIGN_OR_RETURN(int server, Server(c->netns, c->proto, c->family, c->backend));
  c->fd = socket(AfOf(c->family), SockTypeOf(c->proto) | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return ErrnoStatus("socket for client");
  int one = 1;
  if (c->family == Family::kIpv6)
    setsockopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (connect(c->fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return ErrnoStatus(absl::StrFormat("connect %s %s in netns %d", ProtoName(c->proto),
                                       ep.ToString(), c->netns));
  c->peer_fd = -1;
  if (c->proto == Proto::kTcp) {
    // Bounded: a lost handshake must fail the build loudly, not hang it.
    pollfd p{server, POLLIN, 0};
    int n = poll(&p, 1, kAcceptTimeoutMs);
    if (n == 0)
      return absl::DeadlineExceededError(absl::StrFormat(
          "accept on %s in netns %d: no connection queued after %d ms", ep.ToString(), c->netns,
          kAcceptTimeoutMs));
    if (n < 0) return ErrnoStatus("poll listener");
    c->peer_fd = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (c->peer_fd < 0) return ErrnoStatus("accept");
  }
  return absl::OkStatus();
}

absl::Status Worker::Build() {
  long total = 0;
  for (int ns : plan_.worker_netns[index_]) total += plan_.netns[ns].clients;
  clients_.reserve(total);
  for (int ns : plan_.worker_netns[index_]) {
    SB_RETURN_IF_ERROR(EnterIfNeeded(ns));
    for (const SocketGroup& g : plan_.netns[ns].groups) {
      for (long i = 0; i < g.count; ++i) {
        Client c{-1, -1, ns, g.proto, g.family, static_cast<uint16_t>(g.backend), g.target};
        SB_RETURN_IF_ERROR(Connect(&c));
        clients_.push_back(c);
        progress_->fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Worker::RecreateTargets() {
  for (Client& c : clients_) {
    if (!c.target) continue;
    close(c.fd);
    if (c.peer_fd >= 0) close(c.peer_fd);
    SB_RETURN_IF_ERROR(EnterIfNeeded(c.netns));
    SB_RETURN_IF_ERROR(Connect(&c));
  }
  return absl::OkStatus();
}

int SoError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

bool Connected(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  return getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
}

// What the application sees: a destroyed socket reports ECONNABORTED once
// through SO_ERROR and is no longer connected; anything else is untouched.
VerifyCounts Worker::Verify(std::string* first_problem) {
  VerifyCounts v;
  auto problem = [&](const Client& c, const char* what, int err) {
    if (!first_problem->empty()) return;
    *first_problem = absl::StrFormat("netns %d %s/%s backend %d: %s (SO_ERROR=%s)", c.netns,
                                     ProtoName(c.proto), FamilyName(c.family), c.backend, what,
                                     err ? strerror(err) : "0");
  };
  for (const Client& c : clients_) {
    int err = SoError(c.fd);
    bool connected = Connected(c.fd);
    int peer_err = c.peer_fd >= 0 ? SoError(c.peer_fd) : 0;
    if (c.target) {
      v.targets++;
      if (err == ECONNABORTED && !connected) {
        v.destroyed++;
      } else {
        v.missed++;
        problem(c, "target not destroyed", err);
      }
      if (c.peer_fd >= 0) {
        if (peer_err == ECONNRESET)
          v.peer_reset++;
        else
          v.peer_not_reset++;
      }
    } else {
      if (err == 0 && connected && peer_err == 0) {
        v.intact++;
      } else {
        v.extra++;
        problem(c, err || !connected ? "non-target destroyed" : "peer of non-target reset",
                err ? err : peer_err);
      }
    }
  }
  return v;
}

void Reply(int fd, const absl::Status& st, const VerifyCounts& counts = {},
           const std::string& msg = "") {
  WorkerReply r;
  r.ok = st.ok() ? 1 : 0;
  r.counts = counts;
  std::string text = st.ok() ? msg : std::string(st.message());
  std::strncpy(r.message, text.c_str(), sizeof(r.message) - 1);
  (void)!write(fd, &r, sizeof(r));
}

}  // namespace

void WorkerMain(const FleetPlan& plan, int index, const NetnsSet& netns, int control_fd,
                std::atomic<long>* progress) {
  Worker w(plan, index, netns, progress);
  for (;;) {
    WorkerCmd cmd;
    ssize_t n = read(control_fd, &cmd, sizeof(cmd));
    if (n <= 0) _exit(0);  // sockbench closed the pair: exit, sockets go with us
    switch (cmd) {
      case WorkerCmd::kBuild:
        Reply(control_fd, w.Build());
        break;
      case WorkerCmd::kRecreateTargets:
        Reply(control_fd, w.RecreateTargets());
        break;
      case WorkerCmd::kVerify: {
        std::string problem;
        VerifyCounts v = w.Verify(&problem);
        Reply(control_fd, absl::OkStatus(), v, problem);
        break;
      }
      default:
        _exit(2);
    }
  }
}

}  // namespace sockbench
