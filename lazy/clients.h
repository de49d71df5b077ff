// The applications of the lazy runner: one process in the pods' cgroup
// holding every client socket of the scene, each on a schedule:
//   active        sends a small request every `interval` (a different phase
//                 per socket) and reads the replies;
//   idle          connected, never touched until the run ends;
//   receive_only  waits for data it never asked for (epoll on EPOLLIN);
//   unconnected   (UDP) sendto() the backend on the active schedule, never
//                 connected: a DNS client's shape, must never see an error.
// Each socket records when, and with which errno, a syscall first told the
// application that something is wrong (the send or recv that returned it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/endpoint.h"

namespace sockbench {

enum class Role : uint8_t { kActive = 0, kIdle = 1, kReceiveOnly = 2, kUnconnected = 3 };
constexpr int kRoles = 4;
const char* RoleName(Role r);

struct ClientSpec {
  Proto proto = Proto::kUdp;
  Family family = Family::kIpv4;
  Role role = Role::kActive;
  int backend = 0;
  int pod = 0;
};

enum class Learned : int32_t { kNot = 0, kSend = 1, kRecv = 2, kEof = 3 };

struct ClientRecord {
  int64_t notice_ns = 0;  // CLOCK_MONOTONIC; 0: never told
  int32_t err = 0;        // the errno the syscall returned (0 for an EOF)
  Learned how = Learned::kNot;
  int64_t last_reply_ns = 0;
  uint32_t replies = 0;
  uint32_t sends = 0;
  // At the end of the run, for a socket never told: a pending SO_ERROR and
  // whether it is still connected (an idle socket a destroy pass aborted).
  int32_t final_error = 0;
  int32_t final_connected = 0;
};

class ClientApp {
 public:
  // Forks the process; it joins `cgroup_path` (if not empty), builds every
  // socket in its pod's namespace (`pod_fds`) and reports ready.
  static absl::StatusOr<ClientApp> Start(const std::vector<ClientSpec>& specs, const std::vector<int>& pod_fds,
                                         const std::string& cgroup_path, int interval_ms);
  ClientApp(ClientApp&& o) noexcept;
  ~ClientApp();

  // Stops the schedule, has the process check every socket, and returns
  // the records (index = spec index). The process is gone afterwards.
  absl::StatusOr<std::vector<ClientRecord>> Stop();

 private:
  ClientApp() = default;
  pid_t pid_ = 0;
  int fd_ = -1;
  ClientRecord* shared_ = nullptr;
  size_t count_ = 0;
};

}  // namespace sockbench
