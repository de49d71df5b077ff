// Shared by the iterator-driven approaches.
#pragma once

#include <bpf/libbpf.h>

#include <cstring>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/bpf_skeleton.h"
#include "harness/destroyer.h"
#include "harness/endpoint.h"
#include "harness/status.h"
#include "sockbench_target.h"

namespace sockbench {

// The tcp and udp iterator links of one approach, detached on destruction.
class IterLinks {
 public:
  static absl::StatusOr<IterLinks> Attach(bpf_program* tcp, bpf_program* udp);
  IterLinks(IterLinks&& o) noexcept;
  IterLinks& operator=(IterLinks&&) = delete;
  ~IterLinks();
  int tcp_fd() const;
  int udp_fd() const;
  // One pass of each protocol the target names, in the current namespace.
  absl::Status Run(const Target& target) const;

 private:
  IterLinks() = default;
  bpf_link* tcp_ = nullptr;
  bpf_link* udp_ = nullptr;
};

// Runs one iterator pass over the link: create the iterator fd in the
// current namespace and read it to the end (the programs print nothing).
absl::Status RunIterator(int link_fd);

// Enters each namespace in turn and runs `pass` there (a stock iterator
// shows the namespace current when it is created), then returns to the
// calling thread's namespace; stops at the first error.
absl::Status InEachNetns(const std::vector<int>& netns_fds, const std::function<absl::Status()>& pass);

// cgroup programs attached with bpf_link (BPF_F_ALLOW_MULTI semantics),
// detached by Detach() or on destruction.
class CgroupLinks {
 public:
  CgroupLinks() = default;
  CgroupLinks(const CgroupLinks&) = delete;
  CgroupLinks& operator=(const CgroupLinks&) = delete;
  ~CgroupLinks() { Detach(); }
  // Attaches every program to `cgroup_fd`; on an error, what was attached
  // stays until Detach(). `who` names the approach in the error.
  absl::Status Attach(const std::vector<bpf_program*>& programs, int cgroup_fd, const char* who);
  void Detach();

 private:
  std::vector<bpf_link*> links_;
};

// Writes the target endpoints into a skeleton's .bss (see bpf/sb_match.bpf.h)
// and zeroes its counters.
template <typename Bss>
absl::Status LoadTargetIntoBss(Bss* bss, const Target& target) {
  if (target.endpoints.size() > SB_MAX_ENDPOINTS)
    return absl::InvalidArgumentError("too many target endpoints");
  std::memset(&bss->sb_counters, 0, sizeof(bss->sb_counters));
  for (size_t i = 0; i < target.endpoints.size(); ++i) {
    const Endpoint& e = target.endpoints[i];
    auto& out = bss->sb_endpoints[i];
    std::memset(&out, 0, sizeof(out));
    out.family = AfOf(e.family);
    out.port_be = e.port_be;
    std::memcpy(out.addr_be, e.addr.data(), e.family == Family::kIpv4 ? 4 : 16);
  }
  bss->sb_n_endpoints = static_cast<__u32>(target.endpoints.size());
  return absl::OkStatus();
}

inline DestroyStats& operator+=(DestroyStats& a, const DestroyStats& b) {
  a.visited += b.visited;
  a.matched += b.matched;
  a.destroyed += b.destroyed;
  a.failed += b.failed;
  return a;
}

inline DestroyStats StatsFromCounters(const sb_counters& c) {
  DestroyStats s;
  s.visited = c.visited;
  s.matched = c.matched;
  s.destroyed = c.destroyed;
  s.failed = c.failed;
  return s;
}

// An approach whose object T has one tcp and one udp iterator program
// (iter_per_netns, iter_all_netns): Probe() loads T and links both programs
// once; Destroy() loads the target into T's .bss and runs the approach's
// Pass().
template <typename T>
class IteratorDestroyer : public Destroyer {
 public:
  absl::Status Probe() final {
    if (loaded_) return absl::OkStatus();
    SB_ASSIGN_OR_RETURN(BpfSkeleton<T> skel, BpfSkeleton<T>::OpenAndLoad());
    auto [tcp, udp] = Programs(skel.get());
    SB_ASSIGN_OR_RETURN(IterLinks links, IterLinks::Attach(tcp, udp));
    loaded_.emplace(Loaded{std::move(skel), std::move(links)});
    return absl::OkStatus();
  }

  absl::StatusOr<DestroyStats> Destroy(const Target& target) final {
    if (!loaded_) return absl::FailedPreconditionError(absl::StrCat(name(), ": Probe() not called"));
    SB_RETURN_IF_ERROR(LoadTargetIntoBss(skel()->bss, target));
    SB_RETURN_IF_ERROR(Pass(target));
    return StatsFromCounters(skel()->bss->sb_counters);
  }

 protected:
  // The tcp and the udp program of the object.
  virtual std::pair<bpf_program*, bpf_program*> Programs(T* skel) const = 0;
  // Runs the links over the target's namespaces.
  virtual absl::Status Pass(const Target& target) = 0;
  // After a successful Probe().
  T* skel() const { return loaded_->skel.get(); }
  const IterLinks& links() const { return loaded_->links; }

 private:
  struct Loaded {
    BpfSkeleton<T> skel;
    IterLinks links;
  };
  std::optional<Loaded> loaded_;
};


}  // namespace sockbench
