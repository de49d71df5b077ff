// Memory sockbench shares with its workers (MAP_SHARED, inherited by fork):
// a build progress counter per worker, and a connect lock per namespace.
// Workers that share a namespace share its TCP listeners too: each holds the
// namespace's lock from connect() until it has accepted that connection, so
// the listener's queue never holds another worker's connection.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"

namespace sockbench {

class FleetSharedMemory {
 public:
  static absl::StatusOr<std::unique_ptr<FleetSharedMemory>> Create(int workers, int namespaces);
  ~FleetSharedMemory();
  FleetSharedMemory(const FleetSharedMemory&) = delete;
  FleetSharedMemory& operator=(const FleetSharedMemory&) = delete;

  std::atomic<long>& progress(int worker) { return progress_[worker]; }
  long total_progress() const;

  // Fails (and leaves the lock free) when the worker that held it died.
  absl::Status LockNetns(int ns);
  void UnlockNetns(int ns);

 private:
  FleetSharedMemory() = default;
  void* mem_ = nullptr;
  size_t size_ = 0;
  int workers_ = 0;
  std::atomic<long>* progress_ = nullptr;
  pthread_mutex_t* netns_locks_ = nullptr;
};

}  // namespace sockbench
