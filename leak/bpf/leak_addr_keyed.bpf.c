// SPDX-License-Identifier: GPL-2.0
/* addr_keyed: Cilium today (bpf/lib/sock.h + cgroup/sock_release from
 * cilium PR #39486). The reverse entry is keyed by the backend the socket
 * was sent to; sock_release rebuilds the key from the socket's destination
 * as it is at close time. Reproduces cilium/cilium#42649: once an abort has
 * zeroed a UDP socket's destination, the entry stays until LRU eviction.
 */
#include "vmlinux.h"
#include "leak_lb.bpf.h"
#include "leak_rev_lru.bpf.h"

static __always_inline void leak_remember4(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev4_val *vip)
{
	leak_rev4_update(cookie, be->addr[0], be->port, vip);
}

static __always_inline void leak_remember6(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev6_val *vip)
{
	__u32 addr[4] = {be->addr[0], be->addr[1], be->addr[2], be->addr[3]};

	leak_rev6_update(cookie, addr, be->port, vip);
}

static __always_inline void leak_forget(struct bpf_sock *ctx, __u64 cookie)
{
	leak_rev_delete_by_dst(ctx, cookie);
}
