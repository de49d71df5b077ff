#include "harness/fleet_fit.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "harness/cleanup.h"

namespace sockbench {
namespace {

// Kernel memory per socket, with its file, inode and dentry, rounded up.
// Measured (slabinfo, 1M sockets in one namespace, 6.18): TCP 2.4 KiB,
// TCPv6 2.5, UDP 1.3, UDPv6 1.4, sock_inode_cache 0.8 per socket, plus
// about 0.45 KiB of file and dentry.
constexpr long kTcpSocketBytes = 4096;
constexpr long kUdpSocketBytes = 3072;
// A namespace with loopback and a few addresses (measured: ~260 KiB of slab).
constexpr long kNetnsBytes = 320 << 10;
// A forked worker: page tables and the pages it writes, plus its client
// records (sizeof(Client) and vector growth).
constexpr long kWorkerBytes = 8 << 20;
constexpr long kClientRecordBytes = 64;
// sockbench's own descriptors besides namespaces and control sockets
// (stdio, BPF objects of the approaches, cgroup, netlink).
constexpr long kSockbenchOwnFds = 256;

double GiB(long bytes) { return bytes / double(1L << 30); }

}  // namespace

FleetCost EstimateCost(const FleetPlan& plan) {
  FleetCost c;
  long clients = 0;
  long shared_servers = 0;  // sockbench holds one shared namespace's at a time
  for (const NetnsPlan& np : plan.netns) {
    clients += np.clients;
    for (const SocketGroup& g : np.groups) {
      if (g.proto == Proto::kTcp)
        c.tcp_sockets += 2 * g.count;  // client and accepted peer
      else
        c.udp_sockets += g.count;
    }
    for (const BackendServer& s : np.servers)
      (s.proto == Proto::kTcp ? c.tcp_sockets : c.udp_sockets) += 1;
    if (np.shared()) shared_servers = std::max<long>(shared_servers, np.servers.size());
  }
  const long ns = plan.scenario.namespaces, workers = plan.worker_count();
  c.memory_bytes = c.tcp_sockets * kTcpSocketBytes + c.udp_sockets * kUdpSocketBytes +
                   ns * kNetnsBytes + workers * kWorkerBytes + clients * kClientRecordBytes;
  // Sockets, namespace fds and one socketpair per worker; descriptors a
  // worker inherits point at files already counted.
  c.system_files = plan.socket_fds + ns + 2 * workers;
  c.sockbench_fds = ns + workers + shared_servers + kSockbenchOwnFds;
  return c;
}

absl::Status FleetFits(const FleetPlan& plan, const FleetLimits& limits) {
  const FleetCost c = EstimateCost(plan);
  if (c.memory_bytes > limits.memory_bytes)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the fleet needs an estimated %.1f GiB of memory (%d TCP sockets x %d B, %d UDP "
        "sockets x %d B, %d namespaces, %d workers) but MemAvailable is %.1f GiB; use fewer "
        "sockets or namespaces",
        GiB(c.memory_bytes), c.tcp_sockets, kTcpSocketBytes, c.udp_sockets, kUdpSocketBytes,
        plan.scenario.namespaces, plan.worker_count(), GiB(limits.memory_bytes)));
  if (c.system_files > limits.system_files)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the fleet needs %d open files (sockets, namespaces, worker sockets) but the system can "
        "open %d more (fs.file-max minus fs.file-nr); use fewer sockets or raise fs.file-max",
        c.system_files, limits.system_files));
  if (plan.worker_count() > kMaxRegisteredWorkers)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the fleet needs %d workers (RLIMIT_NOFILE %d per worker) but sockbench tracks at most "
        "%d; raise the hard descriptor limit or use fewer sockets",
        plan.worker_count(), limits.worker_fds, kMaxRegisteredWorkers));
  if (c.sockbench_fds > limits.sockbench_fds)
    return absl::ResourceExhaustedError(absl::StrFormat(
        "sockbench itself would hold %d descriptors (%d namespaces, %d worker control sockets, "
        "%d kept for itself) but RLIMIT_NOFILE is %d; use fewer namespaces",
        c.sockbench_fds, plan.scenario.namespaces, plan.worker_count(), kSockbenchOwnFds,
        limits.sockbench_fds));
  return absl::OkStatus();
}

}  // namespace sockbench
