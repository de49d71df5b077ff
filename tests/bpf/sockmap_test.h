/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between tests/bpf/sockmap_test.bpf.c and its tests. */
#ifndef SOCKBENCH_SOCKMAP_TEST_H
#define SOCKBENCH_SOCKMAP_TEST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* What destroy_array saw. */
struct sb_array_counters {
	__u64 visited;		/* slots shown with a socket */
	__u64 empty;		/* slots shown without one */
	__u64 destroyed;
	__u64 failed;
	__s64 last_error;
};

#endif
