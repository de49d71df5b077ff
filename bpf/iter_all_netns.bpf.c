// SPDX-License-Identifier: GPL-2.0
/* iter_all_netns: one pass over the sockets of every network namespace.
 * Needs sockbench's kernel patch that adds the "tcp_all_netns" and
 * "udp_all_netns" iterator targets; on other kernels libbpf finds no
 * bpf_iter_tcp_all_netns in the kernel BTF and the load fails, which is the
 * probe's answer. The program filters by network namespace itself (netns
 * cookie), as an agent filtering per pod would.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sb_match.bpf.h"
#include "sb_netns_filter.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Context layouts of the new targets: the same as iter/tcp and iter/udp. */
struct sb_iter_tcp_all_netns {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	uid_t uid;
};

struct sb_iter_udp_all_netns {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
	uid_t uid;
	int bucket;
};

/* Every socket is counted as visited; only the agent's namespaces' are
 * matched and destroyed.
 */
static __always_inline int sb_visit_any_netns(struct sock_common *skc)
{
	if (!skc)
		return 0;
	if (!sb_netns_allowed(skc)) {
		sb_counters.visited++;
		return 0;
	}
	sb_visit(skc);
	return 0;
}

SEC("iter/tcp_all_netns")
int destroy_tcp_all(struct sb_iter_tcp_all_netns *ctx)
{
	return sb_visit_any_netns(ctx->sk_common);
}

SEC("iter/udp_all_netns")
int destroy_udp_all(struct sb_iter_udp_all_netns *ctx)
{
	return sb_visit_any_netns((struct sock_common *)ctx->udp_sk);
}
