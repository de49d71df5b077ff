/* sockhash_bucket: the sockhash key, shared by bpf/sockhash_bucket.bpf.c and
 * userspace (harness/approaches/sockhash_bucket.cc, tests).
 *
 * Key = {backend endpoint, socket cookie}. The map is created with
 * map_extra = SB_SOCKHASH_PREFIX_LEN (sockmap series 0006/0007, the RFC reproduction):
 * only the endpoint part chooses the bucket, so every socket connected to
 * one backend endpoint (TCP and UDP alike) sits in one bucket, and an
 * iterator link with that prefix visits that bucket alone.
 * Address and port in network order, as in struct sock_common.
 */
#ifndef SOCKHASH_BUCKET_H
#define SOCKHASH_BUCKET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct sb_sockhash_key {
	__u32 addr_be[4];	/* backend address; IPv4 uses addr_be[0] */
	__u16 port_be;		/* backend port */
	__u16 family;		/* AF_INET or AF_INET6 */
	__u32 pad;		/* zero: part of the prefix */
	__u64 cookie;		/* socket cookie: one key per socket */
};

/* offsetof(struct sb_sockhash_key, cookie): the bytes that pick the bucket */
#define SB_SOCKHASH_PREFIX_LEN 24

/* Default map size: the RFC's 1 << 20 (1M sockets, 1M buckets). */
#define SB_SOCKHASH_MAX_ENTRIES (1u << 20)

/* What the connect-time programs did (diagnostics, not timed). */
struct sb_index_counters {
	__u64 inserted;		/* sockets put into the sockhash */
	__u64 failed;		/* updates that returned an error */
	__s64 last_error;
};

#endif
