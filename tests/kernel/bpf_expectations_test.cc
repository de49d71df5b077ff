// The verifier's verdicts declared next to the test programs
// (tests/bpf/bpf_expect.h: __success, __failure, __msg), checked the way the
// kernel's selftests' test_loader does: each program of the object is
// loaded alone, and the verdict and log must be the declared ones.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/strip.h"
#include "harness/bpf_skeleton.h"
#include "sock_destroy_contexts.skel.h"

namespace sockbench {
namespace {

struct Expectation {
  bool declared = false;
  bool failure = false;
  std::vector<std::string> msgs;
};

// The declaration tags on `prog`'s function in the object's BTF.
Expectation ExpectationOf(const btf* b, const char* prog) {
  constexpr absl::string_view kPrefix = "comment:test_expect_";
  Expectation e;
  int func = btf__find_by_name_kind(b, prog, BTF_KIND_FUNC);
  if (func < 0) return e;
  for (unsigned id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!btf_is_decl_tag(t) || t->type != static_cast<unsigned>(func) ||
        btf_decl_tag(t)->component_idx != -1)
      continue;
    absl::string_view tag = btf__name_by_offset(b, t->name_off);
    if (!absl::ConsumePrefix(&tag, kPrefix)) continue;
    e.declared = true;
    if (tag == "failure") e.failure = true;
    if (absl::ConsumePrefix(&tag, "msg=")) e.msgs.emplace_back(tag);
  }
  return e;
}

// Loads every declared program of skeleton T alone and checks its verdict.
// A program the kernel refuses before verifying it (EPERM, empty log: some
// hosts do not allow the program type) is reported, not judged.
template <typename T>
void CheckDeclaredVerdicts() {
  auto names = BpfSkeleton<T>::Open();
  ASSERT_TRUE(names.ok()) << names.status();
  std::vector<std::string> progs;
  bpf_program* p;
  bpf_object__for_each_program(p, (*names)->obj) progs.push_back(bpf_program__name(p));
  int checked = 0;
  for (const std::string& name : progs) {
    SCOPED_TRACE(name);
    auto skel = BpfSkeleton<T>::Open();
    ASSERT_TRUE(skel.ok()) << skel.status();
    Expectation want = ExpectationOf(bpf_object__btf((*skel)->obj), name.c_str());
    if (!want.declared) continue;
    static char log[1 << 16];
    log[0] = '\0';
    bpf_program* mine = nullptr;
    bpf_object__for_each_program(p, (*skel)->obj) {
      bool it = name == bpf_program__name(p);
      bpf_program__set_autoload(p, it);
      if (it) mine = p;
    }
    bpf_program__set_log_buf(mine, log, sizeof(log));
    bpf_program__set_log_level(mine, 1);
    int err = T::load(skel->get());
    if (err == -EPERM && log[0] == '\0') {
      std::printf("%s: the kernel refused the program before verifying it; not judged\n", name.c_str());
      continue;
    }
    ++checked;
    if (!want.failure) {
      EXPECT_EQ(err, 0) << "declared __success, refused: " << log;
      continue;
    }
    EXPECT_NE(err, 0) << "declared __failure, accepted";
    for (const std::string& msg : want.msgs) EXPECT_NE(std::strstr(log, msg.c_str()), nullptr)
        << "verifier log lacks \"" << msg << "\":\n" << log;
  }
  EXPECT_GT(checked, 0) << "no declared program was judged";
}

TEST(BpfExpectations, SockDestroyOnlyFromSocketIterators) {
  CheckDeclaredVerdicts<sock_destroy_contexts_bpf>();
}

}  // namespace
}  // namespace sockbench
