/* Shared by lazy_rto.bpf.c and lazy/rto_timeout.cc: the dead-backend map's
 * key, and what the sock_ops program counts.
 */
#pragma once

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* A backend: family (AF_INET / AF_INET6), port and address in network order
 * (an IPv4 address in the first 4 bytes). */
struct lazy_backend {
	__u16 family;
	__u16 port_be;
	__u8 addr[16];
};

struct lazy_rto_counts {
	__u64 established;      /* ACTIVE_ESTABLISHED_CB: RTO_CB flag set */
	__u64 flag_failed;      /* bpf_sock_ops_cb_flags_set refused */
	__u64 rto;              /* RTO_CB calls */
	__u64 rto_dead;         /* of those, to a backend in the dead map */
	__u64 timeout_set;      /* TCP_USER_TIMEOUT set by bpf_setsockopt */
	__u64 setsockopt_failed;
	__u64 rto_expired;      /* RTO_CB with args[2] (expired) set: the kernel fails the socket next */
	__u64 first_dead_rto_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the first RTO_CB to a dead backend */
	__u64 verdict_set;      /* rto_verdict: bpf_set_retval(-ETIMEDOUT) at that RTO */
	__u64 set_retval_failed;
};
