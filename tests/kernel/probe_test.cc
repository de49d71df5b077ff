// The probe answers by trying. On a kernel without sockbench's patches the
// four proposed approaches must come back unsupported, each with the
// kernel's own reason; the two stock ones supported.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "harness/registry.h"

namespace sockbench {
namespace {

bool StockKernel() {
  const char* p = getenv("SOCKBENCH_PATCHSET");
  return !p || std::string(p) == "none";
}

TEST(Probe, StockApproachesAreSupported) {
  for (const char* name : {"sock_diag", "iter_per_netns"}) {
    ProbeResult r = ProbeApproach(name);
    EXPECT_TRUE(r.supported) << name << ": " << r.reason;
    EXPECT_TRUE(r.reason.empty());
  }
}

TEST(Probe, ProposedApproachesAreUnsupportedOnAStockKernelWithTheKernelsReason) {
  if (!StockKernel()) GTEST_SKIP() << "running on a patched kernel";
  struct Want {
    const char* name;
    const char* reason;
  };
  for (Want w : {Want{"iter_all_netns", "tcp_all_netns"},
                 Want{"sockhash_bucket", "R1 must be referenced or trusted"},
                 Want{"sk_storage_iter", "R1 must be referenced or trusted"},
                 Want{"sleepable_kfunc", "bpf_sock_destroy_might_sleep"}}) {
    ProbeResult r = ProbeApproach(w.name);
    EXPECT_FALSE(r.supported) << w.name;
    EXPECT_NE(r.reason.find(w.reason), std::string::npos) << w.name << ": " << r.reason;
  }
}

TEST(Probe, EveryNameIsKnownAndUnknownNamesAreRejected) {
  EXPECT_EQ(ApproachNames().size(), 6u);
  auto all = ParseApproachList("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 6u);
  auto bad = ParseApproachList("sock_diag,iter_everything");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("iter_everything"), std::string::npos);
}

}  // namespace
}  // namespace sockbench
