/* sk_storage_iter: what the agent's connect-time programs keep per socket
 * (bpf/sk_storage_iter.bpf.c), shared with userspace.
 */
#ifndef SK_STORAGE_ITER_H
#define SK_STORAGE_ITER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The backend a socket-LB connect() or sendmsg() chose for the socket, as
 * Cilium keeps its reverse-NAT entry in sk_storage (reverse_sk_v2).
 * Network byte order, as struct sock_common holds its destination.
 */
struct sb_sk_backend {
	__u32 family;		/* AF_INET or AF_INET6 */
	__u16 port_be;
	__u8 l4proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
	__u32 addr_be[4];	/* IPv4 uses addr_be[0] */
};

/* Kept by the connect and sendmsg programs, across passes. */
struct sb_storage_counters {
	__u64 stored;		/* backends recorded */
	__u64 failed;		/* sockets whose storage could not be created */
};

#endif
