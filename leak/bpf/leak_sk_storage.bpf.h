/* Reverse-NAT state in BPF_MAP_TYPE_SK_STORAGE (the direction of
 * cilium/cilium#42658, Cilium's reverse_sk_v2): one entry per socket, with
 * the VIP and the backend it was translated to, freed by the kernel with the
 * socket. Store and recall, shared by the sk_storage strategy
 * (leak_sk_storage.bpf.c) and by the approaches that keep Cilium's state
 * (bpf/cilium_term.bpf.c, which writes the LRU maps too). Include after
 * leak_lb.bpf.h.
 */
#ifndef LEAK_SK_STORAGE_BPF_H
#define LEAK_SK_STORAGE_BPF_H

#include "leak_sk_storage_map.bpf.h"

/* Storages created since load. Unlike leak_counters it is never reset, so
 * "created - freed" (leak_sk_storage_free.bpf.c) stays the number of live
 * storages on kernels that refuse the counting iterator.
 */
__u64 leak_storage_created = 0;

static __always_inline struct leak_sk_entry *leak_storage(struct bpf_sock_addr *ctx)
{
	struct leak_sk_entry *e;

	e = bpf_sk_storage_get(&leak_sk, ctx->sk, 0, 0);
	if (e)
		return e;
	e = bpf_sk_storage_get(&leak_sk, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!e) {
		LEAK_COUNT(insert_failed);
		return 0;
	}
	LEAK_COUNT(inserted);
	__sync_fetch_and_add(&leak_storage_created, 1);
	return e;
}

/* The socket's entry with what both families store the same way; the
 * caller fills in the addresses.
 */
static __always_inline struct leak_sk_entry *leak_entry(struct bpf_sock_addr *ctx, __u32 family,
							__be16 vip_port, __u16 rev_nat_index,
							__be16 backend_port)
{
	struct leak_sk_entry *e = leak_storage(ctx);

	if (!e)
		return 0;
	e->family = family;
	e->vip_port = vip_port;
	e->rev_nat_index = rev_nat_index;
	e->backend_port = backend_port;
	return e;
}

static __always_inline void leak_sk_store4(struct bpf_sock_addr *ctx,
					   const struct leak_backend *be,
					   const struct leak_rev4_val *vip)
{
	struct leak_sk_entry *e = leak_entry(ctx, SB_AF_INET, vip->port, vip->rev_nat_index, be->port);

	if (!e)
		return;
	e->vip[0] = vip->address;
	e->vip[1] = e->vip[2] = e->vip[3] = 0;
	e->backend[0] = be->addr[0];
	e->backend[1] = e->backend[2] = e->backend[3] = 0;
}

static __always_inline int leak_sk_recall4(struct bpf_sock_addr *ctx, __be32 addr, __be16 port,
					   struct leak_rev4_val *vip)
{
	struct leak_sk_entry *e = bpf_sk_storage_get(&leak_sk, ctx->sk, 0, 0);

	/* Only the backend this socket was translated to is rewritten. */
	if (!e || e->family != SB_AF_INET || e->backend[0] != addr ||
	    e->backend_port != port)
		return -1;
	vip->address = e->vip[0];
	vip->port = e->vip_port;
	vip->rev_nat_index = e->rev_nat_index;
	return 0;
}

static __always_inline void leak_sk_store6(struct bpf_sock_addr *ctx,
					   const struct leak_backend *be,
					   const struct leak_rev6_val *vip)
{
	struct leak_sk_entry *e = leak_entry(ctx, SB_AF_INET6, vip->port, vip->rev_nat_index, be->port);

	if (!e)
		return;
	__builtin_memcpy(e->vip, vip->address, sizeof(e->vip));
	__builtin_memcpy(e->backend, be->addr, sizeof(e->backend));
}

static __always_inline int leak_sk_recall6(struct bpf_sock_addr *ctx, const __u32 *addr,
					   __be16 port, struct leak_rev6_val *vip)
{
	struct leak_sk_entry *e = bpf_sk_storage_get(&leak_sk, ctx->sk, 0, 0);

	if (!e || e->family != SB_AF_INET6 || e->backend[0] != addr[0] ||
	    e->backend[1] != addr[1] || e->backend[2] != addr[2] || e->backend[3] != addr[3] ||
	    e->backend_port != port)
		return -1;
	__builtin_memcpy(vip->address, e->vip, sizeof(vip->address));
	vip->port = e->vip_port;
	vip->rev_nat_index = e->rev_nat_index;
	return 0;
}

#endif
