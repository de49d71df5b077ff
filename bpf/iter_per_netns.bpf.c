// SPDX-License-Identifier: GPL-2.0
/* iter_per_netns: today's way (Cilium's bpf_sock_term.c). The stock tcp/udp
 * iterators only show sockets of the network namespace that was current when
 * the iterator fd was created, so userspace enters every namespace and runs
 * one pass there; each pass walks the whole socket hash.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sb_match.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/tcp")
int destroy_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (skc)
		sb_visit(skc);
	return 0;
}

SEC("iter/udp")
int destroy_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp_sk = ctx->udp_sk;

	if (udp_sk)
		sb_visit((struct sock_common *)udp_sk);
	return 0;
}
