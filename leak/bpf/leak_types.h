/* Types shared by the reverse-NAT leak study's BPF objects and userspace
 * (libbpf-bootstrap style). The layouts of the LRU reverse map follow
 * Cilium's bpf/lib/sock.h (cilium_lb4_reverse_sk / cilium_lb6_reverse_sk),
 * so what leaks here is byte for byte what leaks there. Addresses and ports
 * are in network byte order, as struct bpf_sock_addr carries them.
 */
#ifndef LEAK_TYPES_H
#define LEAK_TYPES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LEAK_MAX_SERVICES 64
/* Matrix runs size the reverse maps far above the sockets they open, so an
 * LRU eviction can never pass for a cleanup.
 */
#define LEAK_DEFAULT_REVERSE_ENTRIES 65536
/* cookie_index: backends one socket may talk to (unconnected UDP can send
 * to several services) before its oldest association is dropped.
 */
#define LEAK_MAX_ASSOC 4

/* A service frontend: VIP, port and L4 protocol. */
struct leak_svc_key {
	__u32 addr[4];		/* IPv4 in addr[0] */
	__be16 port;
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

/* The one backend a service currently maps to. */
struct leak_backend {
	__u32 addr[4];
	__be16 port;
	__u16 rev_nat_index;
};

/* cilium_lb4_reverse_sk */
struct leak_rev4_key {
	__u64 cookie;
	__be32 address;		/* backend */
	__be16 port;
	__u16 pad;
};

struct leak_rev4_val {
	__be32 address;		/* VIP */
	__be16 port;
	__u16 rev_nat_index;
};

/* cilium_lb6_reverse_sk. The compiler pads Cilium's key to 32 bytes; the
 * padding is explicit here so that every byte of a hash key is written.
 */
struct leak_rev6_key {
	__u64 cookie;
	__u32 address[4];
	__be16 port;
	__u16 pad;
	__u32 pad2;
};

struct leak_rev6_val {
	__u32 address[4];
	__be16 port;
	__u16 rev_nat_index;
};

/* sk_storage: one entry per socket, freed by the kernel with the socket.
 * It remembers the backend too, so a datagram from anyone else is never
 * rewritten (Cilium's reverse_sk_v2 entry does the same).
 */
struct leak_sk_entry {
	__u32 family;
	__u32 vip[4];
	__be16 vip_port;
	__u16 rev_nat_index;
	__u32 backend[4];
	__be16 backend_port;
	__u16 pad;
};

/* cookie_index: what sock_release needs to find a socket's reverse entries
 * once the kernel has zeroed its destination.
 */
struct leak_assoc {
	__u32 addr[4];
	__be16 port;
	__u16 pad;
};

struct leak_cookie_entry {
	__u32 family;
	__u32 count;		/* associations ever recorded */
	struct leak_assoc assoc[LEAK_MAX_ASSOC];
};

/* Updated with atomic adds: hooks run on every CPU at once. */
struct leak_counters {
	__u64 forward;		/* connect/sendmsg rewritten VIP -> backend */
	__u64 inserted;		/* new reverse entries (sk_storage: storages created) */
	__u64 insert_failed;	/* reverse state could not be written */
	__u64 reverse;		/* recvmsg/getpeername rewritten backend -> VIP */
	__u64 deleted;		/* reverse entries deleted by sock_release
				 * (sk_storage: sockets released that had storage) */
	__u64 displaced;	/* cookie_index: entries dropped for a 5th backend */
};

#endif
