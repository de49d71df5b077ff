// SPDX-License-Identifier: GPL-2.0
/* Counts the sk_storage strategy's storages still linked to a socket.
 * SK_STORAGE maps have no get_next_key: an iter/bpf_sk_storage_map program
 * is the direct way to enumerate them. Some kernels refuse map-element
 * iterators at load (EPERM before verification, seen on a 6.18 host); the
 * strategy then counts with leak_sk_storage_free.bpf.c instead.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "leak_sk_storage_map.bpf.h"

char LICENSE[] SEC("license") = "GPL";

__u64 leak_storage_seen = 0;

SEC("iter/bpf_sk_storage_map")
int leak_count_storage(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	/* Iterators run one at a time: a plain increment is exact. */
	if (ctx->sk && ctx->value)
		leak_storage_seen++;
	return 0;
}
