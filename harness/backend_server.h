// The backend server sockets of the fleet's namespaces (a TCP listener or a
// bound UDP socket per backend, family and protocol), by namespace.
#pragma once

#include <map>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/endpoint.h"
#include "harness/fleet_plan.h"

namespace sockbench {

class BackendServers {
 public:
  BackendServers() = default;
  BackendServers(BackendServers&& o) noexcept : fds_(std::move(o.fds_)) { o.fds_.clear(); }
  BackendServers& operator=(BackendServers&& o) noexcept;
  BackendServers(const BackendServers&) = delete;
  BackendServers& operator=(const BackendServers&) = delete;
  ~BackendServers() { Clear(); }

  // The server of `backend` in namespace `ns`; opened on first use, in the
  // calling thread's namespace, which must be `ns`.
  absl::StatusOr<int> Get(int ns, Proto proto, Family family, int backend);
  // Opens every server of `ns` (the calling thread is in it).
  absl::Status OpenAll(int ns, const std::vector<BackendServer>& servers);
  void Clear();

 private:
  std::map<std::tuple<int, int, int, int>, int> fds_;  // (ns, proto, family, backend)
};

}  // namespace sockbench
