#include "leak/lab.h"

#include "harness/netns.h"
#include "harness/status.h"

namespace sockbench {

absl::StatusOr<std::unique_ptr<LeakLab>> LeakLab::Create(const std::string& tag) {
  std::unique_ptr<LeakLab> lab(new LeakLab());
  NetnsOptions opts;
  opts.ipv6_addresses = LeakIpv6Addresses();
  SB_ASSIGN_OR_RETURN(lab->netns_, NetnsSet::CreateOne(opts));
  SB_ASSIGN_OR_RETURN(lab->netns_cookie_, NetnsCookie(lab->netns_.get()));
  SB_ASSIGN_OR_RETURN(ScopedCgroup cg, ScopedCgroup::Create(tag));
  lab->cgroup_.emplace(std::move(cg));
  SB_ASSIGN_OR_RETURN(lab->worker_, LeakAppProcess::Start(lab->netns_.get(), lab->cgroup_->path()));
  return lab;
}

Target LeakLab::BackendTarget(int service, Family family, SockKind kind) const {
  Target t;
  t.endpoints.push_back(ServiceBackend(service, family));
  t.tcp = kind == SockKind::kTcp;
  t.udp = kind != SockKind::kTcp;
  t.netns_fds = {netns_.get()};
  t.netns_cookies = {netns_cookie_};
  return t;
}

absl::StatusOr<LeakReply> LeakLab::Open(int group, SockKind kind, Family family, int service,
                                        int count) {
  LeakRequest req;
  req.op = LeakOp::kOpen;
  req.kind = static_cast<uint8_t>(kind);
  req.group = static_cast<uint8_t>(group);
  req.backend = static_cast<uint8_t>(service);
  req.count = count;
  req.dst = VipEndpoint(service, family);
  req.expect = req.dst;
  return worker_->Call(req);
}

absl::StatusOr<LeakReply> LeakLab::Check(int group, int stride, int phase) {
  LeakRequest req;
  req.op = LeakOp::kCheck;
  req.group = static_cast<uint8_t>(group);
  req.stride = stride;
  req.phase = phase;
  return worker_->Call(req);
}

absl::StatusOr<LeakReply> LeakLab::Close(int group) {
  LeakRequest req;
  req.op = LeakOp::kClose;
  req.group = static_cast<uint8_t>(group);
  return worker_->Call(req);
}

absl::StatusOr<std::vector<uint64_t>> LeakLab::Cookies(int group) {
  LeakRequest req;
  req.op = LeakOp::kCookies;
  req.group = static_cast<uint8_t>(group);
  std::vector<uint64_t> cookies;
  SB_ASSIGN_OR_RETURN(LeakReply rep, worker_->Call(req, &cookies));
  (void)rep;
  return cookies;
}

}  // namespace sockbench
