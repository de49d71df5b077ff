// The probe answers by trying. On a kernel without sockbench's patches the
// four proposed approaches must come back unsupported, each with the
// kernel's own reason; the two stock ones supported.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

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
  // Each reason must be the kernel's: the missing BTF name, or the
  // verifier's complaint about bpf_sock_destroy. Some kernels refuse the
  // sockhash and sk_storage iterators outright (EPERM before verification,
  // seen on a 6.18 host); the reason must then say so, not quote an empty
  // log.
  struct Want {
    const char* name;
    std::vector<const char*> reasons;
  };
  const char* kRefused = "refused the program before verifying it";
  for (const Want& w :
       {Want{"iter_all_netns", {"tcp_all_netns"}},
        Want{"sockhash_bucket", {"R1 must be referenced or trusted", kRefused}},
        Want{"sk_storage_iter", {"R1 must be referenced or trusted", kRefused}},
        // The first kfunc of the sleepable series libbpf cannot resolve.
        Want{"sleepable_kfunc", {"bpf_sk_lookup_connected", "bpf_sock_destroy_might_sleep"}},
        Want{"sleepable_kfunc_rbtree", {"bpf_sk_lookup_connected", "bpf_sock_destroy_might_sleep"}}}) {
    ProbeResult r = ProbeApproach(w.name);
    EXPECT_FALSE(r.supported) << w.name;
    bool found = false;
    for (const char* want : w.reasons) found |= r.reason.find(want) != std::string::npos;
    EXPECT_TRUE(found) << w.name << ": " << r.reason;
    EXPECT_EQ(r.reason.find("BEGIN PROG LOAD LOG"), std::string::npos) << r.reason;
  }
}

TEST(Probe, EveryNameIsKnownAndUnknownNamesAreRejected) {
  EXPECT_EQ(ApproachNames().size(), 7u);
  auto all = ParseApproachList("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 7u);
  auto bad = ParseApproachList("sock_diag,iter_everything");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("iter_everything"), std::string::npos);
}

}  // namespace
}  // namespace sockbench
