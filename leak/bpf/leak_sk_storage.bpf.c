// SPDX-License-Identifier: GPL-2.0
/* sk_storage: the reverse state lives in BPF_MAP_TYPE_SK_STORAGE, attached
 * to the socket and freed by the kernel with it (__sk_destruct), whatever
 * happened to its destination (the direction of cilium/cilium#42658). No
 * LRU: nothing to evict, nothing to delete in sock_release.
 */
#include "vmlinux.h"
#include "leak_lb.bpf.h"

#include "leak_sk_storage.bpf.h"

/* Sockets that reached sock_release carrying a storage, never reset: the
 * last-resort count where neither counting object loads (see
 * leak/sk_storage.cc).
 */
__u64 leak_storage_released = 0;

static __always_inline void leak_remember4(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev4_val *vip)
{
	leak_sk_store4(ctx, be, vip);
}

static __always_inline int leak_recall4(struct bpf_sock_addr *ctx, __u64 cookie,
					__be32 addr, __be16 port,
					struct leak_rev4_val *vip)
{
	return leak_sk_recall4(ctx, addr, port, vip);
}

static __always_inline void leak_remember6(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev6_val *vip)
{
	leak_sk_store6(ctx, be, vip);
}

static __always_inline int leak_recall6(struct bpf_sock_addr *ctx, __u64 cookie,
					const __u32 *addr, __be16 port,
					struct leak_rev6_val *vip)
{
	return leak_sk_recall6(ctx, addr, port, vip);
}

/* Nothing to delete: the kernel frees the storage with the socket. Counted
 * so a report shows how many sockets carried storage to their release.
 */
static __always_inline void leak_forget(struct bpf_sock *ctx, __u64 cookie)
{
	if (bpf_sk_storage_get(&leak_sk, ctx, 0, 0)) {
		LEAK_COUNT(deleted);
		__sync_fetch_and_add(&leak_storage_released, 1);
	}
}
