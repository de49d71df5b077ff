// SPDX-License-Identifier: GPL-2.0
/* Test-only programs for the kernel side of iter_all_netns
 * (tests/kernel/iter_all_netns_test.cc), for the new tcp_all_netns /
 * udp_all_netns targets and, as the control, the stock tcp / udp ones:
 *   dump_*:    write a dump_record of every socket shown, the netns cookie
 *              read through sk->__sk_common.skc_net.net;
 *   destroy_*: bpf_sock_destroy() on the sockets whose cookie is in
 *              sb_cookies, writing {cookie, return value}.
 * The new targets' contexts have the stock targets' layout.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "all_netns_dump.h"

_Static_assert(sizeof(struct dump_record) == DUMP_RECORD_SIZE, "record layout");
_Static_assert(sizeof(struct destroy_record) == DESTROY_RECORD_SIZE, "record layout");

char LICENSE[] SEC("license") = "GPL";

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/* Cookies of the sockets destroy_* must destroy (filled by the test, or
 * replaced by its own map with bpf_map__reuse_fd()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} sb_cookies SEC(".maps");

static __always_inline int dump(struct seq_file *seq, struct sock_common *skc, int bucket)
{
	struct dump_record r = {};

	if (!skc)
		return 0;
	r.cookie = bpf_get_socket_cookie(skc);
	r.netns = skc->skc_net.net->net_cookie;
	r.family = skc->skc_family;
	r.state = skc->skc_state;
	r.bucket = bucket;
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

static __always_inline int destroy(struct seq_file *seq, struct sock_common *skc)
{
	struct destroy_record r = {};

	if (!skc)
		return 0;
	r.cookie = bpf_get_socket_cookie(skc);
	if (!bpf_map_lookup_elem(&sb_cookies, &r.cookie))
		return 0;
	/* The iterator holds the socket lock. */
	r.ret = bpf_sock_destroy(skc);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

SEC("iter/tcp_all_netns")
int dump_tcp_all(struct bpf_iter__tcp *ctx)
{
	return dump(ctx->meta->seq, ctx->sk_common, -1);
}

SEC("iter/udp_all_netns")
int dump_udp_all(struct bpf_iter__udp *ctx)
{
	return dump(ctx->meta->seq, (struct sock_common *)ctx->udp_sk, ctx->bucket);
}

SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	return dump(ctx->meta->seq, ctx->sk_common, -1);
}

SEC("iter/udp")
int dump_udp(struct bpf_iter__udp *ctx)
{
	return dump(ctx->meta->seq, (struct sock_common *)ctx->udp_sk, ctx->bucket);
}

SEC("iter/tcp_all_netns")
int destroy_tcp_all(struct bpf_iter__tcp *ctx)
{
	return destroy(ctx->meta->seq, ctx->sk_common);
}

SEC("iter/udp_all_netns")
int destroy_udp_all(struct bpf_iter__udp *ctx)
{
	return destroy(ctx->meta->seq, (struct sock_common *)ctx->udp_sk);
}
