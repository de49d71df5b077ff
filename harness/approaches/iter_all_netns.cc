#include "harness/approaches/iter_all_netns.h"

#include "harness/bpf_iter_util.h"
#include "harness/netns_filter.h"
#include "harness/status.h"
#include "iter_all_netns.skel.h"

namespace sockbench {
namespace {

class IterAllNetnsDestroyer : public IteratorDestroyer<iter_all_netns_bpf> {
 public:
  const char* name() const override { return "iter_all_netns"; }

 private:
  // One pass over every namespace; the namespace filter is part of what an
  // agent pays, so it is filled inside the timing.
  absl::Status Pass(const Target& target) override {
    SB_RETURN_IF_ERROR(netns_.Set(bpf_map__fd(skel()->maps.sb_netns), target.netns_cookies));
    return links().Run(target);
  }

  std::pair<bpf_program*, bpf_program*> Programs(iter_all_netns_bpf* s) const override {
    return {s->progs.destroy_tcp_all, s->progs.destroy_udp_all};
  }

  NetnsFilter netns_;
};

}  // namespace

std::unique_ptr<Destroyer> MakeIterAllNetnsDestroyer() { return std::make_unique<IterAllNetnsDestroyer>(); }

}  // namespace sockbench
