// SPDX-License-Identifier: GPL-2.0
/* sk_storage_iter: walk a BPF_MAP_TYPE_SK_STORAGE map (state an agent keeps
 * per connected socket anyway) and destroy the sockets whose stored backend
 * died. Stock kernels hold only RCU across show() and do not mark ctx->sk
 * trusted, so the verifier rejects bpf_sock_destroy(): the probe's answer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sb_match.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/bpf_sk_storage_map")
int destroy_stored(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	return sb_visit_shown((struct sock_common *)ctx->sk);
}
