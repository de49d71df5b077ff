/* The namespace filter of the programs that see sockets of every namespace
 * (iter_all_netns, sockhash_bucket, sleepable_kfunc): a pass touches a
 * socket only if its namespace's cookie is in sb_netns, which userspace
 * fills with the namespaces the agent manages (harness/netns_filter.h).
 */
#ifndef SB_NETNS_FILTER_BPF_H
#define SB_NETNS_FILTER_BPF_H

#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} sb_netns SEC(".maps");

static __always_inline bool sb_netns_allowed(const struct sock_common *skc)
{
	__u64 cookie = skc->skc_net.net->net_cookie;

	return bpf_map_lookup_elem(&sb_netns, &cookie) != NULL;
}

#endif
