// SPDX-License-Identifier: GPL-2.0
/* cilium_term, cilium_term_fixed: Cilium's socket termination
 * (bpf/bpf_sock_term.c), matching the way it matches, over Cilium's
 * socket-LB state as the leak study builds it (leak/bpf/):
 *
 *   cgroup/connect4/6, cgroup/sendmsg4/6  (leak_lb.bpf.h) translate a service
 *       to its backend and remember the translation in both of Cilium's
 *       reverse-NAT stores, as its dual write does (cilium#44767): the
 *       socket's sk_storage entry (reverse_sk_v2, leak_sk) and the LRU entry
 *       keyed by {socket cookie, backend} (reverse_sk, leak_rev4/6).
 *       sendmsg runs for unconnected UDP only: such a socket gets entries too.
 *   cgroup/sock_release  forgets the LRU entry by the socket's destination,
 *       as Cilium does today.
 *
 * The iterator programs, one per family and protocol like Cilium's
 * cil_sock_{tcp,udp}_destroy_v{4,6}, see one backend per run (the filter is
 * sb_endpoints[0], as Cilium's cilium_sock_term_filter holds one address and
 * port). A socket matches when
 *   1. it passes the address gate, which only a connected socket is held
 *      to: a socket with a destination must be connected to exactly the
 *      backend; one without (destination zero) passes, and
 *   2. its sk_storage entry names the backend, or the LRU holds an entry for
 *      {its cookie, the backend}.
 * Like Cilium's, the programs do not look at the socket's family: in a v4
 * pass a v6 socket has no v4 destination, passes the gate, and costs both
 * lookups (and finds nothing), and the other way round.
 *
 * An unconnected UDP socket that sendto()'d the backend has no destination
 * and an entry, so it matches and is destroyed: cilium#48564. With
 * ct_check_state (set before load: cilium_term_fixed), a socket in TCP_CLOSE,
 * i.e. an unconnected UDP socket, is no connection and is left alone before
 * anything else is read: the sk_state check of cilium#48725.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../leak/bpf/leak_lb.bpf.h"
#include "../leak/bpf/leak_rev_lru.bpf.h"
#include "../leak/bpf/leak_sk_storage.bpf.h"
#include "sb_match.bpf.h"

/* cilium#48725: read sk_state. Rodata, set by userspace before load. */
const volatile bool ct_check_state = false;

/* The socket-LB strategy: both stores written (dual write), the LRU entry
 * forgotten by destination in sock_release; recvmsg/getpeername recall from
 * the LRU (leak_rev_lru.bpf.h).
 */
static __always_inline void leak_remember4(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev4_val *vip)
{
	leak_sk_store4(ctx, be, vip);
	leak_rev4_update(cookie, be->addr[0], be->port, vip);
}

static __always_inline void leak_remember6(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev6_val *vip)
{
	__u32 addr[4] = {be->addr[0], be->addr[1], be->addr[2], be->addr[3]};

	leak_sk_store6(ctx, be, vip);
	leak_rev6_update(cookie, addr, be->port, vip);
}

static __always_inline void leak_forget(struct bpf_sock *ctx, __u64 cookie)
{
	leak_rev_delete_by_dst(ctx, cookie);
}

/* The full socket sk_storage can be read from: a TCP iterator shows
 * request and TIME_WAIT sockets too, which have none (the helper would
 * return NULL for them as well).
 */
static __always_inline struct sock *ct_full_sock(struct sock_common *skc, bool tcp)
{
	if (tcp)
		return (struct sock *)bpf_skc_to_tcp_sock(skc);
	return (struct sock *)skc;
}

static __always_inline bool ct_connection(const struct sock_common *skc)
{
	return !ct_check_state || skc->skc_state != SB_TCP_CLOSE;
}

static __always_inline bool ct_matches_v4(struct sock_common *skc, bool tcp)
{
	const struct sb_endpoint *f = &sb_endpoints[0];
	struct leak_sk_entry *st;
	struct leak_rev4_key key;
	struct sock *sk;
	__u64 cookie;

	if (!ct_connection(skc))
		return false;
	/* Address gate: a connected socket must be connected to the backend. */
	if (skc->skc_daddr != 0 &&
	    (skc->skc_daddr != f->addr_be[0] || skc->skc_dport != f->port_be))
		return false;

	sk = ct_full_sock(skc, tcp);
	if (sk) {
		st = bpf_sk_storage_get(&leak_sk, sk, 0, 0);
		if (st && st->family == SB_AF_INET && st->backend[0] == f->addr_be[0] &&
		    st->backend_port == f->port_be)
			return true;
	}
	cookie = bpf_get_socket_cookie(skc);
	if (!cookie)
		return false;
	leak_rev4_key_of(&key, cookie, f->addr_be[0], f->port_be);
	return bpf_map_lookup_elem(&leak_rev4, &key) != 0;
}

static __always_inline bool ct_matches_v6(struct sock_common *skc, bool tcp)
{
	const struct sb_endpoint *f = &sb_endpoints[0];
	const struct in6_addr *d = &skc->skc_v6_daddr;
	struct leak_sk_entry *st;
	struct leak_rev6_key key;
	struct sock *sk;
	__u64 cookie;

	if (!ct_connection(skc))
		return false;
	if ((d->in6_u.u6_addr32[0] | d->in6_u.u6_addr32[1] | d->in6_u.u6_addr32[2] |
	     d->in6_u.u6_addr32[3]) != 0 &&
	    (d->in6_u.u6_addr32[0] != f->addr_be[0] || d->in6_u.u6_addr32[1] != f->addr_be[1] ||
	     d->in6_u.u6_addr32[2] != f->addr_be[2] || d->in6_u.u6_addr32[3] != f->addr_be[3] ||
	     skc->skc_dport != f->port_be))
		return false;

	sk = ct_full_sock(skc, tcp);
	if (sk) {
		st = bpf_sk_storage_get(&leak_sk, sk, 0, 0);
		if (st && st->family == SB_AF_INET6 && st->backend[0] == f->addr_be[0] &&
		    st->backend[1] == f->addr_be[1] && st->backend[2] == f->addr_be[2] &&
		    st->backend[3] == f->addr_be[3] && st->backend_port == f->port_be)
			return true;
	}
	cookie = bpf_get_socket_cookie(skc);
	if (!cookie)
		return false;
	leak_rev6_key_of(&key, cookie, f->addr_be, f->port_be);
	return bpf_map_lookup_elem(&leak_rev6, &key) != 0;
}

/* Every socket shown is counted; a match is destroyed. */
static __always_inline int ct_visit(struct sock_common *skc, bool v6, bool tcp)
{
	if (!skc)
		return 0;
	sb_counters.visited++;
	if (v6 ? ct_matches_v6(skc, tcp) : ct_matches_v4(skc, tcp))
		sb_destroy(skc);
	return 0;
}

SEC("iter/tcp")
int ct_tcp_destroy_v4(struct bpf_iter__tcp *ctx)
{
	return ct_visit(ctx->sk_common, false, true);
}

SEC("iter/udp")
int ct_udp_destroy_v4(struct bpf_iter__udp *ctx)
{
	return ct_visit((struct sock_common *)ctx->udp_sk, false, false);
}

SEC("iter/tcp")
int ct_tcp_destroy_v6(struct bpf_iter__tcp *ctx)
{
	return ct_visit(ctx->sk_common, true, true);
}

SEC("iter/udp")
int ct_udp_destroy_v6(struct bpf_iter__udp *ctx)
{
	return ct_visit((struct sock_common *)ctx->udp_sk, true, false);
}
