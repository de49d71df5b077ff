/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between tests/bpf/all_netns_watch.bpf.c and its tests: what the
 * watch programs write per socket a tcp_all_netns / udp_all_netns pass
 * shows them. Only fixed-size types: the layout is checked on both sides.
 */
#ifndef SOCKBENCH_ALL_NETNS_WATCH_H
#define SOCKBENCH_ALL_NETNS_WATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct watch_record {
	__u64 cookie;      /* socket cookie (TIME_WAIT keeps the full socket's) */
	__u64 netns;       /* net_cookie of the socket's namespace */
	__s32 netns_refs;  /* that namespace's refcount while the program ran */
	__u16 lport;       /* local port, host order */
	__u8 state;        /* TCP_* state (UDP: 1 connected, 7 unconnected) */
	__u8 family;       /* AF_INET or AF_INET6 */
};

#define WATCH_RECORD_SIZE 24

#endif
