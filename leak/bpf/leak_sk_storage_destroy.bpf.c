// SPDX-License-Identifier: GPL-2.0
/* The sk_storage strategy's own map as the destruction approach's map: one
 * iter/bpf_sk_storage_map pass over the reverse-NAT entries (reused map fd)
 * destroys the sockets whose entry names the dying backend and that are
 * still connected to it, the way sk_storage_iter does over its own map
 * (bpf/sk_storage_iter.bpf.c). One map then serves both: the reverse NAT
 * that cannot leak, and the pass that finds the backend's sockets. Needs
 * sockbench's sk-storage kernel series (ctx->sk trusted).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sb_match.bpf.h"
#include "leak_sk_storage_map.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/bpf_sk_storage_map")
int leak_destroy_stored(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct leak_sk_entry *e = ctx->value;
	struct sock *sk = ctx->sk;

	if (!sk || !e)
		return 0;
	sb_counters.visited++;
	if (!sb_stored_backend_is_target(e->family, e->backend_port, e->backend))
		return 0;
	/* Unconnected UDP sockets have entries too (sendmsg): not a target. */
	if (sk->__sk_common.skc_state == SB_TCP_CLOSE || !sb_is_target(&sk->__sk_common))
		return 0;
	sb_destroy(&sk->__sk_common);
	return 0;
}
