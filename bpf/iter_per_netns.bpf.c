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
	return sb_visit_shown(ctx->sk_common);
}

SEC("iter/udp")
int destroy_udp(struct bpf_iter__udp *ctx)
{
	return sb_visit_shown((struct sock_common *)ctx->udp_sk);
}
