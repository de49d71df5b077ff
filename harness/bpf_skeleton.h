// RAII around a bpftool-generated skeleton (Katran's BpfSkeleton<T> idea):
// open and load return absl::Status with the verifier's reason; the skeleton
// is destroyed (programs detached, maps freed) with the object.
#pragma once

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "harness/libbpf_log.h"

namespace sockbench {

// Each skeleton header declares NAME__open/__load/__destroy; this binds them.
#define SOCKBENCH_SKELETON_OPS(T)                                  \
  template <>                                                       \
  struct SkeletonOps<T> {                                           \
    static T* Open() { return T##__open(); }                        \
    static int Load(T* s) { return T##__load(s); }                  \
    static void Destroy(T* s) { T##__destroy(s); }                  \
    static constexpr const char* kName = #T;                        \
  }

template <typename T>
struct SkeletonOps;

template <typename T>
class BpfSkeleton {
 public:
  using Customize = void (*)(T*);

  // Opens and loads; `customize` may set rodata or resize maps in between.
  static absl::StatusOr<BpfSkeleton> OpenAndLoad(Customize customize = nullptr) {
    ClearLibbpfLog();
    T* raw = SkeletonOps<T>::Open();
    if (!raw)
      return absl::InternalError(
          absl::StrCat("open ", SkeletonOps<T>::kName, ": ", LibbpfReason()));
    BpfSkeleton skel(raw);
    if (customize) customize(raw);
    int err = SkeletonOps<T>::Load(raw);
    if (err)
      return absl::FailedPreconditionError(absl::StrCat(
          "loading ", SkeletonOps<T>::kName, " failed (", std::strerror(-err), "): ", LibbpfReason()));
    return skel;
  }

  T* operator->() const { return skel_.get(); }
  T* get() const { return skel_.get(); }

 private:
  struct Deleter {
    void operator()(T* s) const { SkeletonOps<T>::Destroy(s); }
  };
  explicit BpfSkeleton(T* s) : skel_(s) {}
  std::unique_ptr<T, Deleter> skel_;
};

}  // namespace sockbench
