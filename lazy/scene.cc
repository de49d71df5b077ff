#include "lazy/scene.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "harness/cleanup.h"
#include "harness/netns.h"
#include "harness/status.h"

namespace sockbench {
namespace {

Endpoint Parse(Family f, const std::string& s, uint16_t port) {
  Endpoint e;
  e.family = f;
  inet_pton(AfOf(f), s.c_str(), e.addr.data());
  e.port_be = htons(port);
  return e;
}

std::string V4(const Endpoint& e) {
  char b[INET6_ADDRSTRLEN];
  inet_ntop(AfOf(e.family), e.addr.data(), b, sizeof(b));
  return b;
}

// The backend process: UDP echo and TCP echo on its address, both families,
// until it is killed.
[[noreturn]] void ServeBackend(int b, int ready_fd) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> listeners, udp;
  auto fail = [&](const char* what) {
    dprintf(ready_fd, "backend %d: %s: %s", b, what, strerror(errno));
    _exit(1);
  };
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    Endpoint e = LazyBackend(b, f);
    sockaddr_storage ss;
    socklen_t len = e.ToSockaddr(&ss);
    int one = 1;
    for (Proto p : {Proto::kUdp, Proto::kTcp}) {
      int s = socket(AfOf(f), SockTypeOf(p) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (s < 0) fail("socket");
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (f == Family::kIpv6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      if (bind(s, reinterpret_cast<sockaddr*>(&ss), len) < 0) fail("bind");
      if (p == Proto::kTcp && listen(s, 4096) < 0) fail("listen");
      (p == Proto::kTcp ? listeners : udp).push_back(s);
      epoll_event ev{EPOLLIN, {.u64 = static_cast<uint64_t>(s) | (p == Proto::kTcp ? 1ull << 32 : 0)}};
      epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    }
  }
  if (write(ready_fd, "", 1) != 1) _exit(1);
  close(ready_fd);
  epoll_event evs[256];
  char buf[2048];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; ++i) {
      int fd = static_cast<int>(evs[i].data.u64 & 0xffffffff);
      bool listener = evs[i].data.u64 >> 32 == 1;
      bool stream = evs[i].data.u64 >> 32 == 2;
      if (listener) {
        for (;;) {
          int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          epoll_event ev{EPOLLIN, {.u64 = static_cast<uint64_t>(c) | 2ull << 32}};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
      } else if (stream) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r > 0) {
          send(fd, buf, r, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
          close(fd);
        }
      } else {
        for (;;) {
          sockaddr_storage from;
          socklen_t fl = sizeof(from);
          ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &fl);
          if (r < 0) break;
          sendto(fd, buf, r, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), fl);
        }
      }
    }
  }
}

}  // namespace

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

Endpoint LazyBackend(int backend, Family family) {
  return family == Family::kIpv4 ? Parse(family, absl::StrCat("10.202.0.", 10 + backend), kLazyBackendPort)
                                 : Parse(family, absl::StrFormat("fd00:5e::%x", 10 + backend), kLazyBackendPort);
}

Endpoint LazyPodAddress(int pod, Family family) {
  return family == Family::kIpv4 ? Parse(family, absl::StrCat("10.201.", pod, ".2"), 0)
                                 : Parse(family, absl::StrFormat("fd00:5d:%x::2", pod), 0);
}

absl::Status RunIn(int netns_fd, const std::vector<std::string>& argv, const std::string& input) {
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) return ErrnoStatus("pipe");
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (setns(netns_fd, CLONE_NEWNET) < 0) _exit(126);
    dup2(in[0], 0);
    dup2(err[1], 2);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    dprintf(2, "exec %s: %s", args[0], strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  size_t off = 0;
  while (off < input.size()) {
    ssize_t w = write(in[1], input.data() + off, input.size() - off);
    if (w <= 0) break;
    off += w;
  }
  close(in[1]);
  std::string msg;
  char buf[512];
  ssize_t r;
  while ((r = read(err[0], buf, sizeof(buf))) > 0) msg.append(buf, r);
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return absl::FailedPreconditionError(absl::StrCat(argv[0], " ", argv.size() > 1 ? argv[1] : "", " failed: ", msg));
  }
  return absl::OkStatus();
}

absl::Status WriteSysctl(int netns_fd, const std::string& path, const std::string& value) {
  SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(netns_fd));
  UniqueFd f(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!f.valid()) return ErrnoStatus(absl::StrCat("open ", path));
  if (write(f.get(), value.data(), value.size()) < 0) return ErrnoStatus(absl::StrCat("write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Scene>> Scene::Create(const SceneOptions& opts) {
  std::unique_ptr<Scene> s(new Scene());
  SB_RETURN_IF_ERROR(s->Build(opts));
  return s;
}

std::vector<int> Scene::PodFds() const {
  std::vector<int> v;
  for (const auto& p : pods_) v.push_back(p.get());
  return v;
}

absl::Status Scene::Build(const SceneOptions& opts) {
  auto make = [](UniqueFd* out) -> absl::Status {
    SB_ASSIGN_OR_RETURN(*out, NetnsSet::CreateOne(NetnsOptions{}));
    // No duplicate address detection: addresses are usable at once.
    SB_RETURN_IF_ERROR(WriteSysctl(out->get(), "/proc/sys/net/ipv6/conf/default/accept_dad", "0"));
    return WriteSysctl(out->get(), "/proc/sys/net/ipv6/conf/all/accept_dad", "0");
  };
  SB_RETURN_IF_ERROR(make(&node_));
  SB_RETURN_IF_ERROR(make(&backends_ns_));
  pods_.resize(opts.pods);
  for (auto& p : pods_) {
    SB_RETURN_IF_ERROR(make(&p));
    SB_ASSIGN_OR_RETURN(uint64_t c, NetnsCookie(p.get()));
    pod_cookies_.push_back(c);
  }
  const std::string self = absl::StrCat("/proc/", getpid(), "/fd/");
  std::string node = absl::StrCat("link add b0 type veth peer name eth0 netns ", self, backends_ns_.get(), "\n",
                                  "addr add 10.202.0.1/24 dev b0\naddr add fd00:5e::1/64 dev b0 nodad\n"
                                  "link set b0 up\n");
  for (int i = 0; i < opts.pods; ++i)
    absl::StrAppendFormat(&node,
                          "link add p%d type veth peer name eth0 netns %s%d\n"
                          "addr add 10.201.%d.1/24 dev p%d\naddr add fd00:5d:%x::1/64 dev p%d nodad\n"
                          "link set p%d up\n",
                          i, self, pods_[i].get(), i, i, i, i, i);
  SB_RETURN_IF_ERROR(RunIn(node_.get(), {"ip", "-batch", "-"}, node));
  SB_RETURN_IF_ERROR(WriteSysctl(node_.get(), "/proc/sys/net/ipv4/ip_forward", "1"));
  SB_RETURN_IF_ERROR(WriteSysctl(node_.get(), "/proc/sys/net/ipv6/conf/all/forwarding", "1"));
  if (opts.icmp_ratelimit_ms >= 0) {
    std::string v = absl::StrCat(opts.icmp_ratelimit_ms);
    SB_RETURN_IF_ERROR(WriteSysctl(node_.get(), "/proc/sys/net/ipv4/icmp_ratelimit", v));
    SB_RETURN_IF_ERROR(WriteSysctl(node_.get(), "/proc/sys/net/ipv6/icmp/ratelimit", v));
  }
  std::string be = "addr add 10.202.0.2/24 dev eth0\naddr add fd00:5e::2/64 dev eth0 nodad\n";
  for (int b = 0; b < opts.backends; ++b)
    absl::StrAppend(&be, "addr add ", V4(LazyBackend(b, Family::kIpv4)), "/24 dev eth0\naddr add ",
                    V4(LazyBackend(b, Family::kIpv6)), "/64 dev eth0 nodad\n");
  absl::StrAppend(&be, "link set eth0 up\nroute add default via 10.202.0.1\nroute add default via fd00:5e::1\n");
  SB_RETURN_IF_ERROR(RunIn(backends_ns_.get(), {"ip", "-batch", "-"}, be));
  for (int i = 0; i < opts.pods; ++i) {
    std::string pod = absl::StrFormat(
        "addr add 10.201.%d.2/24 dev eth0\naddr add fd00:5d:%x::2/64 dev eth0 nodad\nlink set eth0 up\n"
        "route add default via 10.201.%d.1\nroute add default via fd00:5d:%x::1\n",
        i, i, i, i);
    SB_RETURN_IF_ERROR(RunIn(pods_[i].get(), {"ip", "-batch", "-"}, pod));
  }
  // The cluster's datapath on the node: a backend that is gone is a black
  // hole, both ways.
  SB_ASSIGN_OR_RETURN(Nft nft, Nft::Open(node_.get()));
  nft_ = std::make_unique<Nft>(std::move(nft));
  SB_RETURN_IF_ERROR(nft_->Run(
      "table inet sockbench_cluster {\n"
      "  set gone4 { type ipv4_addr; }\n"
      "  set gone6 { type ipv6_addr; }\n"
      "  chain forward {\n"
      "    type filter hook forward priority 0; policy accept;\n"
      "    ip daddr @gone4 drop\n    ip saddr @gone4 drop\n"
      "    ip6 daddr @gone6 drop\n    ip6 saddr @gone6 drop\n"
      "  }\n"
      "}\n"));
  for (int b = 0; b < opts.backends; ++b) SB_RETURN_IF_ERROR(StartBackend(b));
  return WarmUp(opts.backends);
}

// One UDP echo from every pod to every backend, both families, before any
// client exists: neighbour discovery on every hop is done, so no client's
// first round trip (and so no TCP RTT estimate) carries it. Bounded: 50
// tries of 100 ms each per pair.
absl::Status Scene::WarmUp(int backends) {
  for (size_t p = 0; p < pods_.size(); ++p) {
    SB_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(pods_[p].get()));
    for (Family f : {Family::kIpv4, Family::kIpv6})
      for (int b = 0; b < backends; ++b) {
        UniqueFd s(socket(AfOf(f), SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_storage ss;
        socklen_t len = LazyBackend(b, f).ToSockaddr(&ss);
        if (connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
          return ErrnoStatus(absl::StrCat("warm-up connect to ", LazyBackend(b, f).ToString()));
        bool answered = false;
        for (int t = 0; t < 50 && !answered; ++t) {
          send(s.get(), "w", 1, MSG_DONTWAIT);
          pollfd pfd{s.get(), POLLIN, 0};
          char c;
          answered = poll(&pfd, 1, 100) == 1 && recv(s.get(), &c, 1, MSG_DONTWAIT) == 1;
        }
        if (!answered)
          return absl::UnavailableError(absl::StrCat("pod ", p, " gets no answer from backend ", b, " (",
                                                     LazyBackend(b, f).ToString(), ") within 5 s"));
      }
  }
  return absl::OkStatus();
}

absl::Status Scene::StartBackend(int b) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return ErrnoStatus("pipe");
  SB_ASSIGN_OR_RETURN(ForkedWorker w, ForkWorker("lazy backend"));
  if (w.pid == 0) {
    close(ready[0]);
    if (setns(backends_ns_.get(), CLONE_NEWNET) < 0) _exit(1);
    ServeBackend(b, ready[1]);
  }
  close(w.fd);
  close(ready[1]);
  backend_pids_.push_back(w.pid);
  std::string msg;
  char buf[256];
  ssize_t r;
  while ((r = read(ready[0], buf, sizeof(buf))) > 0) {
    if (r == 1 && buf[0] == '\0' && msg.empty()) break;
    msg.append(buf, r);
  }
  close(ready[0]);
  if (r != 1 || !msg.empty()) return absl::InternalError(msg.empty() ? "backend died before serving" : msg);
  return absl::OkStatus();
}

absl::Status Scene::KillBackend(int b) {
  SB_RETURN_IF_ERROR(nft_->Run(absl::StrCat("add element inet sockbench_cluster gone4 { ",
                                            V4(LazyBackend(b, Family::kIpv4)), " }\n",
                                            "add element inet sockbench_cluster gone6 { ",
                                            V4(LazyBackend(b, Family::kIpv6)), " }\n")));
  death_ns_ = MonotonicNs();
  if (b < static_cast<int>(backend_pids_.size()) && backend_pids_[b] > 0) {
    KillAndReap(backend_pids_[b]);
    backend_pids_[b] = 0;
  }
  return RunIn(backends_ns_.get(), {"ip", "-batch", "-"},
               absl::StrCat("addr del ", V4(LazyBackend(b, Family::kIpv4)), "/24 dev eth0\naddr del ",
                            V4(LazyBackend(b, Family::kIpv6)), "/64 dev eth0\n"));
}

Scene::~Scene() {
  for (pid_t p : backend_pids_)
    if (p > 0) KillAndReap(p);
  nft_.reset();
}

}  // namespace sockbench
