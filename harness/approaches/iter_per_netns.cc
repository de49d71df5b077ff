#include "harness/approaches/iter_per_netns.h"

#include "harness/bpf_iter_util.h"
#include "harness/status.h"
#include "iter_per_netns.skel.h"

namespace sockbench {
namespace {

class IterPerNetnsDestroyer : public IteratorDestroyer<iter_per_netns_bpf> {
 public:
  const char* name() const override { return "iter_per_netns"; }

 private:
  // The stock iterators show one namespace: one pass in each.
  absl::Status Pass(const Target& target) override {
    return InEachNetns(target.netns_fds, [&] { return links().Run(target); });
  }

  std::pair<bpf_program*, bpf_program*> Programs(iter_per_netns_bpf* s) const override {
    return {s->progs.destroy_tcp, s->progs.destroy_udp};
  }
};

}  // namespace

std::unique_ptr<Destroyer> MakeIterPerNetnsDestroyer() { return std::make_unique<IterPerNetnsDestroyer>(); }

}  // namespace sockbench
