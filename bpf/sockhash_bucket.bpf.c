// SPDX-License-Identifier: GPL-2.0
/* sockhash_bucket (RFC "bpf: Efficient socket destruction"): sockets live in
 * a SOCKHASH keyed {backend addr, backend port, cookie}; a pass iterates only
 * the bucket of the dead backend's key prefix and destroys what it finds.
 * Stock kernels run the sockmap iterator under RCU without the socket lock
 * and do not mark ctx->sk trusted, so the verifier rejects
 * bpf_sock_destroy() here: that rejection is the probe's answer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sb_match.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/sockmap")
int destroy_bucket(struct bpf_iter__sockmap *ctx)
{
	struct sock *sk = ctx->sk;

	if (sk)
		sb_visit((struct sock_common *)sk);
	return 0;
}
