// SPDX-License-Identifier: GPL-2.0
/* Test-only programs over the sockhash_bucket approach's map and plain
 * sockmaps, for the kernel tests of the sockmap series
 * (tests/kernel/sockhash_bucket_test.cc, sockmap_review_test.cc). Built by
 * bpf_object() like the approaches' objects, never loaded by sockbench.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sb_constants.h"
#include "sockbench_target.h"
#include "sockhash_bucket_map.bpf.h"
#include "sockmap_test.h"

char LICENSE[] SEC("license") = "GPL";

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

struct sb_counters sb_counters;

/* The cookie of every element shown (8 bytes each), from its key. */
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


/* Reads no key: for link checks that must not depend on the program. */
SEC("iter/sockmap")
int count_bucket(struct bpf_iter__sockmap *ctx)
{
	if (ctx->sk)
		sb_counters.visited++;
	return 0;
}

/* The sockmap series' own tests (tests/kernel/sockmap_review_test.cc): "?"
 * leaves them out of autoload, so a kernel that refuses one of them never
 * blocks the others; a test turns on the ones it uses.
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
