/* The sockhash_bucket approach's map, shared with the test programs that
 * walk it (tests/bpf/sockmap_test.bpf.c): sockets keyed {backend endpoint,
 * cookie}. map_extra and max_entries are set by userspace before load.
 */
#ifndef SOCKHASH_BUCKET_MAP_BPF_H
#define SOCKHASH_BUCKET_MAP_BPF_H

#include <bpf/bpf_helpers.h>
#include "sockhash_bucket.h"

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SB_SOCKHASH_MAX_ENTRIES);
	__type(key, struct sb_sockhash_key);
	__type(value, __u64);
} sb_sockhash SEC(".maps");

#endif
