// SPDX-License-Identifier: GPL-2.0
/* sk_storage_iter: the agent keeps each socket's backend in sk_storage, as
 * Cilium's socket-LB keeps its reverse-NAT entry there (reverse_sk_v2);
 * when a backend dies, one pass of an iter/bpf_sk_storage_map program over
 * that map destroys the sockets it names: every namespace, and no socket the
 * agent never translated. Needs sockbench's sk-storage series, which makes
 * the iterator hold the socket lock and mark ctx->sk trusted; stock kernels
 * refuse bpf_sock_destroy() there ("must be referenced or trusted"), which
 * is the probe's answer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sb_match.bpf.h"
#include "sb_netns_filter.bpf.h"
#include "sk_storage_iter.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sb_sk_backend);
} sb_backend_of SEC(".maps");

struct sb_storage_counters sb_storage;
/* Which protocols the pass targets (a target may name TCP or UDP only). */
bool sb_want_tcp, sb_want_udp;

/* cgroup/connect and sendmsg run with the socket locked: the storage is
 * created, or overwritten by a later connect(), under that lock.
 */
static __always_inline struct sb_sk_backend *sb_backend_storage(struct bpf_sock_addr *ctx)
{
	struct sb_sk_backend *b;

	b = bpf_sk_storage_get(&sb_backend_of, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!b) {
		__sync_fetch_and_add(&sb_storage.failed, 1);
		return NULL;
	}
	__sync_fetch_and_add(&sb_storage.stored, 1);
	b->l4proto = ctx->protocol;
	b->port_be = (__u16)ctx->user_port;
	return b;
}

static __always_inline int sb_store4(struct bpf_sock_addr *ctx)
{
	struct sb_sk_backend *b = sb_backend_storage(ctx);

	if (b) {
		b->family = SB_AF_INET;
		b->addr_be[0] = ctx->user_ip4;
	}
	return 1;
}

static __always_inline int sb_store6(struct bpf_sock_addr *ctx)
{
	struct sb_sk_backend *b = sb_backend_storage(ctx);

	if (b) {
		b->family = SB_AF_INET6;
		b->addr_be[0] = ctx->user_ip6[0];
		b->addr_be[1] = ctx->user_ip6[1];
		b->addr_be[2] = ctx->user_ip6[2];
		b->addr_be[3] = ctx->user_ip6[3];
	}
	return 1;
}

SEC("cgroup/connect4")
int sb_connect4(struct bpf_sock_addr *ctx)
{
	return sb_store4(ctx);
}

SEC("cgroup/connect6")
int sb_connect6(struct bpf_sock_addr *ctx)
{
	return sb_store6(ctx);
}

/* Unconnected UDP: socket-LB translates each sendto() and keeps its entry
 * too, so such sockets are in the map; the pass must leave them alone
 * (cilium#48564).
 */
SEC("cgroup/sendmsg4")
int sb_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sb_store4(ctx);
}

SEC("cgroup/sendmsg6")
int sb_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sb_store6(ctx);
}

/* Every socket with storage is visited; one whose storage names a dying
 * backend is destroyed only if it is still connected to it. A closed socket
 * (TCP_CLOSE: an unconnected or disconnected UDP socket, a socket a pass
 * destroyed already) is no connection, and one connected elsewhere since
 * fails the address check: both stay.
 */
SEC("iter/bpf_sk_storage_map")
int destroy_stored(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct sb_sk_backend *b = ctx->value;
	struct sock *sk = ctx->sk;

	if (!sk || !b)
		return 0;
	sb_counters.visited++;
	if (b->l4proto == SB_IPPROTO_TCP ? !sb_want_tcp : !sb_want_udp)
		return 0;
	if (!sb_stored_backend_is_target(b->family, b->port_be, b->addr_be))
		return 0;
	if (!sb_netns_allowed(&sk->__sk_common))
		return 0;
	if (sk->__sk_common.skc_state == SB_TCP_CLOSE)
		return 0;
	if (!sb_is_target(&sk->__sk_common))
		return 0;
	sb_destroy(&sk->__sk_common);
	return 0;
}
