/* Socket load balancing in the shape of Cilium's bpf_sock.c, shared by the
 * three reverse-NAT strategies of the leak study:
 *
 *   cgroup/connect4/6, cgroup/sendmsg4/6    VIP:port -> backend, remember it
 *   cgroup/recvmsg4/6, cgroup/getpeername4/6 backend -> VIP:port, if remembered
 *   cgroup/sock_release                      forget
 *
 * Only "remember", "recall" and "forget" differ between strategies; each
 * strategy's .bpf.c defines them (prototypes below) and includes this file,
 * so every strategy is one independent object with its own maps.
 */
#ifndef LEAK_LB_BPF_H
#define LEAK_LB_BPF_H

#include <bpf/bpf_helpers.h>
#include "leak_types.h"
#include "sb_constants.h"

#define LEAK_PROCEED 1

char LICENSE[] SEC("license") = "GPL";

/* Filled by userspace after load: VIP -> backend. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LEAK_MAX_SERVICES);
	__type(key, struct leak_svc_key);
	__type(value, struct leak_backend);
} leak_services SEC(".maps");

/* Translate only inside sockbench's own namespace: the programs sit on a
 * cgroup, and a cgroup spans namespaces. 0 means every namespace.
 */
const volatile __u64 leak_netns_cookie = 0;

struct leak_counters leak_counters = {};

#define LEAK_COUNT(field) __sync_fetch_and_add(&leak_counters.field, 1)

/* The strategy's part. */
static __always_inline void leak_remember4(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev4_val *vip);
static __always_inline int leak_recall4(struct bpf_sock_addr *ctx, __u64 cookie,
					__be32 addr, __be16 port,
					struct leak_rev4_val *vip);
static __always_inline void leak_remember6(struct bpf_sock_addr *ctx, __u64 cookie,
					   const struct leak_backend *be,
					   const struct leak_rev6_val *vip);
static __always_inline int leak_recall6(struct bpf_sock_addr *ctx, __u64 cookie,
					const __u32 *addr, __be16 port,
					struct leak_rev6_val *vip);
static __always_inline void leak_forget(struct bpf_sock *ctx, __u64 cookie);

static __always_inline bool leak_in_scope(struct bpf_sock_addr *ctx)
{
	return !leak_netns_cookie || bpf_get_netns_cookie(ctx) == leak_netns_cookie;
}

static __always_inline int leak_xlate_fwd4(struct bpf_sock_addr *ctx)
{
	struct leak_svc_key key = {};
	struct leak_rev4_val vip = {};
	const struct leak_backend *be;

	if (!leak_in_scope(ctx))
		return LEAK_PROCEED;
	key.addr[0] = ctx->user_ip4;
	key.port = (__be16)ctx->user_port;
	key.family = SB_AF_INET;
	key.proto = (__u8)ctx->protocol;
	be = bpf_map_lookup_elem(&leak_services, &key);
	if (!be)
		return LEAK_PROCEED;
	vip.address = key.addr[0];
	vip.port = key.port;
	vip.rev_nat_index = be->rev_nat_index;
	leak_remember4(ctx, bpf_get_socket_cookie(ctx), be, &vip);
	ctx->user_ip4 = be->addr[0];
	ctx->user_port = (__u32)be->port;
	LEAK_COUNT(forward);
	return LEAK_PROCEED;
}

static __always_inline int leak_xlate_fwd6(struct bpf_sock_addr *ctx)
{
	struct leak_svc_key key = {};
	struct leak_rev6_val vip = {};
	const struct leak_backend *be;

	if (!leak_in_scope(ctx))
		return LEAK_PROCEED;
	key.addr[0] = ctx->user_ip6[0];
	key.addr[1] = ctx->user_ip6[1];
	key.addr[2] = ctx->user_ip6[2];
	key.addr[3] = ctx->user_ip6[3];
	key.port = (__be16)ctx->user_port;
	key.family = SB_AF_INET6;
	key.proto = (__u8)ctx->protocol;
	be = bpf_map_lookup_elem(&leak_services, &key);
	if (!be)
		return LEAK_PROCEED;
	__builtin_memcpy(vip.address, key.addr, sizeof(vip.address));
	vip.port = key.port;
	vip.rev_nat_index = be->rev_nat_index;
	leak_remember6(ctx, bpf_get_socket_cookie(ctx), be, &vip);
	ctx->user_ip6[0] = be->addr[0];
	ctx->user_ip6[1] = be->addr[1];
	ctx->user_ip6[2] = be->addr[2];
	ctx->user_ip6[3] = be->addr[3];
	ctx->user_port = (__u32)be->port;
	LEAK_COUNT(forward);
	return LEAK_PROCEED;
}

static __always_inline int leak_xlate_rev4(struct bpf_sock_addr *ctx)
{
	struct leak_rev4_val vip = {};
	__be32 addr;
	__be16 port;

	if (!leak_in_scope(ctx))
		return LEAK_PROCEED;
	addr = ctx->user_ip4;
	port = (__be16)ctx->user_port;
	if (leak_recall4(ctx, bpf_get_socket_cookie(ctx), addr, port, &vip))
		return LEAK_PROCEED;
	ctx->user_ip4 = vip.address;
	ctx->user_port = (__u32)vip.port;
	LEAK_COUNT(reverse);
	return LEAK_PROCEED;
}

static __always_inline int leak_xlate_rev6(struct bpf_sock_addr *ctx)
{
	struct leak_rev6_val vip = {};
	__u32 addr[4];
	__be16 port;

	if (!leak_in_scope(ctx))
		return LEAK_PROCEED;
	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
	port = (__be16)ctx->user_port;
	if (leak_recall6(ctx, bpf_get_socket_cookie(ctx), addr, port, &vip))
		return LEAK_PROCEED;
	ctx->user_ip6[0] = vip.address[0];
	ctx->user_ip6[1] = vip.address[1];
	ctx->user_ip6[2] = vip.address[2];
	ctx->user_ip6[3] = vip.address[3];
	ctx->user_port = (__u32)vip.port;
	LEAK_COUNT(reverse);
	return LEAK_PROCEED;
}

SEC("cgroup/connect4")
int leak_connect4(struct bpf_sock_addr *ctx) { return leak_xlate_fwd4(ctx); }

SEC("cgroup/connect6")
int leak_connect6(struct bpf_sock_addr *ctx) { return leak_xlate_fwd6(ctx); }

/* Unconnected UDP only: the kernel skips this hook for a connected socket. */
SEC("cgroup/sendmsg4")
int leak_sendmsg4(struct bpf_sock_addr *ctx) { return leak_xlate_fwd4(ctx); }

SEC("cgroup/sendmsg6")
int leak_sendmsg6(struct bpf_sock_addr *ctx) { return leak_xlate_fwd6(ctx); }

SEC("cgroup/recvmsg4")
int leak_recvmsg4(struct bpf_sock_addr *ctx) { return leak_xlate_rev4(ctx); }

SEC("cgroup/recvmsg6")
int leak_recvmsg6(struct bpf_sock_addr *ctx) { return leak_xlate_rev6(ctx); }

SEC("cgroup/getpeername4")
int leak_getpeername4(struct bpf_sock_addr *ctx) { return leak_xlate_rev4(ctx); }

SEC("cgroup/getpeername6")
int leak_getpeername6(struct bpf_sock_addr *ctx) { return leak_xlate_rev6(ctx); }

/* Runs from inet_release() when the application closes the socket: after an
 * abort (SOCK_DESTROY, bpf_sock_destroy) a UDP socket's destination is
 * already zero here (__udp_disconnect); a TCP socket's is not.
 */
SEC("cgroup/sock_release")
int leak_sock_release(struct bpf_sock *ctx)
{
	leak_forget(ctx, bpf_get_socket_cookie(ctx));
	return 1;
}

#endif
