#include "harness/fleet_plan.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <tuple>

#include "absl/strings/str_format.h"

namespace sockbench {
namespace {

constexpr Proto kComboProto[kCombos] = {Proto::kTcp, Proto::kTcp, Proto::kUdp, Proto::kUdp};
constexpr Family kComboFamily[kCombos] = {Family::kIpv4, Family::kIpv6, Family::kIpv4,
                                          Family::kIpv6};
// Descriptors a worker keeps for itself: stdio, control socket, namespace fds.
constexpr long kWorkerReserve = 64;

}  // namespace

std::vector<long> Apportion(long n, const std::vector<double>& weights) {
  double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<long> out(weights.size(), 0);
  if (sum <= 0 || n <= 0) return out;
  std::vector<std::pair<double, size_t>> rest;
  long given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    double exact = n * weights[i] / sum;
    out[i] = static_cast<long>(std::floor(exact));
    given += out[i];
    if (weights[i] > 0) rest.push_back({exact - out[i], i});
  }
  // Largest fraction first; ties go to the earlier index.
  std::stable_sort(rest.begin(), rest.end(),
                   [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < n; ++k, ++given) out[rest[k % rest.size()].second]++;
  return out;
}

long WorkerFdCapacity() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  long hard = rl.rlim_max == RLIM_INFINITY ? 1 << 20 : static_cast<long>(rl.rlim_max);
  return std::max(256L, hard - kWorkerReserve);
}

absl::StatusOr<FleetPlan> FleetPlan::Make(const Scenario& s, long fd_capacity) {
  FleetPlan plan;
  plan.scenario = s;
  plan.netns.resize(s.namespaces);
  std::vector<double> mix(s.mix.begin(), s.mix.end());

  // Target namespaces spread evenly over the fleet.
  std::vector<bool> is_target_ns(s.namespaces, false);
  for (int j = 0; j < s.target_namespaces; ++j)
    is_target_ns[static_cast<long>(j) * s.namespaces / s.target_namespaces] = true;
  std::vector<long> others =
      Apportion(s.sockets - s.targets(), std::vector<double>(s.namespaces, 1.0));

  for (int ns = 0; ns < s.namespaces; ++ns) {
    NetnsPlan& np = plan.netns[ns];
    std::set<std::tuple<int, int, int>> servers;  // (proto, family, backend)
    auto add = [&](int combo, int backend, long count, bool target) {
      if (count == 0) return;
      np.groups.push_back({ns, kComboProto[combo], kComboFamily[combo], backend, count, target});
      np.clients += count;
      if (kComboProto[combo] == Proto::kTcp) np.fds += count;  // accepted peer
      servers.insert({static_cast<int>(kComboProto[combo]), static_cast<int>(kComboFamily[combo]),
                      backend});
    };
    if (is_target_ns[ns]) {
      std::vector<long> t = Apportion(s.targets_per_netns, mix);
      for (int c = 0; c < kCombos; ++c) add(c, 0, t[c], true);
    }
    std::vector<long> o = Apportion(others[ns], mix);
    for (int c = 0; c < kCombos; ++c) {
      // Non-targets go round-robin to the backends that stay alive (1..B-1).
      std::vector<long> per_backend =
          Apportion(o[c], std::vector<double>(std::max(1, s.backends - 1), 1.0));
      for (int b = 1; b < s.backends; ++b) add(c, b, per_backend[b - 1], false);
    }
    np.fds += np.clients + static_cast<long>(servers.size());
    plan.total_fds += np.fds;
    if (np.fds > fd_capacity)
      return absl::InvalidArgumentError(absl::StrFormat(
          "scenario %s: namespace %d needs %d descriptors (clients, TCP peers, servers) but one "
          "worker process may hold %d (RLIMIT_NOFILE); use more namespaces or fewer sockets",
          s.Label(), ns, np.fds, fd_capacity));
  }

  // At least two workers when there is work for two cores; more when one
  // worker's descriptor limit is not enough. Namespaces stay whole.
  long want = std::max<long>(std::min(2, s.namespaces),
                             (plan.total_fds + fd_capacity - 1) / fd_capacity);
  long share = (plan.total_fds + want - 1) / want;
  long used = 0;
  plan.worker_netns.emplace_back();
  for (int ns = 0; ns < s.namespaces; ++ns) {
    long need = plan.netns[ns].fds;
    if (!plan.worker_netns.back().empty() && (used + need > fd_capacity || used >= share)) {
      plan.worker_netns.emplace_back();
      used = 0;
    }
    plan.worker_netns.back().push_back(ns);
    plan.netns[ns].worker = plan.workers() - 1;
    used += need;
  }
  return plan;
}

}  // namespace sockbench
