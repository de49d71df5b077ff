// What every strategy does the same way with its skeleton: load with the
// maps sized and the namespace cookie set, attach the cgroup programs, fill
// the service map, read the counters. Each strategy's .cc supplies Size()
// (its maps) and the state queries. Every strategy skeleton has the same
// names for what leak_lb.bpf.h defines, so this is one template.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "harness/bpf_iter_util.h"
#include "harness/bpf_skeleton.h"
#include "harness/socket_lb.h"
#include "leak/strategy.h"
#include "harness/status.h"

namespace sockbench {

template <typename Derived, typename T>
class SkeletonStrategy : public LeakStrategy {
 public:
  ~SkeletonStrategy() override {
    // Detach before the skeleton (and its programs) go.
    links_.Detach();
  }

  absl::Status Load(const StrategyOptions& opts) override {
    SB_ASSIGN_OR_RETURN(BpfSkeleton<T> s, BpfSkeleton<T>::Open());
    s->rodata->leak_netns_cookie = opts.netns_cookie;
    Derived::Size(s.get(), opts);
    SB_RETURN_IF_ERROR(s.Load());
    skel_.emplace(std::move(s));
    return static_cast<Derived*>(this)->AfterLoad();
  }

  absl::Status Attach(int cgroup_fd) override {
    std::vector<bpf_program*> programs;
    bpf_program* prog;
    bpf_object__for_each_program(prog, skel()->obj) {
      if (absl::StartsWith(bpf_program__section_name(prog), "cgroup/")) programs.push_back(prog);
    }
    return links_.Attach(programs, cgroup_fd, name());
  }

  absl::Status AddService(const Endpoint& vip, Proto proto, const Endpoint& backend,
                          uint16_t rev_nat_index) override {
    return AddSocketLbService(bpf_map__fd(skel()->maps.leak_services), vip, proto, backend, rev_nat_index);
  }

  StrategyCounters Counters() const override {
    const leak_counters& c = skel()->bss->leak_counters;
    StrategyCounters out;
    out.forward = c.forward;
    out.inserted = c.inserted;
    out.insert_failed = c.insert_failed;
    out.reverse = c.reverse;
    out.deleted = c.deleted;
    out.displaced = c.displaced;
    return out;
  }

  void ResetCounters() override { std::memset(&skel()->bss->leak_counters, 0, sizeof(leak_counters)); }

 protected:
  T* skel() const { return skel_->get(); }
  absl::Status AfterLoad() { return absl::OkStatus(); }

 private:
  std::optional<BpfSkeleton<T>> skel_;
  CgroupLinks links_;
};

}  // namespace sockbench
