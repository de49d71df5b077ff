#include "harness/bpf_iter_util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include "harness/libbpf_log.h"
#include "harness/netns.h"
#include "harness/status.h"
#include "harness/unique_fd.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sockbench {

absl::StatusOr<IterLinks> IterLinks::Attach(bpf_program* tcp, bpf_program* udp) {
  IterLinks links;
  ClearLibbpfLog();
  links.tcp_ = bpf_program__attach_iter(tcp, nullptr);
  if (!links.tcp_)
    return ErrnoStatus(absl::StrCat("attach ", bpf_program__section_name(tcp), ": ", LibbpfReason()));
  links.udp_ = bpf_program__attach_iter(udp, nullptr);
  if (!links.udp_)
    return ErrnoStatus(absl::StrCat("attach ", bpf_program__section_name(udp), ": ", LibbpfReason()));
  return links;
}

IterLinks::IterLinks(IterLinks&& o) noexcept
    : tcp_(std::exchange(o.tcp_, nullptr)), udp_(std::exchange(o.udp_, nullptr)) {}

IterLinks::~IterLinks() {
  bpf_link__destroy(tcp_);
  bpf_link__destroy(udp_);
}

int IterLinks::tcp_fd() const { return bpf_link__fd(tcp_); }
int IterLinks::udp_fd() const { return bpf_link__fd(udp_); }

absl::Status IterLinks::Run(const Target& target) const {
  if (target.tcp) SB_RETURN_IF_ERROR(RunIterator(tcp_fd()));
  if (target.udp) SB_RETURN_IF_ERROR(RunIterator(udp_fd()));
  return absl::OkStatus();
}

absl::Status RunIterator(int link_fd) {
  UniqueFd it(bpf_iter_create(link_fd));
  if (!it.valid()) return ErrnoStatus("bpf_iter_create");
  char buf[256];
  for (;;) {
    ssize_t n = read(it.get(), buf, sizeof(buf));
    if (n == 0) return absl::OkStatus();
    // A read that covers a million objects without output stops with EAGAIN
    // (kernel MAX_ITER_OBJECTS); the iterator resumes on the next read.
    if (n < 0 && errno != EAGAIN && errno != EINTR) return ErrnoStatus("read iterator");
  }
}

absl::Status InEachNetns(const std::vector<int>& netns_fds, const std::function<absl::Status()>& pass) {
  SB_ASSIGN_OR_RETURN(UniqueFd home, CurrentNetns());
  absl::Status st;
  for (int ns : netns_fds) {
    if (!(st = SetNetns(ns)).ok()) break;
    if (!(st = pass()).ok()) break;
  }
  SB_RETURN_IF_ERROR(SetNetns(home.get()));
  return st;
}

absl::Status CgroupLinks::Attach(const std::vector<bpf_program*>& programs, int cgroup_fd, const char* who) {
  for (bpf_program* p : programs) {
    ClearLibbpfLog();
    bpf_link* l = bpf_program__attach_cgroup(p, cgroup_fd);
    if (!l)
      return ErrnoStatus(absl::StrCat(who, ": attach ", bpf_program__section_name(p), ": ", LibbpfReason()));
    links_.push_back(l);
  }
  return absl::OkStatus();
}

void CgroupLinks::Detach() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
}

}  // namespace sockbench
