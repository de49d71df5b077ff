#include "harness/bpf_iter_util.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include "harness/status.h"
#include "harness/unique_fd.h"

namespace sockbench {

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

}  // namespace sockbench
