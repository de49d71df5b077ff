// SPDX-License-Identifier: GPL-2.0
/* Where bpf_sock_destroy() may be called: only from a socket iterator,
 * which holds the socket's lock while the program runs. Every approach of
 * sockbench relies on this; a hook that does not lock the socket must be
 * refused by the verifier, whatever the kernel's patches.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_expect.h"

char LICENSE[] SEC("license") = "GPL";

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

SEC("iter/tcp") __success
int destroy_from_iterator(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (skc)
		bpf_sock_destroy(skc);
	return 0;
}

/* The connect hook runs with the socket locked, but it is not a socket
 * iterator: the kfunc is not registered for its program type.
 */
SEC("cgroup/connect4") __failure __msg("calling kernel function bpf_sock_destroy is not allowed")
int destroy_from_connect(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;

	if (sk)
		bpf_sock_destroy((struct sock_common *)sk);
	return 1;
}

/* A tracing program like an iterator, but the socket is not locked: the
 * kfunc's filter admits iterators only.
 */
SEC("fentry/tcp_close") __failure __msg("calling kernel function bpf_sock_destroy is not allowed")
int BPF_PROG(destroy_from_fentry, struct sock *sk, long timeout)
{
	bpf_sock_destroy(&sk->__sk_common);
	return 0;
}
