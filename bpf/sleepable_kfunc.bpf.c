// SPDX-License-Identifier: GPL-2.0
/* sleepable_kfunc, hash index: one hash map keyed by (backend, slot). Each
 * backend numbers its sockets as they connect; a pass walks the backend's
 * slots 0..next from an open-coded loop. A hash has no order to walk and
 * its own walk (bpf_for_each_map_elem()) calls back under rcu_read_lock(),
 * where bpf_sock_destroy_might_sleep() is refused: hence the slots. The
 * price is that a pass also steps over the slots of sockets that have
 * closed since the backend's first connect (holes).
 *
 * Needs sockbench's sleepable series (kernel/patches/sleepable); without
 * its kfuncs libbpf cannot resolve them and the load fails: the probe's
 * answer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sleepable_index.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct sb_slot_key {
	struct sb_backend_key key;
	__u32 slot;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SB_SK_MAX);
	__type(key, struct sb_slot_key);
	__type(value, struct sb_sk_entry);
} sb_slots SEC(".maps");

/* Per backend: the next slot to hand out. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SB_MAX_BACKENDS);
	__type(key, struct sb_backend_key);
	__type(value, __u32);
} sb_next_slot SEC(".maps");

static int sb_index_insert(struct sb_sock_ref *ref, struct sb_sk_entry *e)
{
	struct sb_slot_key k = { .key = ref->key };
	__u32 zero = 0, *next;

	next = bpf_map_lookup_elem(&sb_next_slot, &ref->key);
	if (!next) {
		bpf_map_update_elem(&sb_next_slot, &ref->key, &zero, BPF_NOEXIST);
		next = bpf_map_lookup_elem(&sb_next_slot, &ref->key);
		if (!next)
			return -12; /* -ENOMEM */
	}
	k.slot = __sync_fetch_and_add(next, 1);
	ref->slot = k.slot;
	return bpf_map_update_elem(&sb_slots, &k, e, BPF_NOEXIST);
}

static void sb_index_remove(const struct sb_sock_ref *ref, __u64 cookie)
{
	struct sb_slot_key k = { .key = ref->key, .slot = ref->slot };

	bpf_map_delete_elem(&sb_slots, &k);
}

static int sb_index_move(const struct sb_sock_ref *old, struct sb_sock_ref *ref,
			 struct sb_sk_entry *e)
{
	sb_index_remove(old, e->sk_cookie);
	return sb_index_insert(ref, e);
}

SEC("syscall")
int sb_destroy_backend(struct sb_destroy_args *args)
{
	struct sb_slot_key k = { .key = args->backend };
	struct bpf_iter_num it;
	struct sb_sk_entry e;
	__u32 *next, n;
	int *i;

	next = bpf_map_lookup_elem(&sb_next_slot, &k.key);
	if (!next)
		return 0;
	n = *next;
	if (n > SB_SK_MAX)
		n = SB_SK_MAX;
	bpf_iter_num_new(&it, 0, n);
	while ((i = bpf_iter_num_next(&it))) {
		struct sb_sk_entry *v;

		k.slot = *i;
		v = bpf_map_lookup_elem(&sb_slots, &k);
		if (!v) {
			sb_walk.holes++;
			continue;
		}
		sb_walk.entries++;
		if (!sb_in_scope(v->netns_cookie)) {
			sb_walk.out_of_scope++;
			continue;
		}
		e = *v;
		bpf_map_delete_elem(&sb_slots, &k);
		sb_destroy_entry(&e);
	}
	bpf_iter_num_destroy(&it);
	return 0;
}
