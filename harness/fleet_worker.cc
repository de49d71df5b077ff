#include "harness/fleet_worker.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "harness/fleet_limits.h"
#include "harness/status.h"
#include "harness/fleet_protocol.h"

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
  int16_t source;  // SocketGroup::source
  bool target;
  bool unconnected;   // SocketGroup::unconnected: sent once, never connected
  uint16_t port_be;   // an unconnected sender's local port after its sendto()
};

class Worker {
 public:
  Worker(const FleetPlan& plan, int index, const NetnsSet& netns, BackendServers servers,
         FleetSharedMemory* shared)
      : plan_(plan), me_(plan.workers[index]), index_(index), netns_(netns),
        servers_(std::move(servers)), shared_(shared) {}

  absl::Status Build();
  absl::Status RecreateTargets();
  VerifyCounts Verify(std::string* first_problem);

 private:
  absl::Status Connect(Client* c);
  absl::Status SendOnce(Client* c);
  absl::Status ConnectAndAccept(Client* c, const Endpoint& ep);
  absl::Status EnterIfNeeded(int ns);

  const FleetPlan& plan_;
  const WorkerPlan& me_;
  int index_;
  const NetnsSet& netns_;
  BackendServers servers_;
  FleetSharedMemory* shared_;
  int current_ns_ = -1;
  std::vector<Client> clients_;
};

absl::Status Worker::EnterIfNeeded(int ns) {
  if (ns == current_ns_) return absl::OkStatus();
  SB_RETURN_IF_ERROR(SetNetns(netns_.fd(ns)));
  current_ns_ = ns;
  return absl::OkStatus();
}

// The client's local address, when the plan gives it one: the port is still
// the kernel's, picked at connect() (IP_BIND_ADDRESS_NO_PORT), so TCP
// clients to different backends share ports as they do unbound.
absl::Status BindSource(int fd, const Client& c) {
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  Endpoint src = ClientSourceAddress(c.source, c.family);
  sockaddr_storage ss;
  socklen_t len = src.ToSockaddr(&ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return ErrnoStatus(absl::StrFormat("bind client to %s in netns %d", src.ToString(), c.netns));
  return absl::OkStatus();
}

// The socket's local port, network order (0 when it has none).
uint16_t LocalPort(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return 0;
  return Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&ss)).port_be;
}

// Whether the accepted `peer` is the other end of `client`: its remote
// address is the client's local one.
bool IsPeerOf(int peer, int client) {
  sockaddr_storage local, remote;
  socklen_t llen = sizeof(local), rlen = sizeof(remote);
  if (getsockname(client, reinterpret_cast<sockaddr*>(&local), &llen) < 0 ||
      getpeername(peer, reinterpret_cast<sockaddr*>(&remote), &rlen) < 0)
    return false;
  return Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&local)) ==
         Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&remote));
}

// The client's socket, of its protocol and family (IPv6 only for IPv6),
// bound to its source address when the plan gives it one.
absl::Status OpenClientSocket(Client* c) {
  c->fd = socket(AfOf(c->family), SockTypeOf(c->proto) | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return ErrnoStatus("socket for client");
  int one = 1;
  if (c->family == Family::kIpv6)
    setsockopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (c->source >= 0) SB_RETURN_IF_ERROR(BindSource(c->fd, *c));
  c->peer_fd = -1;
  return absl::OkStatus();
}

// One client: a real connect() to the backend; TCP clients get their
// accepted peer at once. Workers sharing a namespace share its listener and
// take turns (FleetSharedMemory::LockNetns), so the listener's queue never
// holds a stranger.
absl::Status Worker::Connect(Client* c) {
  Endpoint ep = BackendEndpoint(c->backend, c->family);
  SB_RETURN_IF_ERROR(OpenClientSocket(c));
  if (c->proto == Proto::kTcp && plan_.netns[c->netns].shared()) {
    SB_RETURN_IF_ERROR(shared_->LockNetns(c->netns));
    absl::Status st = ConnectAndAccept(c, ep);
    shared_->UnlockNetns(c->netns);
    return st;
  }
  return ConnectAndAccept(c, ep);
}

// An unconnected sender: one datagram to the backend with sendto(), which
// binds it to an ephemeral port (the kernel's; SOCK_BINDPORT_LOCK unset, as
// for the application of cilium#48564), and no connect().
absl::Status Worker::SendOnce(Client* c) {
  Endpoint ep = BackendEndpoint(c->backend, c->family);
  SB_RETURN_IF_ERROR(OpenClientSocket(c));
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (sendto(c->fd, "q", 1, 0, reinterpret_cast<sockaddr*>(&ss), len) != 1)
    return ErrnoStatus(absl::StrFormat("sendto %s in netns %d", ep.ToString(), c->netns));
  c->port_be = LocalPort(c->fd);
  if (c->port_be == 0)
    return absl::InternalError(absl::StrFormat("unconnected sender in netns %d has no port", c->netns));
  return absl::OkStatus();
}

absl::Status Worker::ConnectAndAccept(Client* c, const Endpoint& ep) {
  SB_ASSIGN_OR_RETURN(int server, servers_.Get(c->netns, c->proto, c->family, c->backend));
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (connect(c->fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return ErrnoStatus(absl::StrFormat("connect %s %s in netns %d", ProtoName(c->proto),
                                       ep.ToString(), c->netns));
  if (c->proto != Proto::kTcp) return absl::OkStatus();
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
  if (!IsPeerOf(c->peer_fd, c->fd))
    return absl::InternalError(absl::StrFormat(
        "accept on %s in netns %d returned another client's connection (a worker sharing the "
        "listener connected without its turn)",
        ep.ToString(), c->netns));
  return absl::OkStatus();
}

absl::Status Worker::Build() {
  SB_RETURN_IF_ERROR(RaiseFdSoftLimit());
  clients_.reserve(me_.clients);
  for (const SocketGroup& g : me_.groups) {
    SB_RETURN_IF_ERROR(EnterIfNeeded(g.netns));
    for (long i = 0; i < g.count; ++i) {
      Client c{-1, -1, g.netns, g.proto, g.family, static_cast<uint16_t>(g.backend),
               static_cast<int16_t>(g.source), g.target, g.unconnected, 0};
      SB_RETURN_IF_ERROR(g.unconnected ? SendOnce(&c) : Connect(&c));
      clients_.push_back(c);
      shared_->progress(index_).fetch_add(1, std::memory_order_relaxed);
    }
  }
  return absl::OkStatus();
}

// The targets, and the unconnected senders: a sender an approach destroyed
// has lost its port for good, and would count against every approach that
// runs after it; a fresh one (a new socket, a new sendto(), new socket-LB
// state) makes each repetition answer for itself.
absl::Status Worker::RecreateTargets() {
  for (Client& c : clients_) {
    if (!c.target && !c.unconnected) continue;
    close(c.fd);
    if (c.peer_fd >= 0) close(c.peer_fd);
    SB_RETURN_IF_ERROR(EnterIfNeeded(c.netns));
    SB_RETURN_IF_ERROR(c.unconnected ? SendOnce(&c) : Connect(&c));
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
    } else if (c.unconnected) {
      // Destroyed, it reports ECONNABORTED once, and __udp_disconnect()
      // unhashed it: its port is gone (the next sendto() picks another).
      v.unconnected++;
      const uint16_t port = LocalPort(c.fd);
      if (err != 0 || connected || port != c.port_be) {
        v.extra++;
        v.unconnected_extra++;
        problem(c,
                absl::StrFormat("unconnected sender destroyed (local port %d, now %d)", ntohs(c.port_be),
                                ntohs(port))
                    .c_str(),
                err);
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

void WorkerMain(const FleetPlan& plan, int index, const NetnsSet& netns,
                BackendServers* inherited, FleetSharedMemory* shared, int control_fd) {
  Worker w(plan, index, netns, std::move(*inherited), shared);
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
