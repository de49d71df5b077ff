// SPDX-License-Identifier: GPL-2.0
/* Fallback count for the sk_storage strategy: sockets that reach sk_free()
 * still carrying the strategy's storage. sk_free() runs once per socket,
 * when its last reference goes; the kernel frees the storage right after
 * (__sk_destruct, possibly one RCU grace period later), and nothing can
 * reach it in between. Live storages = created - freed.
 *
 * Not fentry on bpf_sk_storage_free(): the kernel forbids the sk_storage
 * helpers in programs tracing bpf_sk_storage* functions.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "leak_sk_storage_map.bpf.h"

char LICENSE[] SEC("license") = "GPL";

__u64 leak_storage_freed = 0;

SEC("fentry/sk_free")
int BPF_PROG(leak_count_freed, struct sock *sk)
{
	if (bpf_sk_storage_get(&leak_sk, sk, 0, 0))
		__sync_fetch_and_add(&leak_storage_freed, 1);
	return 0;
}
