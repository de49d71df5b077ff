// SPDX-License-Identifier: GPL-2.0
/* sleepable_kfunc (the BPF maintainers' suggestion): a sleepable
 * SEC("syscall") program, run with BPF_PROG_TEST_RUN, looks sockets up by
 * cookie from a generic map and calls a destroy kfunc that takes the socket
 * lock itself. Stock kernels have no such kfunc, so libbpf cannot resolve it
 * in the kernel BTF and the load fails: the probe's answer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sockbench_target.h"

char LICENSE[] SEC("license") = "GPL";

/* Proposed kfunc: destroy the socket with this cookie in the netns with this
 * cookie; may sleep (takes lock_sock()). */
extern int bpf_sock_destroy_might_sleep(__u64 netns_cookie, __u64 sk_cookie) __ksym;

struct sb_victim {
	__u64 netns_cookie;
	__u64 sk_cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 16);
	__type(key, __u32);
	__type(value, struct sb_victim);
} sb_victims SEC(".maps");

__u32 sb_n_victims;
struct sb_counters sb_counters;

SEC("syscall")
int destroy_victims(void *ctx)
{
	for (__u32 i = 0; i < 1 << 16 && i < sb_n_victims; i++) {
		struct sb_victim *v = bpf_map_lookup_elem(&sb_victims, &i);
		int err;

		if (!v)
			break;
		sb_counters.visited++;
		err = bpf_sock_destroy_might_sleep(v->netns_cookie, v->sk_cookie);
		if (err) {
			sb_counters.failed++;
			sb_counters.last_error = err;
		} else {
			sb_counters.destroyed++;
		}
	}
	return 0;
}
