// RAII around a bpftool-generated skeleton, with the lifecycle of
// libbpf-bootstrap and Katran: open, set rodata / size maps / pick programs
// through the skeleton's members, then load. The C++ members bpftool
// generates (T::open, T::load, T::destroy) are all it needs, so any
// skeleton works without registration. Errors are absl::Status with the
// verifier's reason; the skeleton is destroyed (programs detached, maps
// freed) with the object.
//
//   SB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton<foo_bpf>::Open());
//   bpf_map__set_max_entries(skel->maps.bar, n);
//   skel->rodata->baz = 1;
//   SB_RETURN_IF_ERROR(skel.Load());
#pragma once

#include <bpf/libbpf.h>

#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "harness/libbpf_log.h"

namespace sockbench {

template <typename T>
class BpfSkeleton {
 public:
  // Parses the object: maps and programs exist, nothing is in the kernel.
  static absl::StatusOr<BpfSkeleton> Open() {
    ClearLibbpfLog();
    T* raw = T::open();
    if (!raw) return absl::InternalError(absl::StrCat("open BPF skeleton: ", LibbpfReason()));
    return BpfSkeleton(raw);
  }

  // Creates the maps and loads the programs; the error is the verifier's
  // (or libbpf's) reason.
  absl::Status Load() {
    ClearLibbpfLog();
    int err = T::load(get());
    if (err)
      return absl::FailedPreconditionError(absl::StrCat("loading ", get()->skeleton->name,
                                                        " failed (", std::strerror(-err),
                                                        "): ", LibbpfReason()));
    return absl::OkStatus();
  }

  // For objects with nothing to set between the two.
  static absl::StatusOr<BpfSkeleton> OpenAndLoad() {
    absl::StatusOr<BpfSkeleton> s = Open();
    if (!s.ok()) return s.status();
    absl::Status st = s->Load();
    if (!st.ok()) return st;
    return s;
  }

  T* operator->() const { return skel_.get(); }
  T* get() const { return skel_.get(); }

 private:
  struct Deleter {
    void operator()(T* s) const { T::destroy(s); }
  };
  explicit BpfSkeleton(T* s) : skel_(s) {}
  std::unique_ptr<T, Deleter> skel_;
};

}  // namespace sockbench
