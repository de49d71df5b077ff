// SPDX-License-Identifier: GPL-2.0
/* sockhash_bucket (RFC "bpf: Efficient socket destruction"): sockets enter a
 * SOCKHASH keyed {backend addr, backend port, family, cookie} when they
 * connect (TCP: sock_ops ACTIVE_ESTABLISHED; connected UDP: cgroup
 * connect4/connect6). The map hashes only the endpoint part of the key
 * (map_extra = SB_SOCKHASH_PREFIX_LEN, set by userspace), so one backend's
 * sockets share a bucket; a destruction pass is an iterator link restricted
 * to that prefix, which visits that bucket alone and destroys what it finds.
 *
 * Needs sockbench's sockmap series (kernel/patches/sockmap). A stock kernel runs the
 * sockmap iterator under RCU without the socket lock and does not mark
 * ctx->sk trusted, so the verifier rejects bpf_sock_destroy() in
 * destroy_bucket ("R1 must be referenced or trusted"), and refuses sockhash
 * updates from cgroup connect programs: that rejection is the probe's
 * answer. destroy_bucket comes first so that its verdict is the one
 * reported.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sb_match.bpf.h"
#include "sb_netns_filter.bpf.h"
#include "sockhash_bucket.h"

char LICENSE[] SEC("license") = "GPL";

/* map_extra and max_entries are set by userspace before load. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SB_SOCKHASH_MAX_ENTRIES);
	__type(key, struct sb_sockhash_key);
	__type(value, __u64);
} sb_sockhash SEC(".maps");

/* Protocols a pass destroys (a bucket holds TCP and UDP alike). */
__u32 sb_want_tcp;
__u32 sb_want_udp;

struct sb_index_counters sb_index;

static __always_inline void sb_visit_bucket(struct sock *sk)
{
	struct sock_common *skc = &sk->__sk_common;
	__u16 proto = sk->sk_protocol;

	sb_counters.visited++;
	if (proto == SB_IPPROTO_TCP) {
		if (!sb_want_tcp)
			return;
	} else if (proto == SB_IPPROTO_UDP) {
		if (!sb_want_udp)
			return;
	} else {
		return;
	}
	/* Aborted (or disconnected) sockets stay in the map until closed. */
	if (skc->skc_state == SB_TCP_CLOSE)
		return;
	if (!sb_netns_allowed(skc))
		return;
	/* The key says where the socket connected; check where it is
	 * connected now (a UDP socket may have connected elsewhere since).
	 */
	if (!sb_is_target(skc))
		return;
	sb_destroy(skc);
}

/* One destruction pass: userspace attaches it with the dead backend
 * endpoint as key prefix, so ctx->sk runs over that bucket only. The
 * socket is locked and trusted (sockmap series 0003, 0005).
 */
SEC("iter/sockmap")
int destroy_bucket(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;

	if (sk)
		sb_visit_bucket(sk);
	return 0;
}

/* Tests: write the cookie of every element shown (8 bytes each). */
SEC("iter/sockmap")
int dump_bucket(struct bpf_iter__sockmap *ctx)
{
	struct sb_sockhash_key *key = ctx->key;
	__u64 cookie;

	if (!key || !ctx->sk)
		return 0;
	sb_counters.visited++;
	cookie = key->cookie;
	bpf_seq_write(ctx->meta->seq, &cookie, sizeof(cookie));
	return 0;
}

static __always_inline void sb_count_index(long err)
{
	if (!err) {
		sb_index.inserted++;
	} else if (err != -SB_EEXIST) {
		sb_index.failed++;
		sb_index.last_error = err;
	}
}

/* TCP: once the active side is established. */
SEC("sockops")
int index_tcp(struct bpf_sock_ops *skops)
{
	struct sb_sockhash_key key = {};

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		return 1;
	key.family = skops->family;
	if (key.family == SB_AF_INET) {
		key.addr_be[0] = skops->remote_ip4;
	} else if (key.family == SB_AF_INET6) {
		key.addr_be[0] = skops->remote_ip6[0];
		key.addr_be[1] = skops->remote_ip6[1];
		key.addr_be[2] = skops->remote_ip6[2];
		key.addr_be[3] = skops->remote_ip6[3];
	} else {
		return 1;
	}
	/* remote_port: the network-order port in the upper 16 bits (LE) */
	key.port_be = (__u16)(skops->remote_port >> 16);
	key.cookie = bpf_get_socket_cookie(skops);
	sb_count_index(bpf_sock_hash_update(skops, &sb_sockhash, &key, SB_NOEXIST));
	return 1;
}

/* Connected UDP: from the connect hook, where a socket load balancer picks
 * the backend (sockmap series 0008). The key is the final destination.
 */
SEC("cgroup/connect4")
int index_udp4(struct bpf_sock_addr *ctx)
{
	struct sb_sockhash_key key = {};

	if (ctx->type != SB_SOCK_DGRAM || ctx->protocol != SB_IPPROTO_UDP)
		return 1;
	key.family = SB_AF_INET;
	key.addr_be[0] = ctx->user_ip4;
	key.port_be = (__u16)ctx->user_port;
	key.cookie = bpf_get_socket_cookie(ctx);
	sb_count_index(bpf_map_update_elem(&sb_sockhash, &key, ctx->sk, SB_NOEXIST));
	return 1;
}

SEC("cgroup/connect6")
int index_udp6(struct bpf_sock_addr *ctx)
{
	struct sb_sockhash_key key = {};

	if (ctx->type != SB_SOCK_DGRAM || ctx->protocol != SB_IPPROTO_UDP)
		return 1;
	key.family = SB_AF_INET6;
	key.addr_be[0] = ctx->user_ip6[0];
	key.addr_be[1] = ctx->user_ip6[1];
	key.addr_be[2] = ctx->user_ip6[2];
	key.addr_be[3] = ctx->user_ip6[3];
	key.port_be = (__u16)ctx->user_port;
	key.cookie = bpf_get_socket_cookie(ctx);
	sb_count_index(bpf_map_update_elem(&sb_sockhash, &key, ctx->sk, SB_NOEXIST));
	return 1;
}

/* Kernel tests only (tests/kernel/sockhash_bucket_test.cc), not loaded by
 * the approach: "?" leaves them out of autoload, so a kernel that refuses
 * one of them never blocks the approach.
 */

/* A plain sockmap (array) for the array iterator's tests, and the map the
 * copy program inserts into.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} sb_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} sb_copy_dst SEC(".maps");

/* Cookies of the sockets destroy_array must destroy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} sb_array_targets SEC(".maps");

struct sb_array_counters sb_array_stats;

/* Array iterator, socket locked and trusted (sockmap 0003/0005): destroy the
 * sockets whose cookie is a target, write the cookie of each one destroyed
 * (8 bytes), skip sockets already closed (aborted UDP sockets stay in the
 * map until closed).
 */
SEC("?iter/sockmap")
int destroy_array(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;
	__u64 cookie;
	int err;

	if (!ctx->key)
		return 0;
	if (!sk) {
		sb_array_stats.empty++;
		return 0;
	}
	sb_array_stats.visited++;
	if (sk->__sk_common.skc_state == SB_TCP_CLOSE)
		return 0;
	cookie = bpf_get_socket_cookie(sk);
	if (!bpf_map_lookup_elem(&sb_array_targets, &cookie))
		return 0;
	err = bpf_sock_destroy((struct sock_common *)sk);
	if (err) {
		sb_array_stats.failed++;
		sb_array_stats.last_error = err;
		return 0;
	}
	sb_array_stats.destroyed++;
	bpf_seq_write(ctx->meta->seq, &cookie, sizeof(cookie));
	return 0;
}

/* Insert every socket shown into sb_copy_dst at the same index, from an
 * iterator over sb_array (socket locked by the iterator, not connecting):
 * an unhashed UDP socket must be refused (sockmap 0008 scopes its exception to the
 * socket's own connect hook). Results per index in sb_copy_ret.
 */
__s64 sb_copy_ret[64];

SEC("?iter/sockmap")
int copy_array(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;
	__u32 *key = ctx->key;
	__u32 idx;

	if (!key || !sk)
		return 0;
	idx = *key;
	if (idx >= 64)
		return 0;
	sb_copy_ret[idx & 63] = bpf_map_update_elem(&sb_copy_dst, &idx, sk, 0);
	return 0;
}

/* Sleepable (sockmap 0004, BPF_ITER_RESCHED): the cookie of every socket
 * shown, 8 bytes each, for sockmaps and sockhashes alike.
 */
SEC("?iter.s/sockmap")
int dump_sleepable(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;
	__u64 cookie;

	if (!sk)
		return 0;
	cookie = bpf_get_socket_cookie(sk);
	bpf_seq_write(ctx->meta->seq, &cookie, sizeof(cookie));
	return 0;
}
