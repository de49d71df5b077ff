#include "harness/fleet_shared_memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <new>

#include "absl/strings/str_format.h"
#include "harness/status.h"

namespace sockbench {

absl::StatusOr<std::unique_ptr<FleetSharedMemory>> FleetSharedMemory::Create(int workers,
                                                                             int namespaces) {
  std::unique_ptr<FleetSharedMemory> m(new FleetSharedMemory());
  const size_t locks = sizeof(pthread_mutex_t) * namespaces;
  const size_t counters = sizeof(std::atomic<long>) * workers;
  m->size_ = locks + counters;  // mutexes first: both stay aligned
  m->mem_ = mmap(nullptr, m->size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m->mem_ == MAP_FAILED) {
    m->mem_ = nullptr;
    return ErrnoStatus("mmap fleet shared memory");
  }
  m->workers_ = workers;
  m->netns_locks_ = static_cast<pthread_mutex_t*>(m->mem_);
  m->progress_ = new (static_cast<char*>(m->mem_) + locks) std::atomic<long>[workers]();
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  // A worker killed in the middle of a connect must not hang its siblings.
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  for (int i = 0; i < namespaces; ++i) pthread_mutex_init(&m->netns_locks_[i], &attr);
  pthread_mutexattr_destroy(&attr);
  return m;
}

FleetSharedMemory::~FleetSharedMemory() {
  if (mem_) munmap(mem_, size_);
}

long FleetSharedMemory::total_progress() const {
  long sum = 0;
  for (int w = 0; w < workers_; ++w) sum += progress_[w].load(std::memory_order_relaxed);
  return sum;
}

absl::Status FleetSharedMemory::LockNetns(int ns) {
  int err = pthread_mutex_lock(&netns_locks_[ns]);
  if (err == EOWNERDEAD) {
    // Its half-done connection may sit in the shared listener's queue.
    pthread_mutex_consistent(&netns_locks_[ns]);
    pthread_mutex_unlock(&netns_locks_[ns]);
    return absl::AbortedError(absl::StrFormat(
        "a worker sharing netns %d died while connecting; its connection may be queued", ns));
  }
  if (err != 0) return ErrnoStatus(absl::StrFormat("lock netns %d", ns), err);
  return absl::OkStatus();
}

void FleetSharedMemory::UnlockNetns(int ns) { pthread_mutex_unlock(&netns_locks_[ns]); }

}  // namespace sockbench
