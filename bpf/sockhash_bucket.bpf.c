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
#include "sockhash_bucket_map.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Protocols a pass destroys (a bucket holds TCP and UDP alike). */
__u32 sb_want_tcp;
__u32 sb_want_udp;

struct sb_index_counters sb_index;

/* Is this socket of the bucket one the pass must destroy? */
static __always_inline bool sb_bucket_target(struct sock *sk)
{
	struct sock_common *skc = &sk->__sk_common;
	__u16 proto = sk->sk_protocol;

	if (proto != SB_IPPROTO_TCP && proto != SB_IPPROTO_UDP)
		return false;
	if (!(proto == SB_IPPROTO_TCP ? sb_want_tcp : sb_want_udp))
		return false;
	/* Aborted (or disconnected) sockets stay in the map until closed. */
	if (skc->skc_state == SB_TCP_CLOSE)
		return false;
	/* The key says where the socket connected; check where it is
	 * connected now (a UDP socket may have connected elsewhere since).
	 */
	return sb_netns_allowed(skc) && sb_is_target(skc);
}

/* One destruction pass: userspace attaches it with the dead backend
 * endpoint as key prefix, so ctx->sk runs over that bucket only. The
 * socket is locked and trusted (sockmap series 0003, 0005).
 */
SEC("iter/sockmap")
int destroy_bucket(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;

	if (!sk)
		return 0;
	sb_counters.visited++;
	if (sb_bucket_target(sk))
		sb_destroy(&sk->__sk_common);
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
 * the backend (sockmap series 0008). The key is the final destination;
 * the programs fill in its address.
 */
static __always_inline int sb_index_udp(struct bpf_sock_addr *ctx, struct sb_sockhash_key *key)
{
	if (ctx->type != SB_SOCK_DGRAM || ctx->protocol != SB_IPPROTO_UDP)
		return 1;
	key->port_be = (__u16)ctx->user_port;
	key->cookie = bpf_get_socket_cookie(ctx);
	sb_count_index(bpf_map_update_elem(&sb_sockhash, key, ctx->sk, SB_NOEXIST));
	return 1;
}

SEC("cgroup/connect4")
int index_udp4(struct bpf_sock_addr *ctx)
{
	struct sb_sockhash_key key = {};

	key.family = SB_AF_INET;
	key.addr_be[0] = ctx->user_ip4;
	return sb_index_udp(ctx, &key);
}

SEC("cgroup/connect6")
int index_udp6(struct bpf_sock_addr *ctx)
{
	struct sb_sockhash_key key = {};

	key.family = SB_AF_INET6;
	key.addr_be[0] = ctx->user_ip6[0];
	key.addr_be[1] = ctx->user_ip6[1];
	key.addr_be[2] = ctx->user_ip6[2];
	key.addr_be[3] = ctx->user_ip6[3];
	return sb_index_udp(ctx, &key);
}
