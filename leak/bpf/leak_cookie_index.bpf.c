// SPDX-License-Identifier: GPL-2.0
/* cookie_index: Cilium's LRU reverse maps, plus a side map socket cookie ->
 * the backends that socket was translated to, written at connect/sendmsg
 * time. sock_release deletes through the side map, so it no longer depends
 * on the destination the kernel may have zeroed. The fix that keeps
 * Cilium's map layout (and bpftool dumps) unchanged.
 */
#include "vmlinux.h"
#include "leak_lb.bpf.h"
#include "leak_rev_lru.bpf.h"

/* Same size as the reverse maps (userspace resizes all three): one entry
 * per socket with reverse state.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LEAK_DEFAULT_REVERSE_ENTRIES);
	__type(key, __u64);
	__type(value, struct leak_cookie_entry);
} leak_by_cookie SEC(".maps");

static __always_inline bool leak_assoc_eq(const struct leak_assoc *a, const __u32 *addr,
					  __be16 port)
{
	return a->addr[0] == addr[0] && a->addr[1] == addr[1] && a->addr[2] == addr[2] &&
	       a->addr[3] == addr[3] && a->port == port;
}

static __always_inline void leak_delete_assoc(__u32 family, __u64 cookie,
					      const struct leak_assoc *a)
{
	if (family == SB_AF_INET)
		leak_rev4_delete(cookie, a->addr[0], a->port);
	else
		leak_rev6_delete(cookie, a->addr, a->port);
}

/* Record that `cookie` has a reverse entry toward addr:port. A socket that
 * reaches more than LEAK_MAX_ASSOC backends drops (and deletes) its oldest
 * association, so the index never loses track of an entry it made. The
 * slot loops are bounded loops (kernel >= 5.3): early exits keep clang from
 * unrolling them.
 */
static __always_inline void leak_index(__u64 cookie, __u32 family, const __u32 *addr,
				       __be16 port)
{
	struct leak_cookie_entry fresh = {};
	struct leak_cookie_entry *e;
	__u32 n, slot;

	e = bpf_map_lookup_elem(&leak_by_cookie, &cookie);
	if (!e) {
		fresh.family = family;
		fresh.count = 1;
		__builtin_memcpy(fresh.assoc[0].addr, addr, sizeof(fresh.assoc[0].addr));
		fresh.assoc[0].port = port;
		if (bpf_map_update_elem(&leak_by_cookie, &cookie, &fresh, BPF_ANY))
			LEAK_COUNT(insert_failed);
		return;
	}
	n = e->count < LEAK_MAX_ASSOC ? e->count : LEAK_MAX_ASSOC;
	for (__u32 i = 0; i < LEAK_MAX_ASSOC; i++) {
		if (i >= n)
			break;
		if (leak_assoc_eq(&e->assoc[i], addr, port))
			return;
	}
	slot = e->count % LEAK_MAX_ASSOC;
	if (e->count >= LEAK_MAX_ASSOC) {
		leak_delete_assoc(e->family, cookie, &e->assoc[slot]);
		LEAK_COUNT(displaced);
	}
	__builtin_memcpy(e->assoc[slot].addr, addr, sizeof(e->assoc[slot].addr));
	e->assoc[slot].port = port;
	e->count++;
}

static __always_inline void leak_remember4(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev4_val *vip)
{
	__u32 addr[4] = {be->addr[0], 0, 0, 0};

	leak_rev4_update(cookie, be->addr[0], be->port, vip);
	leak_index(cookie, SB_AF_INET, addr, be->port);
}

static __always_inline void leak_remember6(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev6_val *vip)
{
	__u32 addr[4] = {be->addr[0], be->addr[1], be->addr[2], be->addr[3]};

	leak_rev6_update(cookie, addr, be->port, vip);
	leak_index(cookie, SB_AF_INET6, addr, be->port);
}

static __always_inline void leak_forget(struct bpf_sock *ctx, __u64 cookie)
{
	struct leak_cookie_entry *e;
	__u32 n;

	e = bpf_map_lookup_elem(&leak_by_cookie, &cookie);
	if (e) {
		n = e->count < LEAK_MAX_ASSOC ? e->count : LEAK_MAX_ASSOC;
		for (__u32 i = 0; i < LEAK_MAX_ASSOC; i++) {
			if (i >= n)
				break;
			leak_delete_assoc(e->family, cookie, &e->assoc[i]);
		}
		bpf_map_delete_elem(&leak_by_cookie, &cookie);
	}
	/* Should LRU pressure have evicted the index entry, a socket whose
	 * destination is intact is still cleaned up the old way.
	 */
	leak_rev_delete_by_dst(ctx, cookie);
}
