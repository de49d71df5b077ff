// The probe answers by trying. Each proposed approach must be supported
// exactly when the running kernel has the feature it needs, which this test
// finds out on its own, by asking the kernel (its BTF, a map it creates),
// never from a version number or from how the test was started: on a kernel
// without sockbench's patches the approach comes back unsupported with the
// kernel's own reason, on the patched kernel supported. The stock
// approaches are supported everywhere.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/sockhash_bucket.h"
#include "harness/registry.h"

namespace sockbench {
namespace {

// Does the running kernel's BTF have every one of these functions (an
// iterator target's bpf_iter_* stub, a kfunc)?
bool KernelHasFuncs(const std::vector<const char*>& names, std::string* missing) {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    *missing = "no kernel BTF";
    return false;
  }
  bool all = true;
  for (const char* n : names) {
    if (btf__find_by_name_kind(vmlinux, n, BTF_KIND_FUNC) < 0) {
      *missing += std::string(missing->empty() ? "" : ", ") + n;
      all = false;
    }
  }
  btf__free(vmlinux);
  return all;
}

// Does the kernel's BTF have `type` as a struct with a member `member`? The
// sk-storage series gives the bpf_sk_storage_map iterator's state a batch of
// pinned sockets and the cookies to resume from (its `resume` member).
bool KernelStructHasMember(const char* type, const char* member, std::string* why) {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    *why = "no kernel BTF";
    return false;
  }
  bool found = false;
  int id = btf__find_by_name_kind(vmlinux, type, BTF_KIND_STRUCT);
  if (id > 0) {
    const btf_type* t = btf__type_by_id(vmlinux, id);
    const btf_member* m = btf_members(t);
    for (int i = 0; i < btf_vlen(t) && !found; ++i, ++m)
      found = std::strcmp(btf__name_by_offset(vmlinux, m->name_off), member) == 0;
  }
  btf__free(vmlinux);
  if (!found) *why = std::string("struct ") + type + "." + member;
  return found;
}

// The sockmap series lets map_extra choose the bytes of a sockhash key that
// pick the bucket; a kernel without it refuses a non-zero map_extra on a
// sockhash with EINVAL (kernel/patches/sockmap, patch 0006).
bool KernelBucketsSockhashByPrefix(std::string* why) {
  LIBBPF_OPTS(bpf_map_create_opts, o);
  o.map_extra = SB_SOCKHASH_PREFIX_LEN;
  int fd = bpf_map_create(BPF_MAP_TYPE_SOCKHASH, "sb_probe_test", sizeof(sb_sockhash_key), sizeof(__u64), 16, &o);
  if (fd < 0) {
    *why = std::string("a sockhash with map_extra: ") + strerror(errno);
    return false;
  }
  close(fd);
  return true;
}

struct Feature {
  bool present = false;
  std::string what;  // what was asked of the kernel, and its answer if absent
};

// What each proposed approach needs from the kernel, asked directly.
Feature KernelFeatureFor(const std::string& approach) {
  Feature f;
  std::string why;
  if (approach == "iter_all_netns") {
    f.present = KernelHasFuncs({"bpf_iter_tcp_all_netns", "bpf_iter_udp_all_netns"}, &why);
    f.what = "the tcp_all_netns/udp_all_netns iterator targets in BTF";
  } else if (approach == "sockhash_bucket") {
    f.present = KernelBucketsSockhashByPrefix(&why);
    f.what = "a sockhash bucketed by key prefix (map_extra)";
  } else if (approach == "sleepable_kfunc" || approach == "sleepable_kfunc_rbtree") {
    f.present = KernelHasFuncs({"bpf_sk_lookup_connected", "bpf_sock_destroy_might_sleep"}, &why);
    f.what = "the kfuncs bpf_sk_lookup_connected, bpf_sock_destroy_might_sleep in BTF";
  } else if (approach == "sk_storage_iter") {
    f.present = KernelStructHasMember("bpf_iter_seq_sk_storage_map_info", "resume", &why);
    f.what = "the bpf_sk_storage_map iterator's batch of locked sockets (sk-storage series) in BTF";
  } else {
    f.what = "no feature known for this approach";
  }
  if (!f.present && !why.empty()) f.what += " (missing: " + why + ")";
  return f;
}

TEST(Probe, StockApproachesAreSupported) {
  for (const char* name : {"sock_diag", "iter_per_netns", "cilium_term", "cilium_term_fixed"}) {
    ProbeResult r = ProbeApproach(name);
    EXPECT_TRUE(r.supported) << name << ": " << r.reason;
    EXPECT_TRUE(r.reason.empty());
  }
}

TEST(Probe, ProposedApproachesAreSupportedExactlyWhenTheKernelHasTheirFeature) {
  ASSERT_EQ(geteuid(), 0u) << "the probes load BPF: run as root";
  // Without the feature, the reason must be the kernel's: the missing BTF
  // name, or the verifier's complaint about bpf_sock_destroy. Some kernels
  // refuse the sockhash and sk_storage iterators outright (EPERM before
  // verification, seen on a 6.18 host); the reason must then say so, not
  // quote an empty log.
  struct Want {
    const char* name;
    std::vector<const char*> reasons;
  };
  const char* kRefused = "refused the program before verifying it";
  int with_feature = 0;
  for (const Want& w :
       {Want{"iter_all_netns", {"tcp_all_netns"}},
        Want{"sockhash_bucket", {"R1 must be referenced or trusted", kRefused}},
        Want{"sk_storage_iter", {"R1 must be referenced or trusted", kRefused}},
        // The first kfunc of the sleepable series libbpf cannot resolve.
        Want{"sleepable_kfunc", {"bpf_sk_lookup_connected", "bpf_sock_destroy_might_sleep"}},
        Want{"sleepable_kfunc_rbtree", {"bpf_sk_lookup_connected", "bpf_sock_destroy_might_sleep"}}}) {
    const Feature f = KernelFeatureFor(w.name);
    SCOPED_TRACE(std::string(w.name) + ": kernel feature " + (f.present ? "present" : "absent") + ": " + f.what);
    ProbeResult r = ProbeApproach(w.name);
    if (f.present) {
      ++with_feature;
      EXPECT_TRUE(r.supported) << r.reason;
      EXPECT_TRUE(r.reason.empty()) << r.reason;
      continue;
    }
    EXPECT_FALSE(r.supported);
    bool found = false;
    for (const char* want : w.reasons) found |= r.reason.find(want) != std::string::npos;
    EXPECT_TRUE(found) << r.reason;
    EXPECT_EQ(r.reason.find("BEGIN PROG LOAD LOG"), std::string::npos) << r.reason;
  }
  std::printf("[ probe ] %d of 5 proposed approaches have their kernel feature here\n", with_feature);
}

TEST(Probe, EveryNameIsKnownAndUnknownNamesAreRejected) {
  EXPECT_EQ(ApproachNames().size(), 9u);
  auto all = ParseApproachList("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 9u);
  auto bad = ParseApproachList("sock_diag,iter_everything");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("iter_everything"), std::string::npos);
}

}  // namespace
}  // namespace sockbench
