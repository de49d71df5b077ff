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

/* The operations on either map, by key and value (the v4 and v6 maps
 * differ only in their types). Values are whole 32-bit words.
 */
static __always_inline bool leak_same_words(const __u32 *a, const __u32 *b, __u32 words)
{
	for (__u32 i = 0; i < words; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Like Cilium's sock4_update_revnat: write only when absent or changed, so
 * a busy unconnected socket does not rewrite its entry on every sendmsg.
 */
static __always_inline void leak_rev_update(void *map, const void *key, const void *vip,
					    __u32 vip_size)
{
	const void *old = bpf_map_lookup_elem(map, key);

	if (old && leak_same_words(old, vip, vip_size / 4))
		return;
	if (bpf_map_update_elem(map, key, vip, BPF_ANY)) {
		LEAK_COUNT(insert_failed);
		return;
	}
	if (!old)
		LEAK_COUNT(inserted);
}

static __always_inline int leak_rev_lookup(void *map, const void *key, void *vip, __u32 vip_size)
{
	const void *v = bpf_map_lookup_elem(map, key);

	if (!v)
		return -1;
	__builtin_memcpy(vip, v, vip_size);
	return 0;
}

static __always_inline void leak_rev_delete(void *map, const void *key)
{
	if (!bpf_map_delete_elem(map, key))
		LEAK_COUNT(deleted);
}

_Static_assert(sizeof(struct leak_rev4_val) % 4 == 0, "compared in words");
_Static_assert(sizeof(struct leak_rev6_val) % 4 == 0, "compared in words");

static __always_inline void leak_rev4_update(__u64 cookie, __be32 addr, __be16 port,
					     const struct leak_rev4_val *vip)
{
	struct leak_rev4_key key;

	leak_rev4_key_of(&key, cookie, addr, port);
	leak_rev_update(&leak_rev4, &key, vip, sizeof(*vip));
}

static __always_inline void leak_rev6_update(__u64 cookie, const __u32 *addr, __be16 port,
					     const struct leak_rev6_val *vip)
{
	struct leak_rev6_key key;

	leak_rev6_key_of(&key, cookie, addr, port);
	leak_rev_update(&leak_rev6, &key, vip, sizeof(*vip));
}

static __always_inline void leak_rev4_delete(__u64 cookie, __be32 addr, __be16 port)
{
	struct leak_rev4_key key;

	leak_rev4_key_of(&key, cookie, addr, port);
	leak_rev_delete(&leak_rev4, &key);
}

static __always_inline void leak_rev6_delete(__u64 cookie, const __u32 *addr, __be16 port)
{
	struct leak_rev6_key key;

	leak_rev6_key_of(&key, cookie, addr, port);
	leak_rev_delete(&leak_rev6, &key);
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
	struct leak_rev4_key key;

	leak_rev4_key_of(&key, cookie, addr, port);
	return leak_rev_lookup(&leak_rev4, &key, vip, sizeof(*vip));
}

static __always_inline int leak_recall6(struct bpf_sock_addr *ctx, __u64 cookie,
					const __u32 *addr, __be16 port,
					struct leak_rev6_val *vip)
{
	struct leak_rev6_key key;

	leak_rev6_key_of(&key, cookie, addr, port);
	return leak_rev_lookup(&leak_rev6, &key, vip, sizeof(*vip));
}

#endif
