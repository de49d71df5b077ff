#include "harness/approaches/probe_only.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "harness/bpf_skeleton.h"
#include "sockbench_target.h"  // the skeletons' .bss types
#include "sk_storage_iter.skel.h"

namespace sockbench {
namespace {

template <typename Skel>
class ProbeOnlyDestroyer : public Destroyer {
 public:
  explicit ProbeOnlyDestroyer(const char* name) : name_(name) {}
  const char* name() const override { return name_; }
  // Loading the approach's own program is the test: the verifier (or libbpf's
  // kfunc resolution) says whether this kernel can do it.
  absl::Status Probe() override {
    if (skel_) return absl::OkStatus();
    absl::StatusOr<BpfSkeleton<Skel>> skel = BpfSkeleton<Skel>::OpenAndLoad();
    if (!skel.ok()) return skel.status();
    skel_.emplace(std::move(*skel));
    return absl::OkStatus();
  }
  absl::Status Prepare(const PrepareEnv&) override {
    absl::Status st = Probe();
    if (!st.ok()) return st;
    return absl::UnimplementedError(absl::StrCat(
        name_, ": the kernel accepts the program, but this sockbench has no destruction path "
               "for it yet"));
  }
  absl::StatusOr<DestroyStats> Destroy(const Target&) override {
    return absl::UnimplementedError(name_);
  }

 private:
  const char* name_;
  std::optional<BpfSkeleton<Skel>> skel_;
};

}  // namespace

std::unique_ptr<Destroyer> MakeSkStorageIterDestroyer() {
  return std::make_unique<ProbeOnlyDestroyer<sk_storage_iter_bpf>>("sk_storage_iter");
}

}  // namespace sockbench
