// What the leak worker does with sockets: the application side of the
// study. Runs inside the worker process, in sockbench's namespace.
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "leak/plan.h"
#include "leak/app_protocol.h"

namespace sockbench {

class LeakApp {
 public:
  // Binds a TCP listener and a UDP socket on every service's backend, both
  // families. Call before joining the test cgroup.
  static absl::StatusOr<std::unique_ptr<LeakApp>> Create();
  ~LeakApp();

  LeakReply Handle(const LeakRequest& req, std::vector<uint64_t>* cookies);

 private:
  struct Backend {
    int listener = -1;
    int udp = -1;
  };
  struct Client {
    int fd = -1;
    int peer = -1;  // accepted TCP peer
    SockKind kind;
    Family family;
    int backend;
    Endpoint dst;
    Endpoint expect;
  };
  // What a translation check found.
  enum class Seen { kVip, kBackend, kError };

  LeakApp() = default;
  absl::Status Open(const LeakRequest& req, LeakReply* rep);
  absl::Status TimeOpen(const LeakRequest& req, LeakReply* rep);
  void Check(int group, int stride, int phase, LeakReply* rep);
  void Close(int group, bool timed, LeakReply* rep);
  absl::StatusOr<Client> NewClient(const LeakRequest& req);
  void CountCheck(const Client& c, LeakReply* rep);
  Seen CheckOne(const Client& c);
  Seen Exchange(const Client& c);
  Seen Classify(const Client& c, const sockaddr_storage& seen);
  void DrainBackends();
  Backend& backend(Family f, int service) { return backends_[{static_cast<int>(f), service}]; }

  std::map<std::pair<int, int>, Backend> backends_;
  std::vector<Client> groups_[kLeakGroups];
};

}  // namespace sockbench
