/* Types shared by the sleepable_kfunc programs (both index variants) and
 * userspace. The index records, per socket an agent translated, what the
 * syscall program needs to find it again with bpf_sk_lookup_connected():
 * its 4-tuple, as a packet from the backend would carry it, and its netns.
 */
#ifndef SOCKBENCH_SLEEPABLE_KFUNC_H
#define SOCKBENCH_SLEEPABLE_KFUNC_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h>
#include <linux/types.h>
#endif

/* The sockets of one backend: its address, port and protocol (a TCP and a
 * UDP service on one address and port are two backends). 8-byte aligned:
 * the rbtree variant reads it in 64-bit words.
 */
struct __attribute__((aligned(8))) sb_backend_key {
	__u16 family;		/* AF_INET or AF_INET6 */
	__u8 l4proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
	__u16 port_be;		/* network order */
	__u16 pad2;
	__u32 addr_be[4];	/* IPv4 uses addr_be[0] */
};

struct sb_sk_entry {
	struct bpf_sock_tuple tuple;	/* saddr/sport: the backend's */
	__u32 tuple_sz;			/* sizeof(tuple.ipv4) or (tuple.ipv6) */
	__u64 netns_cookie;
	__u64 sk_cookie;		/* the socket that connected */
	__u32 l4proto;
	__u32 pad;
};

/* Where a socket's entry is: the release side's key into the index. */
struct sb_sock_ref {
	struct sb_backend_key key;
	__u64 netns_cookie;
	__u32 slot;		/* hash variant: the entry's slot */
	__u32 pad;
};

/* BPF_PROG_TEST_RUN context: destroy the sockets of this backend in the
 * namespaces of the sb_netns map.
 */
struct sb_destroy_args {
	struct sb_backend_key backend;
};

/* The index as its connect and release programs kept it. */
struct sb_index_counters {
	__u64 inserted;		/* sockets added at connect */
	__u64 removed;		/* entries removed at release (socket closed) */
	__u64 popped;		/* entries taken by a destroy pass */
	__u64 replaced;		/* a connected UDP socket connected again */
	__u64 failed;		/* entries that could not be added */
	__s64 last_error;
};

/* What a destroy pass met on its way. */
struct sb_walk_counters {
	__u64 entries;		/* entries of the backend looked at */
	__u64 out_of_scope;	/* of those, in a namespace not asked for */
	__u64 holes;		/* hash variant: slots whose socket had gone */
	__u64 not_found;	/* no socket connected with that tuple */
	__u64 other_socket;	/* found a socket with another cookie */
};

/* Most sockets indexed at once (map sizes; a pass's loop bound). */
#define SB_SK_MAX (1 << 21)
/* Most backends the hash variant counts slots for. */
#define SB_MAX_BACKENDS 65536

#endif
