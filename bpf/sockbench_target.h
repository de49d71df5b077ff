/* Types shared by the destruction programs and userspace (libbpf-bootstrap
 * style: name.h next to name.bpf.c). Addresses and ports are kept in network
 * byte order, exactly as the kernel stores them in struct sock_common, so the
 * BPF side compares without conversions.
 */
#ifndef SOCKBENCH_TARGET_H
#define SOCKBENCH_TARGET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* A dying backend has one endpoint per address family; a few spare slots
 * allow a test to kill several backends in one pass.
 */
#define SB_MAX_ENDPOINTS 8

struct sb_endpoint {
	__u32 family;		/* AF_INET or AF_INET6 */
	__u16 port_be;		/* destination port, network order */
	__u16 pad;
	__u32 addr_be[4];	/* IPv4 uses addr_be[0] */
};

/* What one destruction pass saw. Written only by the program that runs the
 * pass; iterators run single-threaded so plain increments are exact.
 */
struct sb_counters {
	__u64 visited;		/* sockets the program was called for */
	__u64 matched;		/* sockets whose destination was a target */
	__u64 destroyed;	/* bpf_sock_destroy() returned 0 */
	__u64 failed;		/* bpf_sock_destroy() returned an error */
	__s64 last_error;	/* the last such error, for the report */
};

#endif
