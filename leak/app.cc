#include "leak/app.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_format.h"
#include "harness/status.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

namespace sockbench {
namespace {

using Clock = std::chrono::steady_clock;

bool WaitReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int n = poll(&p, 1, kLeakIoTimeoutMs);
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & POLLIN);
  }
}

absl::StatusOr<int> BoundSocket(Proto proto, const Endpoint& ep) {
  int fd = socket(AfOf(ep.family), SockTypeOf(proto) | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("socket for backend");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (ep.family == Family::kIpv6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  sockaddr_storage ss;
  socklen_t len = ep.ToSockaddr(&ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    absl::Status st = ErrnoStatus(absl::StrFormat("bind %s backend %s", ProtoName(proto), ep.ToString()));
    close(fd);
    return st;
  }
  if (proto == Proto::kTcp && listen(fd, 4096) < 0) {
    close(fd);
    return ErrnoStatus("listen");
  }
  return fd;
}

void SummarizeCalls(std::vector<int64_t> calls, LeakReply* rep) {
  rep->elapsed_ns = 0;
  for (int64_t c : calls) rep->elapsed_ns += c;
  if (calls.empty()) return;
  std::nth_element(calls.begin(), calls.begin() + calls.size() / 2, calls.end());
  rep->median_call_ns = calls[calls.size() / 2];
}

int SoError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LeakApp>> LeakApp::Create() {
  std::unique_ptr<LeakApp> app(new LeakApp());
  for (Family f : AllFamilies())
    for (int s = 0; s < kServices; ++s) {
      Backend& b = app->backend(f, s);
      SB_ASSIGN_OR_RETURN(b.listener, BoundSocket(Proto::kTcp, ServiceBackend(s, f)));
      SB_ASSIGN_OR_RETURN(b.udp, BoundSocket(Proto::kUdp, ServiceBackend(s, f)));
    }
  return app;
}

LeakApp::~LeakApp() {
  for (auto& g : groups_)
    for (Client& c : g) {
      close(c.fd);
      if (c.peer >= 0) close(c.peer);
    }
  for (auto& [k, b] : backends_) {
    close(b.listener);
    close(b.udp);
  }
}

LeakReply LeakApp::Handle(const LeakRequest& req, std::vector<uint64_t>* cookies) {
  LeakReply rep;
  absl::Status st;
  if (req.group >= kLeakGroups || req.backend >= kServices || req.kind > 2 || req.stride < 1) {
    st = absl::InvalidArgumentError("bad request");
  } else {
    switch (req.op) {
      case LeakOp::kOpen:
        st = Open(req, &rep);
        break;
      case LeakOp::kTimeOpen:
        st = TimeOpen(req, &rep);
        break;
      case LeakOp::kCheck:
        Check(req.group, req.stride, req.phase, &rep);
        break;
      case LeakOp::kClose:
        Close(req.group, false, &rep);
        break;
      case LeakOp::kTimeClose:
        Close(req.group, true, &rep);
        break;
      case LeakOp::kCookies:
        for (const Client& c : groups_[req.group]) {
          uint64_t cookie = 0;
          socklen_t len = sizeof(cookie);
          if (cookies->size() >= kLeakMaxCookies) break;
          if (getsockopt(c.fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0) {
            st = ErrnoStatus("getsockopt(SO_COOKIE)");
            break;
          }
          cookies->push_back(cookie);
        }
        rep.sockets = static_cast<int64_t>(groups_[req.group].size());
        break;
      default:
        st = absl::InvalidArgumentError("unknown op");
    }
  }
  rep.ok = st.ok() ? 1 : 0;
  if (!st.ok()) std::strncpy(rep.message, std::string(st.message()).c_str(), sizeof(rep.message) - 1);
  return rep;
}

absl::StatusOr<LeakApp::Client> LeakApp::NewClient(const LeakRequest& req) {
  Client c;
  c.kind = static_cast<SockKind>(req.kind);
  c.family = req.dst.family;
  c.backend = req.backend;
  c.dst = req.dst;
  c.expect = req.expect;
  c.fd = socket(AfOf(c.family), SockTypeOf(ProtoOf(c.kind)) | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return ErrnoStatus("socket for client");
  int one = 1;
  if (c.family == Family::kIpv6) setsockopt(c.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  return c;
}

// A real connect() to the VIP: only the connect4/6 program can make it
// reach the backend (nothing listens on, or routes to, a VIP).
absl::Status LeakApp::Open(const LeakRequest& req, LeakReply* rep) {
  DrainBackends();
  std::vector<Client>& group = groups_[req.group];
  for (int i = 0; i < req.count; ++i) {
    SB_ASSIGN_OR_RETURN(Client c, NewClient(req));
    group.push_back(c);  // from here on Close() owns the descriptor
    Client& added = group.back();
    if (added.kind != SockKind::kUdpUnconnected) {
      sockaddr_storage ss;
      socklen_t len = req.dst.ToSockaddr(&ss);
      if (connect(added.fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
        return ErrnoStatus(absl::StrFormat("connect %s %s", SockKindName(added.kind), req.dst.ToString()));
      if (added.kind == SockKind::kTcp) {
        if (!WaitReadable(backend(added.family, added.backend).listener))
          return absl::DeadlineExceededError("no connection reached the backend");
        added.peer = accept4(backend(added.family, added.backend).listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (added.peer < 0) return ErrnoStatus("accept");
      }
    }
    CountCheck(added, rep);
  }
  return absl::OkStatus();
}

// The hook's price alone: sockets are created before the clock starts and
// TCP connections accepted after it stops.
absl::Status LeakApp::TimeOpen(const LeakRequest& req, LeakReply* rep) {
  // Timed work runs at the highest nice level: on a shared machine a busy
  // neighbour then takes the CPU from us far less often (the worker exists
  // for the measurement; nothing else of ours competes with it).
  setpriority(PRIO_PROCESS, 0, -20);
  DrainBackends();
  std::vector<Client>& group = groups_[req.group];
  size_t first = group.size();
  for (int i = 0; i < req.count; ++i) {
    SB_ASSIGN_OR_RETURN(Client c, NewClient(req));
    group.push_back(c);
  }
  sockaddr_storage ss;
  socklen_t len = req.dst.ToSockaddr(&ss);
  const char byte = 'c';
  std::vector<int64_t> calls;
  calls.reserve(group.size() - first);
  for (size_t i = first; i < group.size(); ++i) {
    auto t0 = Clock::now();
    int rc = group[i].kind == SockKind::kUdpUnconnected
                 ? static_cast<int>(sendto(group[i].fd, &byte, 1, 0, reinterpret_cast<sockaddr*>(&ss), len))
                 : connect(group[i].fd, reinterpret_cast<sockaddr*>(&ss), len);
    auto t1 = Clock::now();
    if (rc < 0) return ErrnoStatus(absl::StrFormat("timed connect to %s", req.dst.ToString()));
    calls.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  SummarizeCalls(calls, rep);
  for (size_t i = first; i < group.size(); ++i) {
    Client& c = group[i];
    if (c.kind != SockKind::kTcp) continue;
    if (!WaitReadable(backend(c.family, c.backend).listener))
      return absl::DeadlineExceededError("no connection reached the backend");
    c.peer = accept4(backend(c.family, c.backend).listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c.peer < 0) return ErrnoStatus("accept");
  }
  DrainBackends();
  rep->sockets = static_cast<int64_t>(group.size() - first);
  return absl::OkStatus();
}

void LeakApp::Check(int group, int stride, int phase, LeakReply* rep) {
  DrainBackends();
  const std::vector<Client>& g = groups_[group];
  for (size_t i = 0; i < g.size(); ++i) {
    if (stride > 1 && static_cast<int>(i % stride) != phase) continue;
    CountCheck(g[i], rep);
  }
}

// Checks one socket's translation and counts the answer in the reply.
void LeakApp::CountCheck(const Client& c, LeakReply* rep) {
  rep->sockets++;
  switch (CheckOne(c)) {
    case Seen::kVip:
      rep->translated++;
      break;
    case Seen::kBackend:
      rep->untranslated++;
      break;
    case Seen::kError:
      rep->errors++;
      break;
  }
}

// What the application sees of its peer: getpeername() for connected
// sockets, and the source recvmsg() reports for a real datagram from the
// backend for UDP ones. Connected UDP must pass both.
LeakApp::Seen LeakApp::CheckOne(const Client& c) {
  Seen peer = Seen::kVip;
  if (c.kind != SockKind::kUdpUnconnected) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (getpeername(c.fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return Seen::kError;
    peer = Classify(c, ss);
  }
  if (c.kind == SockKind::kTcp || peer != Seen::kVip) return peer;
  return Exchange(c);
}

LeakApp::Seen LeakApp::Exchange(const Client& c) {
  const char q = 'q';
  ssize_t n;
  if (c.kind == SockKind::kUdpConnected) {
    n = send(c.fd, &q, 1, 0);
  } else {
    sockaddr_storage ss;
    socklen_t len = c.dst.ToSockaddr(&ss);
    n = sendto(c.fd, &q, 1, 0, reinterpret_cast<sockaddr*>(&ss), len);
  }
  if (n != 1) return Seen::kError;
  int server = backend(c.family, c.backend).udp;
  if (!WaitReadable(server)) return Seen::kError;
  char buf[16];
  sockaddr_storage from{};
  socklen_t flen = sizeof(from);
  if (recvfrom(server, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen) < 0)
    return Seen::kError;
  const char a = 'a';
  if (sendto(server, &a, 1, 0, reinterpret_cast<sockaddr*>(&from), flen) != 1) return Seen::kError;
  if (!WaitReadable(c.fd)) return Seen::kError;
  sockaddr_storage src{};
  iovec iov{buf, sizeof(buf)};
  msghdr msg{};
  msg.msg_name = &src;
  msg.msg_namelen = sizeof(src);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (recvmsg(c.fd, &msg, 0) != 1) return Seen::kError;
  return Classify(c, src);
}

LeakApp::Seen LeakApp::Classify(const Client& c, const sockaddr_storage& seen) {
  Endpoint e = Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&seen));
  if (e == c.expect) return Seen::kVip;
  if (e == ServiceBackend(c.backend, c.family)) return Seen::kBackend;
  return Seen::kError;
}

void LeakApp::Close(int group, bool timed, LeakReply* rep) {
  std::vector<Client>& g = groups_[group];
  for (const Client& c : g)
    if (SoError(c.fd) == ECONNABORTED) rep->aborted++;
  // The backend closes first, so TIME_WAIT lands on its side: thousands of
  // client-side TIME_WAIT sockets would make later connect()s search for a
  // free port and swamp the timings.
  for (const Client& c : g)
    if (c.peer >= 0) close(c.peer);
  std::vector<int64_t> calls;
  calls.reserve(g.size());
  for (const Client& c : g) {
    auto t0 = Clock::now();
    close(c.fd);
    auto t1 = Clock::now();
    calls.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  if (timed) SummarizeCalls(calls, rep);
  rep->sockets = static_cast<int64_t>(g.size());
  g.clear();
}

// A check reads exactly the datagram it caused; leftovers of an earlier
// failed check or of a timed burst must not be mistaken for it.
void LeakApp::DrainBackends() {
  char buf[64];
  for (auto& [k, b] : backends_)
    while (recv(b.udp, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
    }
}

}  // namespace sockbench
