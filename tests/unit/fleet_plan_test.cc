#include "harness/fleet_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

namespace sockbench {
namespace {

Scenario Make(int ns, long socks, int per, int tns, int backends = 4) {
  Scenario s;
  s.namespaces = ns;
  s.sockets = socks;
  s.targets_per_netns = per;
  s.target_namespaces = tns;
  s.backends = backends;
  return s;
}

TEST(Apportion, SumsExactlyAndFollowsWeights) {
  auto v = Apportion(10, {1, 1, 1});
  EXPECT_EQ(std::accumulate(v.begin(), v.end(), 0L), 10);
  EXPECT_EQ(v, (std::vector<long>{4, 3, 3}));
  EXPECT_EQ(Apportion(5, {0, 1, 0, 1}), (std::vector<long>{0, 3, 0, 2}));
  EXPECT_EQ(Apportion(0, {1, 2}), (std::vector<long>{0, 0}));
}

TEST(FleetPlan, CountsTargetsAndSocketsExactly) {
  auto p = FleetPlan::Make(Make(16, 1000, 3, 5), 19000);
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

TEST(FleetPlan, EveryNamespaceBelongsToOneWorkerWithinTheLimit) {
  // 60k UDP+TCP sockets over 64 namespaces with a small per-worker limit.
  Scenario s = Make(64, 60000, 1, 64);
  auto p = FleetPlan::Make(s, 5000);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_GE(p->workers(), 2);
  std::vector<int> seen(64, 0);
  for (int w = 0; w < p->workers(); ++w) {
    long fds = 0;
    for (int ns : p->worker_netns[w]) {
      seen[ns]++;
      EXPECT_EQ(p->netns[ns].worker, w);
      fds += p->netns[ns].fds;
    }
    EXPECT_LE(fds, 5000);
  }
  for (int c : seen) EXPECT_EQ(c, 1);
}

TEST(FleetPlan, ANamespaceTooBigForOneWorkerIsRejectedUpFront) {
  auto p = FleetPlan::Make(Make(1, 30000, 1, 1), 19000);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), ::testing::HasSubstr("namespace 0 needs"));
}

TEST(FleetPlan, TcpSocketsCountTheirAcceptedPeer) {
  Scenario s = Make(1, 100, 1, 1);
  s.mix = {1, 0, 0, 0};  // tcp_ipv4 only
  auto p = FleetPlan::Make(s, 19000);
  ASSERT_TRUE(p.ok());
  // 100 clients + 100 peers + listeners of backends 0..3
  EXPECT_EQ(p->netns[0].fds, 100 + 100 + 4);
}

}  // namespace
}  // namespace sockbench
