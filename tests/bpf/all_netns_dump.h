/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between tests/bpf/all_netns_dump.bpf.c and
 * tests/kernel/iter_all_netns_test.cc: what the programs write per socket.
 * Only fixed-size types: the layout is checked on both sides.
 */
#ifndef SOCKBENCH_ALL_NETNS_DUMP_H
#define SOCKBENCH_ALL_NETNS_DUMP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* dump_*: one per socket shown. */
struct dump_record {
	__u64 cookie;	/* socket cookie */
	__u64 netns;	/* sk->__sk_common.skc_net.net->net_cookie */
	__u16 family;
	__u8 state;
	__u8 pad;
	__s32 bucket;	/* udp: the bucket of the table walked; tcp: -1 */
};

/* destroy_*: one per socket whose cookie is in sb_cookies. */
struct destroy_record {
	__u64 cookie;
	__s64 ret;	/* bpf_sock_destroy() */
};

#define DUMP_RECORD_SIZE 24
#define DESTROY_RECORD_SIZE 16

#endif
