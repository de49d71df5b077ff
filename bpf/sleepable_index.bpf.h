/* What both sleepable_kfunc variants share.
 *
 * Recording: fexit on the protocols' connect puts each connected socket of
 * the agent's cgroup into the variant's index, keyed by backend; its
 * cgroup/sock_release program removes the socket's entry again.
 * Destroying: the variant's SEC("syscall") program, run with
 * BPF_PROG_TEST_RUN once per dying backend, takes that backend's entries
 * in the namespaces of sb_netns, finds each socket again with
 * bpf_sk_lookup_connected() and calls sb_destroy_entry() on it. The
 * namespaces of a pass are sb_netns_filter.bpf.h's, checked against the
 * netns cookie recorded in the entry.
 *
 * A variant provides, before including this file:
 *   sb_index_insert(ref, entry): 0 or a negative error; may set ref->slot;
 *   sb_index_remove(ref, cookie): drop that socket's entry, if any (from
 *     cgroup/sock_release);
 *   sb_index_move(old, ref, entry): the socket, indexed under old,
 *     connected again: index it under ref instead (from fexit).
 *
 * Why fexit: cgroup/connect4 runs before a UDP socket is bound, so the
 * source port is not known there; at the return of tcp_v4_connect(),
 * udp_connect() and their IPv6 twins the socket has its whole 4-tuple.
 */
#ifndef SB_SLEEPABLE_INDEX_BPF_H
#define SB_SLEEPABLE_INDEX_BPF_H

#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sb_constants.h"
#include "sb_netns_filter.bpf.h"
#include "sockbench_target.h"
#include "sleepable_kfunc.h"

extern struct sock *bpf_sk_lookup_connected(struct bpf_sock_tuple *tuple, __u32 tuple__sz,
					    __u32 l4proto, __u64 netns_cookie,
					    __u64 flags) __ksym;
extern void bpf_sk_put(struct sock *sk) __ksym;
extern int bpf_sock_destroy_might_sleep(struct sock_common *sk) __ksym;
/* Open-coded iterator (libbpf 1.1's headers predate bpf_for()): a loop
 * that holds no RCU read lock, unlike a hash map's for_each callback.
 */
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* Set by userspace when it attaches: index only connects of tasks in
 * sb_cgroup[0] (the agent's pods); 0 indexes every connect on the machine.
 */
__u32 sb_scope_cgroup;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sb_cgroup SEC(".maps");


/* Socket cookie -> where its entry is (release side, UDP reconnects). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SB_SK_MAX);
	__type(key, __u64);
	__type(value, struct sb_sock_ref);
} sb_sock_ref SEC(".maps");

struct sb_counters sb_counters;
struct sb_index_counters sb_index;
struct sb_walk_counters sb_walk;

static int sb_index_insert(struct sb_sock_ref *ref, struct sb_sk_entry *e);
static void sb_index_remove(const struct sb_sock_ref *ref, __u64 cookie);
static int sb_index_move(const struct sb_sock_ref *old, struct sb_sock_ref *ref,
			 struct sb_sk_entry *e);

static __always_inline bool sb_v4mapped(const __u32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

/* The entry and backend of a socket that just connected; false if it is
 * not one to index.
 */
static __always_inline bool sb_entry_of(struct sock *sk, __u32 proto, struct sb_sk_entry *e,
					struct sb_sock_ref *ref)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct sb_backend_key *key = &ref->key;

	e->netns_cookie = BPF_CORE_READ(skc, skc_net.net, net_cookie);
	ref->netns_cookie = e->netns_cookie;
	key->family = skc->skc_family;
	key->l4proto = proto;
	key->port_be = skc->skc_dport;
	e->l4proto = proto;
	if (key->family == SB_AF_INET) {
		key->addr_be[0] = skc->skc_daddr;
		e->tuple.ipv4.saddr = skc->skc_daddr;
		e->tuple.ipv4.sport = skc->skc_dport;
		e->tuple.ipv4.daddr = skc->skc_rcv_saddr;
		e->tuple.ipv4.dport = bpf_htons(skc->skc_num);
		e->tuple_sz = sizeof(e->tuple.ipv4);
		return true;
	}
	if (key->family != SB_AF_INET6)
		return false;
	__builtin_memcpy(key->addr_be, skc->skc_v6_daddr.in6_u.u6_addr32, 16);
	/* A v4-mapped peer is hashed as IPv4; the fleet has none. */
	if (sb_v4mapped(key->addr_be))
		return false;
	__builtin_memcpy(e->tuple.ipv6.saddr, key->addr_be, 16);
	__builtin_memcpy(e->tuple.ipv6.daddr, skc->skc_v6_rcv_saddr.in6_u.u6_addr32, 16);
	e->tuple.ipv6.sport = skc->skc_dport;
	e->tuple.ipv6.dport = bpf_htons(skc->skc_num);
	e->tuple_sz = sizeof(e->tuple.ipv6);
	return true;
}

static __always_inline void sb_index_failed(int err)
{
	__sync_fetch_and_add(&sb_index.failed, 1);
	sb_index.last_error = err;
}

static __always_inline void sb_record(struct sock *sk, __u32 proto)
{
	struct sb_sock_ref ref = {}, *old;
	struct sb_sk_entry e = {};
	int err;

	if (sb_scope_cgroup && bpf_current_task_under_cgroup(&sb_cgroup, 0) != 1)
		return;
	if (!sb_entry_of(sk, proto, &e, &ref))
		return;
	e.sk_cookie = bpf_get_socket_cookie(sk);
	/* connect() on a connected UDP socket moves it to another backend. */
	old = bpf_map_lookup_elem(&sb_sock_ref, &e.sk_cookie);
	if (old) {
		struct sb_sock_ref prev = *old;

		err = sb_index_move(&prev, &ref, &e);
		if (err) {
			bpf_map_delete_elem(&sb_sock_ref, &e.sk_cookie);
			sb_index_failed(err);
			return;
		}
		err = bpf_map_update_elem(&sb_sock_ref, &e.sk_cookie, &ref, BPF_ANY);
		if (err)
			sb_index_failed(err); /* indexed, but release cannot find it */
		__sync_fetch_and_add(&sb_index.replaced, 1);
		return;
	}
	/* No undo here: fexit may not free an rbtree node. An entry whose
	 * reference could not be stored is counted as failed.
	 */
	err = sb_index_insert(&ref, &e);
	if (err) {
		sb_index_failed(err);
		return;
	}
	err = bpf_map_update_elem(&sb_sock_ref, &e.sk_cookie, &ref, BPF_NOEXIST);
	if (err) {
		sb_index_failed(err);
		return;
	}
	__sync_fetch_and_add(&sb_index.inserted, 1);
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(sb_tcp4_connect, struct sock *sk, void *uaddr, int addr_len, int ret)
{
	if (!ret)
		sb_record(sk, SB_IPPROTO_TCP);
	return 0;
}

SEC("fexit/tcp_v6_connect")
int BPF_PROG(sb_tcp6_connect, struct sock *sk, void *uaddr, int addr_len, int ret)
{
	if (!ret)
		sb_record(sk, SB_IPPROTO_TCP);
	return 0;
}

SEC("fexit/udp_connect")
int BPF_PROG(sb_udp4_connect, struct sock *sk, void *uaddr, int addr_len, int ret)
{
	if (!ret)
		sb_record(sk, SB_IPPROTO_UDP);
	return 0;
}

SEC("fexit/udpv6_connect")
int BPF_PROG(sb_udp6_connect, struct sock *sk, void *uaddr, int addr_len, int ret)
{
	if (!ret)
		sb_record(sk, SB_IPPROTO_UDP);
	return 0;
}

/* The socket is gone: so is its entry, or the index leaks. */
SEC("cgroup/sock_release")
int sb_sock_release(struct bpf_sock *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct sb_sock_ref ref, *r;

	r = bpf_map_lookup_elem(&sb_sock_ref, &cookie);
	if (!r)
		return 1;
	ref = *r;
	sb_index_remove(&ref, cookie);
	bpf_map_delete_elem(&sb_sock_ref, &cookie);
	__sync_fetch_and_add(&sb_index.removed, 1);
	return 1;
}

static __always_inline bool sb_in_scope(__u64 netns_cookie)
{
	return bpf_map_lookup_elem(&sb_netns, &netns_cookie) != NULL;
}

/* An entry the pass took out of the index: find its socket and destroy it.
 * Sleeps (the kfunc takes the socket lock): call it with no lock held and
 * outside any for_each callback.
 */
static __always_inline void sb_destroy_entry(struct sb_sk_entry *e)
{
	struct sock *sk;
	int err;

	bpf_map_delete_elem(&sb_sock_ref, &e->sk_cookie);
	sb_index.popped++;
	sb_counters.visited++;
	sk = bpf_sk_lookup_connected(&e->tuple, e->tuple_sz == sizeof(e->tuple.ipv4) ?
					 sizeof(e->tuple.ipv4) : sizeof(e->tuple.ipv6),
				     e->l4proto, e->netns_cookie, 0);
	if (!sk) {
		sb_walk.not_found++;
		return;
	}
	/* The tuple may have been reused by a socket the agent never saw. */
	if (bpf_get_socket_cookie(sk) != e->sk_cookie) {
		sb_walk.other_socket++;
		bpf_sk_put(sk);
		return;
	}
	sb_counters.matched++;
	err = bpf_sock_destroy_might_sleep((struct sock_common *)sk);
	if (err) {
		sb_counters.failed++;
		sb_counters.last_error = err;
	} else {
		sb_counters.destroyed++;
	}
	bpf_sk_put(sk);
}

#endif
