/* Destination matching shared by every destruction program. */
#ifndef SB_MATCH_BPF_H
#define SB_MATCH_BPF_H

#include "sb_constants.h"
#include "sockbench_target.h"

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/* Filled by userspace before each pass (the skeleton maps .bss). */
struct sb_endpoint sb_endpoints[SB_MAX_ENDPOINTS];
__u32 sb_n_endpoints;
struct sb_counters sb_counters;

static __always_inline bool sb_addr_eq(const struct sock_common *skc,
				       const struct sb_endpoint *ep)
{
	if (ep->family == SB_AF_INET)
		return skc->skc_daddr == ep->addr_be[0];
	return skc->skc_v6_daddr.in6_u.u6_addr32[0] == ep->addr_be[0] &&
	       skc->skc_v6_daddr.in6_u.u6_addr32[1] == ep->addr_be[1] &&
	       skc->skc_v6_daddr.in6_u.u6_addr32[2] == ep->addr_be[2] &&
	       skc->skc_v6_daddr.in6_u.u6_addr32[3] == ep->addr_be[3];
}

static __always_inline bool sb_is_target(const struct sock_common *skc)
{
	__u16 family = skc->skc_family;
	__u16 dport = skc->skc_dport;

	for (__u32 i = 0; i < SB_MAX_ENDPOINTS; i++) {
		const struct sb_endpoint *ep = &sb_endpoints[i];

		if (i >= sb_n_endpoints)
			break;
		if (ep->family == family && ep->port_be == dport &&
		    sb_addr_eq(skc, ep))
			return true;
	}
	return false;
}

/* Does a backend an agent stored (family, port and address in network
 * order, IPv4 in addr_be[0], the rest zero) name one of the pass's
 * endpoints? For the approaches that match on stored state before
 * looking at the socket (sk_storage_iter, the leak study's own-map pass).
 */
static __always_inline bool sb_stored_backend_is_target(__u32 family, __u16 port_be,
							 const __u32 *addr_be)
{
	for (__u32 i = 0; i < SB_MAX_ENDPOINTS; i++) {
		const struct sb_endpoint *ep = &sb_endpoints[i];

		if (i >= sb_n_endpoints)
			break;
		if (ep->family == family && ep->port_be == port_be &&
		    ep->addr_be[0] == addr_be[0] && ep->addr_be[1] == addr_be[1] &&
		    ep->addr_be[2] == addr_be[2] && ep->addr_be[3] == addr_be[3])
			return true;
	}
	return false;
}

/* A matched target: destroy it and count the outcome. */
static __always_inline void sb_destroy(struct sock_common *skc)
{
	int err;

	sb_counters.matched++;
	err = bpf_sock_destroy(skc);
	if (err) {
		sb_counters.failed++;
		sb_counters.last_error = err;
	} else {
		sb_counters.destroyed++;
	}
}

/* Count the socket, and destroy it if it is a target. Only full sockets can
 * be aborted: TIME_WAIT and request sockets are skipped (their struct is a
 * sock_common only, and they carry no application to notify).
 */
static __always_inline void sb_visit(struct sock_common *skc)
{
	sb_counters.visited++;
	if (skc->skc_state == SB_TCP_TIME_WAIT ||
	    skc->skc_state == SB_TCP_NEW_SYN_RECV)
		return;
	if (!sb_is_target(skc))
		return;
	sb_destroy(skc);
}

/* An iterator program's body: visit the socket it is shown, if any. */
static __always_inline int sb_visit_shown(struct sock_common *skc)
{
	if (skc)
		sb_visit(skc);
	return 0;
}

#endif
