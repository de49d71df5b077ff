/* Cilium's reverse-NAT maps (bpf/lib/sock.h): LRU hashes keyed by
 * {socket cookie, backend address, backend port}. Shared by addr_keyed and
 * cookie_index, which differ only in how sock_release finds the key.
 * Include after leak_lb.bpf.h.
 */
#ifndef LEAK_REV_LRU_BPF_H
#define LEAK_REV_LRU_BPF_H

/* Userspace resizes both (bpf_map__set_max_entries) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LEAK_DEFAULT_REVERSE_ENTRIES);
	__type(key, struct leak_rev4_key);
	__type(value, struct leak_rev4_val);
} leak_rev4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LEAK_DEFAULT_REVERSE_ENTRIES);
	__type(key, struct leak_rev6_key);
	__type(value, struct leak_rev6_val);
} leak_rev6 SEC(".maps");

static __always_inline void leak_rev4_key_of(struct leak_rev4_key *key, __u64 cookie,
					     __be32 addr, __be16 port)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->cookie = cookie;
	key->address = addr;
	key->port = port;
}

static __always_inline void leak_rev6_key_of(struct leak_rev6_key *key, __u64 cookie,
					     const __u32 *addr, __be16 port)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->cookie = cookie;
	key->address[0] = addr[0];
	key->address[1] = addr[1];
	key->address[2] = addr[2];
	key->address[3] = addr[3];
	key->port = port;
}

/* Like Cilium's sock4_update_revnat: write only when absent or changed, so
 * a busy unconnected socket does not rewrite its entry on every sendmsg.
 */
static __always_inline void leak_rev4_update(__u64 cookie, __be32 addr, __be16 port,
					     const struct leak_rev4_val *vip)
{
	struct leak_rev4_key key;
	struct leak_rev4_val *old;

	leak_rev4_key_of(&key, cookie, addr, port);
	old = bpf_map_lookup_elem(&leak_rev4, &key);
	if (old && old->address == vip->address && old->port == vip->port &&
	    old->rev_nat_index == vip->rev_nat_index)
		return;
	if (bpf_map_update_elem(&leak_rev4, &key, vip, BPF_ANY)) {
		LEAK_COUNT(insert_failed);
		return;
	}
	if (!old)
		LEAK_COUNT(inserted);
}

static __always_inline void leak_rev6_update(__u64 cookie, const __u32 *addr, __be16 port,
					     const struct leak_rev6_val *vip)
{
	struct leak_rev6_key key;
	struct leak_rev6_val *old;

	leak_rev6_key_of(&key, cookie, addr, port);
	old = bpf_map_lookup_elem(&leak_rev6, &key);
	if (old && old->address[0] == vip->address[0] && old->address[1] == vip->address[1] &&
	    old->address[2] == vip->address[2] && old->address[3] == vip->address[3] &&
	    old->port == vip->port && old->rev_nat_index == vip->rev_nat_index)
		return;
	if (bpf_map_update_elem(&leak_rev6, &key, vip, BPF_ANY)) {
		LEAK_COUNT(insert_failed);
		return;
	}
	if (!old)
		LEAK_COUNT(inserted);
}

static __always_inline int leak_rev4_lookup(__u64 cookie, __be32 addr, __be16 port,
					    struct leak_rev4_val *vip)
{
	struct leak_rev4_key key;
	struct leak_rev4_val *v;

	leak_rev4_key_of(&key, cookie, addr, port);
	v = bpf_map_lookup_elem(&leak_rev4, &key);
	if (!v)
		return -1;
	*vip = *v;
	return 0;
}

static __always_inline int leak_rev6_lookup(__u64 cookie, const __u32 *addr, __be16 port,
					    struct leak_rev6_val *vip)
{
	struct leak_rev6_key key;
	struct leak_rev6_val *v;

	leak_rev6_key_of(&key, cookie, addr, port);
	v = bpf_map_lookup_elem(&leak_rev6, &key);
	if (!v)
		return -1;
	*vip = *v;
	return 0;
}

static __always_inline void leak_rev4_delete(__u64 cookie, __be32 addr, __be16 port)
{
	struct leak_rev4_key key;

	leak_rev4_key_of(&key, cookie, addr, port);
	if (!bpf_map_delete_elem(&leak_rev4, &key))
		LEAK_COUNT(deleted);
}

static __always_inline void leak_rev6_delete(__u64 cookie, const __u32 *addr, __be16 port)
{
	struct leak_rev6_key key;

	leak_rev6_key_of(&key, cookie, addr, port);
	if (!bpf_map_delete_elem(&leak_rev6, &key))
		LEAK_COUNT(deleted);
}

/* Cilium's sock4_delete_revnat / sock6_delete_revnat: the key is rebuilt
 * from the socket's destination as it is now. Zeroed by a UDP abort, and
 * never set on an unconnected UDP socket: then this deletes nothing.
 */
static __always_inline void leak_rev_delete_by_dst(struct bpf_sock *ctx, __u64 cookie)
{
	__u32 addr[4];

	if (ctx->family == SB_AF_INET) {
		leak_rev4_delete(cookie, ctx->dst_ip4, ctx->dst_port);
	} else if (ctx->family == SB_AF_INET6) {
		addr[0] = ctx->dst_ip6[0];
		addr[1] = ctx->dst_ip6[1];
		addr[2] = ctx->dst_ip6[2];
		addr[3] = ctx->dst_ip6[3];
		leak_rev6_delete(cookie, addr, ctx->dst_port);
	}
}

/* Both LRU strategies recall from the reverse maps alone; they differ in
 * remember and forget only.
 */
static __always_inline int leak_recall4(struct bpf_sock_addr *ctx, __u64 cookie,
					__be32 addr, __be16 port,
					struct leak_rev4_val *vip)
{
	return leak_rev4_lookup(cookie, addr, port, vip);
}

static __always_inline int leak_recall6(struct bpf_sock_addr *ctx, __u64 cookie,
					const __u32 *addr, __be16 port,
					struct leak_rev6_val *vip)
{
	return leak_rev6_lookup(cookie, addr, port, vip);
}

#endif
