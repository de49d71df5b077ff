#include "harness/fleet_plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <tuple>

#include "absl/strings/str_format.h"
#include "harness/fleet_fit.h"
#include "harness/worker_assignment.h"

namespace sockbench {
namespace {

constexpr int kUdpIpv4 = 2, kUdpIpv6 = 3;  // ComboIndex order
constexpr Proto kComboProto[kCombos] = {Proto::kTcp, Proto::kTcp, Proto::kUdp, Proto::kUdp};
constexpr Family kComboFamily[kCombos] = {Family::kIpv4, Family::kIpv6, Family::kIpv4,
                                          Family::kIpv6};

long CeilDiv(long a, long b) { return (a + b - 1) / b; }

// A namespace has kClientsPerSourceAddress ephemeral ports per local address
// (UDP: one port per socket of a family; TCP: one per socket to the same
// backend). More clients than that bind to ClientSourceAddress 0, 1, ...,
// spread evenly; groups are cut where the address changes. Returns the
// number of source addresses used for `family` (0: the kernel's choice).
int SpreadOverSourceAddresses(NetnsPlan* np, Family family) {
  long udp = 0;
  std::vector<long> tcp_per_backend;
  for (const SocketGroup& g : np->groups) {
    if (g.family != family) continue;
    if (g.proto == Proto::kUdp) {
      udp += g.count;
    } else {
      if (static_cast<size_t>(g.backend) >= tcp_per_backend.size())
        tcp_per_backend.resize(g.backend + 1, 0);
      tcp_per_backend[g.backend] += g.count;
    }
  }
  long busiest = udp;
  for (long n : tcp_per_backend) busiest = std::max(busiest, n);
  const int addresses = static_cast<int>(CeilDiv(busiest, kClientsPerSourceAddress));
  if (addresses <= 1) return 0;

  // A running index per port space: UDP of this family, TCP per backend.
  long udp_seen = 0;
  std::vector<long> tcp_seen(tcp_per_backend.size(), 0);
  std::vector<SocketGroup> out;
  for (const SocketGroup& g : np->groups) {
    if (g.family != family) {
      out.push_back(g);
      continue;
    }
    const bool is_udp = g.proto == Proto::kUdp;
    long& seen = is_udp ? udp_seen : tcp_seen[g.backend];
    const long per_address = CeilDiv(is_udp ? udp : tcp_per_backend[g.backend], addresses);
    for (long left = g.count; left > 0;) {
      SocketGroup piece = g;
      piece.source = static_cast<int>(seen / per_address);
      piece.count = std::min(left, (piece.source + 1) * per_address - seen);
      out.push_back(piece);
      seen += piece.count;
      left -= piece.count;
    }
  }
  np->groups = std::move(out);
  return addresses;
}

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

absl::StatusOr<FleetPlan> FleetPlan::Make(const ScenarioSpec& s, const FleetLimits& limits) {
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
      // The dying backend's unconnected senders, over the UDP families as
      // the mix weighs them (evenly when the mix has no UDP).
      std::vector<double> udp = {mix[kUdpIpv4], mix[kUdpIpv6]};
      if (udp[0] + udp[1] <= 0) udp = {1, 1};
      std::vector<long> u = Apportion(s.unconnected_per_netns, udp);
      for (int c : {kUdpIpv4, kUdpIpv6}) {
        add(c, 0, u[c - kUdpIpv4], false);
        if (u[c - kUdpIpv4] > 0) np.groups.back().unconnected = true;
      }
    }
    std::vector<long> o = Apportion(others[ns], mix);
    for (int c = 0; c < kCombos; ++c) {
      // Non-targets go round-robin to the backends that stay alive (1..B-1).
      std::vector<long> per_backend =
          Apportion(o[c], std::vector<double>(std::max(1, s.backends - 1), 1.0));
      for (int b = 1; b < s.backends; ++b) add(c, b, per_backend[b - 1], false);
    }
    for (const auto& [proto, family, backend] : servers)
      np.servers.push_back({static_cast<Proto>(proto), static_cast<Family>(family), backend});
    np.fds += np.clients + static_cast<long>(np.servers.size());
    plan.socket_fds += np.fds;
    for (Family f : {Family::kIpv4, Family::kIpv6})
      plan.client_source_addresses =
          std::max(plan.client_source_addresses, SpreadOverSourceAddresses(&np, f));
  }
  if (plan.client_source_addresses > kMaxClientSourceAddresses)
    return absl::InvalidArgumentError(absl::StrFormat(
        "scenario %s: a namespace needs %d client source addresses (%d clients each) but "
        "sockbench has %d; use more namespaces or backends",
        s.Label(), plan.client_source_addresses, kClientsPerSourceAddress,
        kMaxClientSourceAddresses));

  absl::Status st = AssignWorkers(&plan, limits.worker_fds);
  if (!st.ok())
    return absl::Status(st.code(), absl::StrFormat("scenario %s: %s", s.Label(), st.message()));
  st = FleetFits(plan, limits);
  if (!st.ok())
    return absl::Status(st.code(), absl::StrFormat("scenario %s: %s", s.Label(), st.message()));
  return plan;
}

NetnsOptions FleetPlan::netns_options() const {
  NetnsOptions o;
  o.ipv6_addresses = ipv6_addresses();
  o.client_ipv6_addresses = client_source_addresses;
  return o;
}

}  // namespace sockbench
