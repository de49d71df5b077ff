/* SPDX-License-Identifier: GPL-2.0 */
/* What the verifier must say of a test program, declared next to it as the
 * kernel's BPF selftests do (tools/testing/selftests/bpf/progs/bpf_misc.h):
 * BTF declaration tags on the program, read back by
 * tests/kernel/bpf_expectations_test.cc, which loads each program alone.
 *
 *   SEC("cgroup/connect4") __failure __msg("is not allowed")
 *   int prog(struct bpf_sock_addr *ctx) { ... }
 */
#ifndef SOCKBENCH_BPF_EXPECT_H
#define SOCKBENCH_BPF_EXPECT_H

#define __success __attribute__((btf_decl_tag("comment:test_expect_success")))
#define __failure __attribute__((btf_decl_tag("comment:test_expect_failure")))
/* A line the verifier log must contain (several __msg: each of them). */
#define __msg(msg) __attribute__((btf_decl_tag("comment:test_expect_msg=" msg)))

#endif
