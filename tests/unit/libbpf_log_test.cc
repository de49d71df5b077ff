// VerifierReason() picks the line of a load log that says what was refused:
// what `sockbench probe` prints after "unsupported:".
#include <gtest/gtest.h>

#include "harness/libbpf_log.h"

namespace sockbench {
namespace {

// The shape of a 7.3 verifier log (excerpt of a real one): the complaint,
// then a "Verification failed" block ending in a wrapped suggestion.
constexpr char k73Log[] = R"(; err = bpf_sock_destroy(skc); @ sb_match.bpf.h:54
101: (bf) r1 = r6                     ; R1=ptr_sock(id=1) R6=ptr_sock(id=1)
102: (85) call bpf_sock_destroy#40813
R1 must be referenced or trusted

Verification failed: Call Type Safety: Invalid call argument

Reason:
  The first argument (R1) to bpf_sock_destroy does not satisfy the verifier contract
Suggestion:
  Pass a pointer acquired from a verifier-tracked source, or call this kfunc only inside the
  required protection if it accepts RCU pointers.

processed 202 insns (limit 1000000) max_states_per_insn 2 total_states 12 peak_states 12 mark_read 0
)";

TEST(VerifierReason, PicksTheComplaintOfA73LogNotTheSuggestionsTail) {
  EXPECT_EQ(VerifierReason(k73Log), "R1 must be referenced or trusted (Call Type Safety: Invalid call argument)");
}

TEST(VerifierReason, OlderLogsGiveTheLineBeforeProcessed) {
  EXPECT_EQ(VerifierReason("0: (b7) r0 = 0\nR1 type=scalar expected=fp\nprocessed 3 insns (limit 1000000)\n"),
            "R1 type=scalar expected=fp");
}

TEST(VerifierReason, NothingVerifiedMeansRefusedUpFront) {
  EXPECT_NE(VerifierReason("processed 0 insns (limit 1000000)\n").find("before verifying it"), std::string::npos);
}

TEST(VerifierReason, LibbpfComplaintsWithoutAVerifierLog) {
  EXPECT_EQ(VerifierReason("libbpf: extern (func ksym) 'x': not found in kernel or module BTFs\n"),
            "extern (func ksym) 'x': not found in kernel or module BTFs");
}

}  // namespace
}  // namespace sockbench
