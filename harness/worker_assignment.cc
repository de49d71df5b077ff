#include "harness/worker_assignment.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"

namespace sockbench {
namespace {

long CeilDiv(long a, long b) { return (a + b - 1) / b; }
long FdsPerClient(const SocketGroup& g) { return g.proto == Proto::kTcp ? 2 : 1; }  // + peer

int NewWorker(FleetPlan* plan) {
  plan->workers.emplace_back();
  plan->workers.back().fds = kWorkerOwnFds;
  return plan->worker_count() - 1;
}

void AddWholeNamespace(FleetPlan* plan, int w, int ns) {
  NetnsPlan& np = plan->netns[ns];
  WorkerPlan& wp = plan->workers[w];
  wp.netns.push_back(ns);
  wp.groups.insert(wp.groups.end(), np.groups.begin(), np.groups.end());
  wp.clients += np.clients;
  wp.fds += np.fds + 1;  // + the namespace fd
  np.workers = {w};
}

// Deals every group of the namespace over `slices` workers: each gets
// count/slices of it, and the remainders go round-robin over the slices, so
// slices differ by at most one client of each kind (and every slice gets its
// share of the targets). Returns the client and peer fds of each slice.
std::vector<std::vector<SocketGroup>> Deal(const NetnsPlan& np, long slices,
                                           std::vector<long>* slice_fds) {
  std::vector<std::vector<SocketGroup>> out(slices);
  slice_fds->assign(slices, 0);
  long next = 0;  // the slice that gets the next remainder
  for (const SocketGroup& g : np.groups) {
    for (long k = 0; k < slices; ++k) {
      const long j = (next + k) % slices;
      SocketGroup piece = g;
      piece.count = g.count / slices + (k < g.count % slices ? 1 : 0);
      if (piece.count == 0) continue;
      out[j].push_back(piece);
      (*slice_fds)[j] += piece.count * FdsPerClient(g);
    }
    next = (next + g.count % slices) % slices;
  }
  return out;
}

// A namespace too big for one worker: the fewest slices that each fit.
// Every slice's worker also holds all backend servers (inherited) and the
// namespace fd.
absl::Status SplitNamespace(FleetPlan* plan, int ns, long budget) {
  NetnsPlan& np = plan->netns[ns];
  const long servers = static_cast<long>(np.servers.size());
  const long room = budget - 1 - servers;  // client and peer fds per worker
  if (room < 2)
    return absl::InvalidArgumentError(absl::StrFormat(
        "namespace %d has %d backend servers, which leave no room for clients in a worker "
        "(RLIMIT_NOFILE %d, %d kept for the worker itself); use fewer backends",
        ns, servers, budget + kWorkerOwnFds, kWorkerOwnFds));
  std::vector<long> fds;
  std::vector<std::vector<SocketGroup>> slices;
  for (long n = CeilDiv(np.fds - servers, room);; ++n) {
    slices = Deal(np, n, &fds);
    if (*std::max_element(fds.begin(), fds.end()) <= room) break;
  }
  for (size_t k = 0; k < slices.size(); ++k) {
    WorkerPlan& wp = plan->workers[NewWorker(plan)];
    wp.netns = {ns};
    wp.groups = std::move(slices[k]);
    for (const SocketGroup& g : wp.groups) wp.clients += g.count;
    wp.fds += 1 + servers + fds[k];
    np.workers.push_back(plan->worker_count() - 1);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AssignWorkers(FleetPlan* plan, long worker_fds) {
  const long budget = worker_fds - kWorkerOwnFds;  // namespace fds and sockets
  if (budget < 16)
    return absl::InvalidArgumentError(absl::StrFormat(
        "RLIMIT_NOFILE is %d: a worker keeps %d descriptors for itself and needs room for "
        "sockets; raise the hard limit",
        worker_fds, kWorkerOwnFds));
  // Whole namespaces: at least two workers when there is work for two cores,
  // more when one worker's limit is not enough.
  long whole_fds = 0;
  int whole = 0;
  for (const NetnsPlan& np : plan->netns)
    if (np.fds + 1 <= budget) {
      whole_fds += np.fds + 1;
      ++whole;
    }
  const long want = std::max<long>(std::min(2, whole), CeilDiv(whole_fds, budget));
  const long share = want > 0 ? CeilDiv(whole_fds, want) : 0;

  int open = -1;  // the worker still taking whole namespaces
  for (int ns = 0; ns < plan->scenario.namespaces; ++ns) {
    const long need = plan->netns[ns].fds + 1;
    if (need > budget) {
      open = -1;
      absl::Status st = SplitNamespace(plan, ns, budget);
      if (!st.ok()) return st;
      continue;
    }
    const long used = open < 0 ? 0 : plan->workers[open].fds - kWorkerOwnFds;
    if (open < 0 || used + need > budget || used >= share) open = NewWorker(plan);
    AddWholeNamespace(plan, open, ns);
  }
  return absl::OkStatus();
}

}  // namespace sockbench
