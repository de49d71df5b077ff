// SPDX-License-Identifier: GPL-2.0
/* Test-only programs for the all-netns iterator targets: write one record
 * per socket shown (tests/kernel/iter_all_netns_churn_test.cc reads them
 * one per read(), so that every socket is a stop/start point of the pass).
 * The namespace's refcount is read while the program runs: a socket of a
 * namespace being dismantled shows 0 there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "all_netns_watch.h"

_Static_assert(sizeof(struct watch_record) == WATCH_RECORD_SIZE, "record layout");

static int watch(struct seq_file *seq, struct sock_common *skc)
{
	struct watch_record r = {};
	struct net *net;

	if (!skc)
		return 0;
	net = BPF_CORE_READ(skc, skc_net.net);
	r.cookie = bpf_get_socket_cookie(skc);
	r.netns = BPF_CORE_READ(net, net_cookie);
	r.netns_refs = BPF_CORE_READ(net, ns.__ns_ref.refs.counter);
	r.lport = BPF_CORE_READ(skc, skc_num);
	r.state = BPF_CORE_READ(skc, skc_state);
	r.family = BPF_CORE_READ(skc, skc_family);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

SEC("iter/tcp_all_netns")
int watch_tcp(struct bpf_iter__tcp *ctx)
{
	return watch(ctx->meta->seq, ctx->sk_common);
}

SEC("iter/udp_all_netns")
int watch_udp(struct bpf_iter__udp *ctx)
{
	return watch(ctx->meta->seq, (struct sock_common *)ctx->udp_sk);
}

char LICENSE[] SEC("license") = "GPL";
