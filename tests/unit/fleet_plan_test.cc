#include "harness/fleet_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <numeric>
#include <tuple>

#include "absl/strings/str_format.h"
#include "harness/fleet_fit.h"

namespace sockbench {
namespace {

ScenarioSpec Make(int ns, long socks, int per, int tns, int backends = 4) {
  ScenarioSpec s;
  s.namespaces = ns;
  s.sockets = socks;
  s.targets_per_netns = per;
  s.target_namespaces = tns;
  s.backends = backends;
  return s;
}

FleetLimits Fds(long fds) { return FleetLimits::PerProcessFds(fds); }

// (netns, proto, family, backend, target, source, unconnected) -> clients
using GroupKey = std::tuple<int, int, int, int, bool, int, bool>;
GroupKey KeyOf(const SocketGroup& g) {
  return {g.netns, static_cast<int>(g.proto), static_cast<int>(g.family), g.backend, g.target,
          g.source, g.unconnected};
}

// Every client of the plan is built by exactly one worker, and no worker
// holds more descriptors than `limit`.
void ExpectWorkersHoldEverythingOnceWithin(const FleetPlan& p, long limit) {
  std::map<GroupKey, long> planned, built;
  for (const auto& np : p.netns)
    for (const auto& g : np.groups) planned[KeyOf(g)] += g.count;
  for (int w = 0; w < p.worker_count(); ++w) {
    const WorkerPlan& wp = p.workers[w];
    EXPECT_LE(wp.fds, limit) << "worker " << w;
    long clients = 0;
    for (const auto& g : wp.groups) {
      built[KeyOf(g)] += g.count;
      clients += g.count;
      EXPECT_THAT(p.netns[g.netns].workers, ::testing::Contains(w));
    }
    EXPECT_EQ(clients, wp.clients);
  }
  EXPECT_EQ(built, planned);
}

TEST(Apportion, SumsExactlyAndFollowsWeights) {
  auto v = Apportion(10, {1, 1, 1});
  EXPECT_EQ(std::accumulate(v.begin(), v.end(), 0L), 10);
  EXPECT_EQ(v, (std::vector<long>{4, 3, 3}));
  EXPECT_EQ(Apportion(5, {0, 1, 0, 1}), (std::vector<long>{0, 3, 0, 2}));
  EXPECT_EQ(Apportion(0, {1, 2}), (std::vector<long>{0, 0}));
}

TEST(FleetPlan, CountsTargetsAndSocketsExactly) {
  auto p = FleetPlan::Make(Make(16, 1000, 3, 5), Fds(19000));
  ASSERT_TRUE(p.ok()) << p.status();
  long clients = 0, targets = 0, target_ns = 0;
  for (const auto& np : p->netns) {
    clients += np.clients;
    long t = 0;
    for (const auto& g : np.groups) {
      if (g.target) {
        t += g.count;
        EXPECT_EQ(g.backend, 0);  // only the dying backend's sockets are targets
      } else {
        EXPECT_NE(g.backend, 0);
      }
    }
    targets += t;
    if (t) {
      target_ns++;
      EXPECT_EQ(t, 3);
    }
  }
  EXPECT_EQ(clients, 1000);
  EXPECT_EQ(targets, 15);
  EXPECT_EQ(target_ns, 5);
}

// Unconnected senders: in each target namespace, UDP only, to the dying
// backend, never targets, over the UDP families as the mix weighs them;
// each holds a descriptor, and the backend's UDP server is there to
// receive what they send.
TEST(FleetPlan, UnconnectedSendersOfTheDyingBackendInEachTargetNamespace) {
  ScenarioSpec s = Make(8, 400, 2, 4);
  s.unconnected_per_netns = 3;
  s.mix = {1, 1, 3, 1};
  auto p = FleetPlan::Make(s, Fds(19000));
  ASSERT_TRUE(p.ok()) << p.status();
  ScenarioSpec none = s;
  none.unconnected_per_netns = 0;
  auto without = FleetPlan::Make(none, Fds(19000));
  ASSERT_TRUE(without.ok());
  long senders = 0;
  for (size_t ns = 0; ns < p->netns.size(); ++ns) {
    const NetnsPlan& np = p->netns[ns];
    long here = 0, v4 = 0;
    bool target_ns = false;
    for (const SocketGroup& g : np.groups) {
      target_ns |= g.target;
      if (!g.unconnected) continue;
      EXPECT_EQ(g.proto, Proto::kUdp);
      EXPECT_EQ(g.backend, 0);
      EXPECT_FALSE(g.target);
      here += g.count;
      if (g.family == Family::kIpv4) v4 += g.count;
      bool served = false;
      for (const BackendServer& b : np.servers)
        served |= b.proto == Proto::kUdp && b.family == g.family && b.backend == 0;
      EXPECT_TRUE(served) << "netns " << ns << ": nobody receives what the senders send";
    }
    EXPECT_EQ(here, target_ns ? 3 : 0) << "netns " << ns;
    if (target_ns) {
      EXPECT_EQ(v4, 2) << "udp_ipv4 weighs 3 of the 4 UDP weights";
    }
    EXPECT_EQ(np.clients, without->netns[ns].clients + here);
    // One descriptor each (plus the UDP server of backend 0 in a family
    // that had no target to it).
    EXPECT_EQ(np.fds - static_cast<long>(np.servers.size()),
              without->netns[ns].fds - static_cast<long>(without->netns[ns].servers.size()) + here);
    senders += here;
  }
  EXPECT_EQ(senders, s.unconnected());
  EXPECT_EQ(senders, 12);
  ExpectWorkersHoldEverythingOnceWithin(*p, 19000);

  // A mix without UDP still has them, one family each.
  s.mix = {1, 1, 0, 0};
  s.unconnected_per_netns = 2;
  p = FleetPlan::Make(s, Fds(19000));
  ASSERT_TRUE(p.ok()) << p.status();
  std::map<Family, long> by_family;
  for (const NetnsPlan& np : p->netns)
    for (const SocketGroup& g : np.groups)
      if (g.unconnected) by_family[g.family] += g.count;
  EXPECT_EQ(by_family[Family::kIpv4], 4);
  EXPECT_EQ(by_family[Family::kIpv6], 4);
}

TEST(FleetPlan, SmallNamespacesEachBelongToOneWorkerWithinTheLimit) {
  // 60k UDP+TCP sockets over 64 namespaces with a small per-worker limit.
  auto p = FleetPlan::Make(Make(64, 60000, 1, 64), Fds(5000));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_GE(p->worker_count(), 2);
  ExpectWorkersHoldEverythingOnceWithin(*p, 5000);
  std::vector<int> seen(64, 0);
  for (int w = 0; w < p->worker_count(); ++w)
    for (int ns : p->workers[w].netns) seen[ns]++;
  for (int ns = 0; ns < 64; ++ns) {
    EXPECT_EQ(seen[ns], 1);
    EXPECT_EQ(p->netns[ns].workers.size(), 1u);
    EXPECT_FALSE(p->netns[ns].shared());
  }
}

TEST(FleetPlan, ASmallNamespaceGetsOneWorker) {
  auto p = FleetPlan::Make(Make(1, 16384, 4, 1), Fds(40000));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->worker_count(), 1);
  EXPECT_FALSE(p->netns[0].shared());
}

TEST(FleetPlan, ANamespaceTooBigForOneWorkerIsSharedByWorkersEachWithinTheLimit) {
  // 50k sockets, half TCP: ~75k descriptors, more than three workers' worth.
  auto p = FleetPlan::Make(Make(1, 50000, 40, 1), Fds(20000));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_GE(p->worker_count(), 4);
  EXPECT_EQ(p->netns[0].workers.size(), static_cast<size_t>(p->worker_count()));
  EXPECT_TRUE(p->netns[0].shared());
  ExpectWorkersHoldEverythingOnceWithin(*p, 20000);
  for (const WorkerPlan& wp : p->workers) {
    EXPECT_EQ(wp.netns, std::vector<int>{0});
    // Each worker holds its share of the targets and of every kind.
    long targets = 0, tcp = 0;
    for (const auto& g : wp.groups) {
      if (g.target) targets += g.count;
      if (g.proto == Proto::kTcp) tcp += g.count;
    }
    EXPECT_GT(targets, 0);
    EXPECT_NEAR(tcp, wp.clients / 2.0, 8);
  }
}

TEST(FleetPlan, TheNetnsSweepsSingleNamespaceIsSplitUnderThisMachinesLimit) {
  // workloads/netns-sweep.json at 1 namespace: 24,592 descriptors.
  auto p = FleetPlan::Make(Make(1, 16384, 4, 1), Fds(20000));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->netns[0].fds, 24592);
  EXPECT_EQ(p->worker_count(), 2);
  ExpectWorkersHoldEverythingOnceWithin(*p, 20000);
}

TEST(FleetPlan, SharedAndWholeNamespacesMix) {
  // One big namespace between small ones: they keep whole workers.
  ScenarioSpec s = Make(5, 5 * 12000, 2, 5);
  auto p = FleetPlan::Make(s, Fds(10000));
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectWorkersHoldEverythingOnceWithin(*p, 10000);
  for (const auto& np : p->netns) EXPECT_TRUE(np.shared());  // 18k fds each
  auto q = FleetPlan::Make(Make(40, 40 * 1000, 2, 40), Fds(10000));
  ASSERT_TRUE(q.ok());
  for (const auto& np : q->netns) EXPECT_FALSE(np.shared());
}

TEST(FleetPlan, AMillionSocketsInOneNamespaceSpreadOverSourceAddresses) {
  auto p = FleetPlan::Make(Make(1, 1000000, 4, 1), Fds(20000));
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectWorkersHoldEverythingOnceWithin(*p, 20000);
  EXPECT_GE(p->worker_count(), 75);  // 1.5M descriptors
  // 250k UDP clients per family: 5 addresses of 50k ports each.
  EXPECT_EQ(p->client_source_addresses, 5);
  EXPECT_EQ(p->netns_options().client_ipv6_addresses, 5);
  // No port space (UDP per family and address, TCP per family, address and
  // backend) holds more clients than an address has ports.
  std::map<std::tuple<int, int, int, int>, long> per_port_space;
  for (const auto& g : p->netns[0].groups) {
    EXPECT_GE(g.source, 0);
    int backend = g.proto == Proto::kUdp ? -1 : g.backend;
    per_port_space[{static_cast<int>(g.proto), static_cast<int>(g.family), g.source, backend}] +=
        g.count;
  }
  for (const auto& [space, n] : per_port_space) EXPECT_LE(n, kClientsPerSourceAddress);
}

TEST(FleetPlan, ClientsOfOrdinaryNamespacesKeepTheKernelsSourceAddress) {
  auto p = FleetPlan::Make(Make(16, 65536, 4, 4), Fds(20000));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->client_source_addresses, 0);
  for (const auto& np : p->netns)
    for (const auto& g : np.groups) EXPECT_EQ(g.source, -1);
}

TEST(FleetPlan, TcpSocketsCountTheirAcceptedPeer) {
  ScenarioSpec s = Make(1, 100, 1, 1);
  s.mix = {1, 0, 0, 0};  // tcp_ipv4 only
  auto p = FleetPlan::Make(s, Fds(19000));
  ASSERT_TRUE(p.ok());
  // 100 clients + 100 peers + listeners of backends 0..3
  EXPECT_EQ(p->netns[0].fds, 100 + 100 + 4);
  EXPECT_EQ(p->netns[0].servers.size(), 4u);
}

TEST(FleetPlan, AFleetLargerThanMemoryIsRefusedWithEstimateAndLimit) {
  // The workload maximum, 8192 namespaces x 4M sockets, on a 24 GiB machine.
  FleetLimits l = Fds(20000);
  l.memory_bytes = 22L << 30;
  auto p = FleetPlan::Make(Make(8192, 4000000, 4, 1), l);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted);
  // The estimate, as the same plan without a memory limit costs it.
  FleetLimits unlimited = Fds(20000);
  auto q = FleetPlan::Make(Make(8192, 4000000, 4, 1), unlimited);
  ASSERT_TRUE(q.ok()) << q.status();
  const FleetCost c = EstimateCost(*q);
  EXPECT_GT(c.memory_bytes, l.memory_bytes);
  EXPECT_THAT(std::string(p.status().message()),
              ::testing::AllOf(::testing::HasSubstr("netns:8192/sockets:4000000"),
                               ::testing::HasSubstr(absl::StrFormat(
                                   "needs an estimated %.1f GiB of memory", c.memory_bytes / double(1L << 30))),
                               ::testing::HasSubstr(absl::StrFormat("%d TCP sockets", c.tcp_sockets)),
                               ::testing::HasSubstr(absl::StrFormat("%d UDP sockets", c.udp_sockets)),
                               ::testing::HasSubstr("8192 namespaces"),
                               ::testing::HasSubstr("MemAvailable is 22.0 GiB")));
}

// Each limit is held against the plan's own estimate (EstimateCost): at
// the estimate the fleet is planned, one below it is refused, and the
// message carries both numbers. Plans are pure computation, so a refused
// fleet has created nothing.
TEST(FleetPlan, EachRefusalNamesTheEstimateAndTheLimit) {
  const ScenarioSpec s = Make(64, 200000, 4, 8);
  auto free_plan = FleetPlan::Make(s, Fds(20000));
  ASSERT_TRUE(free_plan.ok()) << free_plan.status();
  const FleetCost c = EstimateCost(*free_plan);
  ASSERT_GT(c.memory_bytes, 0);
  auto gib = [](long b) { return absl::StrFormat("%.1f GiB", b / double(1L << 30)); };
  struct Limit {
    const char* name;
    long estimate;
    std::function<void(FleetLimits*, long)> set;
    std::function<std::vector<std::string>(long estimate, long limit)> says;
  };
  const std::vector<Limit> limits = {
      {"memory", c.memory_bytes, [](FleetLimits* l, long v) { l->memory_bytes = v; },
       [&](long e, long l) {
         return std::vector<std::string>{"needs an estimated " + gib(e) + " of memory",
                                         "MemAvailable is " + gib(l)};
       }},
      {"open files", c.system_files, [](FleetLimits* l, long v) { l->system_files = v; },
       [](long e, long l) {
         return std::vector<std::string>{absl::StrFormat("needs %d open files", e),
                                         absl::StrFormat("can open %d more", l)};
       }},
      {"sockbench's descriptors", c.sockbench_fds, [](FleetLimits* l, long v) { l->sockbench_fds = v; },
       [](long e, long l) {
         return std::vector<std::string>{absl::StrFormat("would hold %d descriptors", e),
                                         absl::StrFormat("RLIMIT_NOFILE is %d", l)};
       }},
  };
  for (const Limit& lim : limits) {
    SCOPED_TRACE(lim.name);
    FleetLimits at = Fds(20000), below = Fds(20000);
    lim.set(&at, lim.estimate);
    lim.set(&below, lim.estimate - 1);
    EXPECT_TRUE(FleetPlan::Make(s, at).ok()) << "exactly the estimate fits";
    auto refused = FleetPlan::Make(s, below);
    if (refused.ok()) {
      ADD_FAILURE() << "one below the estimate is planned";
      continue;
    }
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("scenario " + s.Label() + ": "));
    for (const std::string& want : lim.says(lim.estimate, lim.estimate - 1))
      EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr(want));
  }
}

TEST(FleetPlan, AFleetWithMoreFilesThanTheSystemAllowsIsRefused) {
  FleetLimits l = Fds(20000);
  l.system_files = 100000;
  auto p = FleetPlan::Make(Make(10, 100000, 4, 1), l);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()),
              ::testing::AllOf(::testing::HasSubstr("open files"), ::testing::HasSubstr("100000"),
                               ::testing::HasSubstr("fs.file-max")));
  l.system_files = 200000;
  EXPECT_TRUE(FleetPlan::Make(Make(10, 100000, 4, 1), l).ok());
}

TEST(FleetPlan, MoreNamespacesThanSockbenchCanHoldAreRefused) {
  auto p = FleetPlan::Make(Make(8192, 8192, 1, 1), Fds(4096));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()),
              ::testing::HasSubstr("RLIMIT_NOFILE is 4096"));
}

TEST(FleetPlan, MoreWorkersThanSockbenchCanTrackAreRefused) {
  auto p = FleetPlan::Make(Make(1, 4000000, 4, 1), Fds(1024));  // ~7,800 workers
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), ::testing::HasSubstr("tracks at most 4096"));
}

TEST(FleetPlan, AWorkerLimitTooSmallForItsOwnDescriptorsIsRefused) {
  auto p = FleetPlan::Make(Make(1, 10, 1, 1), Fds(200));
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), ::testing::HasSubstr("RLIMIT_NOFILE is 200"));
}

}  // namespace
}  // namespace sockbench
