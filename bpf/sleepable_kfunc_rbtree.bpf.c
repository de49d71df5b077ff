// SPDX-License-Identifier: GPL-2.0
/* sleepable_kfunc, rbtree index: one bpf_rb_root of every indexed socket,
 * ordered by (backend, netns cookie, socket cookie), so that a backend's
 * sockets are a range. A pass finds, under the lock, the first node after
 * the last one it saw; if the node's netns is in scope it takes the node
 * out, drops the lock and destroys the socket. O(log n) per node of the
 * backend, whatever else the tree holds, and nothing to step over.
 *
 * Insertion runs in fexit (tracing programs have bpf_obj_new() and the
 * rbtree kfuncs); removal in cgroup/sock_release, which needs the
 * sleepable series' patch that gives cgroup sock programs those kfuncs
 * (fexit may not bpf_obj_drop() a node: it can run in NMI context).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sleepable_index.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))

extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *obj, void *meta) __ksym;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       bool (less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta, __u64 off) __ksym;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root,
					     struct bpf_rb_node *node) __ksym;
extern struct bpf_rb_node *bpf_rbtree_root(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_left(struct bpf_rb_root *root,
					   struct bpf_rb_node *node) __ksym;
extern struct bpf_rb_node *bpf_rbtree_right(struct bpf_rb_root *root,
					    struct bpf_rb_node *node) __ksym;

/* The node keeps its key and entry as 64-bit words: the verifier checks
 * every load from an allocated object against the member it falls in, and
 * clang copies these structs in 8-byte loads that span their small members.
 */
#define SB_KEY_WORDS (sizeof(struct sb_backend_key) / 8)
#define SB_ENTRY_WORDS (sizeof(struct sb_sk_entry) / 8)
#define SB_NETNS_WORD (__builtin_offsetof(struct sb_sk_entry, netns_cookie) / 8)
#define SB_COOKIE_WORD (__builtin_offsetof(struct sb_sk_entry, sk_cookie) / 8)
_Static_assert(sizeof(struct sb_backend_key) % 8 == 0, "key in words");
_Static_assert(sizeof(struct sb_sk_entry) % 8 == 0, "entry in words");

struct sb_sk_node {
	struct bpf_rb_node node;
	__u64 key[SB_KEY_WORDS];
	__u64 e[SB_ENTRY_WORDS];
};

struct sb_tree {
	struct bpf_spin_lock lock;
	struct bpf_rb_root root __contains(sb_sk_node, node);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_tree);
} sb_tree_map SEC(".maps");

/* may_goto (the kernel's can_loop, written out for clang 14, which has no
 * may_goto mnemonic): a loop the verifier checks until its states converge,
 * instead of walking every iteration of a counted loop, whose paths multiply
 * with the tree's depth. The kernel bounds how often it may loop.
 */
#define sb_can_loop							\
	({ __label__ l_break, l_continue;				\
	bool ret = true;						\
	asm volatile goto("1:.byte 0xe5;				\
		      .byte 0;						\
		      .long ((%l[l_break] - 1b - 8) / 8) & 0xffff;	\
		      .short 0"						\
		      :::: l_break);					\
	goto l_continue;						\
	l_break: ret = false;						\
	l_continue:;							\
	ret;								\
	})

__s64 sb_nodes;		/* nodes in the tree */

/* A position in the tree's order: (key words, netns cookie, socket cookie). */
struct sb_pos {
	__u64 key[SB_KEY_WORDS];
	__u64 netns_cookie;
	__u64 sk_cookie;
};

static __always_inline int sb_cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

/* Any total order does: a backend's nodes only need to be contiguous. */
static __always_inline int sb_key_cmp(const __u64 *a, const __u64 *b)
{
	for (int i = 0; i < SB_KEY_WORDS; i++)
		if (a[i] != b[i])
			return sb_cmp_u64(a[i], b[i]);
	return 0;
}

/* <0, 0, >0 as position p sorts before, at or after node n. */
static __always_inline int sb_pos_cmp(const struct sb_pos *p, const struct sb_sk_node *n)
{
	int c = sb_key_cmp(p->key, n->key);

	if (c)
		return c;
	if (p->netns_cookie != n->e[SB_NETNS_WORD])
		return sb_cmp_u64(p->netns_cookie, n->e[SB_NETNS_WORD]);
	return sb_cmp_u64(p->sk_cookie, n->e[SB_COOKIE_WORD]);
}

static __always_inline void sb_pos_of(struct sb_pos *p, const struct sb_sk_node *n)
{
	for (int i = 0; i < SB_KEY_WORDS; i++)
		p->key[i] = n->key[i];
	p->netns_cookie = n->e[SB_NETNS_WORD];
	p->sk_cookie = n->e[SB_COOKIE_WORD];
}

static __always_inline void sb_node_set(struct sb_sk_node *n, const struct sb_backend_key *key,
					const struct sb_sk_entry *e)
{
	const __u64 *k = (const __u64 *)key, *w = (const __u64 *)e;

	for (int i = 0; i < SB_KEY_WORDS; i++)
		n->key[i] = k[i];
	for (int i = 0; i < SB_ENTRY_WORDS; i++)
		n->e[i] = w[i];
}

static __always_inline void sb_node_entry(struct sb_sk_entry *e, const struct sb_sk_node *n)
{
	__u64 *w = (__u64 *)e;

	for (int i = 0; i < SB_ENTRY_WORDS; i++)
		w[i] = n->e[i];
}

static bool sb_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct sb_sk_node *na = container_of(a, struct sb_sk_node, node);
	struct sb_sk_node *nb = container_of(b, struct sb_sk_node, node);
	struct sb_pos p;

	sb_pos_of(&p, na);
	return sb_pos_cmp(&p, nb) < 0;
}

static __always_inline struct sb_tree *sb_tree(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sb_tree_map, &zero);
}

static __always_inline void sb_ref_pos(struct sb_pos *p, const struct sb_sock_ref *ref,
				       __u64 cookie)
{
	__builtin_memcpy(p->key, &ref->key, sizeof(p->key));
	p->netns_cookie = ref->netns_cookie;
	p->sk_cookie = cookie;
}

/* Under the lock: the node at exactly p, or NULL. */
static __always_inline struct bpf_rb_node *sb_find(struct sb_tree *t, const struct sb_pos *p)
{
	struct bpf_rb_node *rb = bpf_rbtree_root(&t->root);

	while (rb && sb_can_loop) {
		int c = sb_pos_cmp(p, container_of(rb, struct sb_sk_node, node));

		if (c == 0)
			return rb;
		rb = c < 0 ? bpf_rbtree_left(&t->root, rb) : bpf_rbtree_right(&t->root, rb);
	}
	return NULL;
}

/* Under the lock: the first node after p, or NULL. */
static __always_inline struct bpf_rb_node *sb_next(struct sb_tree *t, const struct sb_pos *p)
{
	struct bpf_rb_node *rb = bpf_rbtree_root(&t->root), *best = NULL;

	while (rb && sb_can_loop) {
		if (sb_pos_cmp(p, container_of(rb, struct sb_sk_node, node)) < 0) {
			best = rb;
			rb = bpf_rbtree_left(&t->root, rb);
		} else {
			rb = bpf_rbtree_right(&t->root, rb);
		}
	}
	return best;
}

static int sb_index_insert(struct sb_sock_ref *ref, struct sb_sk_entry *e)
{
	struct sb_tree *t = sb_tree();
	struct sb_sk_node *n;

	if (!t)
		return -2; /* -ENOENT */
	n = bpf_obj_new_impl(bpf_core_type_id_local(struct sb_sk_node), NULL);
	if (!n)
		return -12; /* -ENOMEM */
	sb_node_set(n, &ref->key, e);
	bpf_spin_lock(&t->lock);
	bpf_rbtree_add_impl(&t->root, &n->node, sb_less, NULL, 0);
	bpf_spin_unlock(&t->lock);
	__sync_fetch_and_add(&sb_nodes, 1);
	return 0;
}

static void sb_index_remove(const struct sb_sock_ref *ref, __u64 cookie)
{
	struct bpf_rb_node *rb = NULL;
	struct sb_tree *t = sb_tree();
	struct sb_pos p;

	if (!t)
		return;
	sb_ref_pos(&p, ref, cookie);
	bpf_spin_lock(&t->lock);
	rb = sb_find(t, &p);
	if (rb)
		rb = bpf_rbtree_remove(&t->root, rb);
	bpf_spin_unlock(&t->lock);
	if (rb) {
		__sync_fetch_and_add(&sb_nodes, -1);
		bpf_obj_drop_impl(container_of(rb, struct sb_sk_node, node), NULL);
	}
}

/* Re-key the socket's node in place: fexit may not free a node, but it may
 * take one out and put it back.
 */
static int sb_index_move(const struct sb_sock_ref *old, struct sb_sock_ref *ref,
			 struct sb_sk_entry *e)
{
	struct sb_tree *t = sb_tree();
	struct bpf_rb_node *rb;
	bool moved = false;
	struct sb_pos p;

	if (!t)
		return -2;
	sb_ref_pos(&p, old, e->sk_cookie);
	bpf_spin_lock(&t->lock);
	rb = sb_find(t, &p);
	if (rb)
		rb = bpf_rbtree_remove(&t->root, rb);
	if (rb) {
		struct sb_sk_node *n = container_of(rb, struct sb_sk_node, node);

		sb_node_set(n, &ref->key, e);
		bpf_rbtree_add_impl(&t->root, &n->node, sb_less, NULL, 0);
		moved = true;
	}
	bpf_spin_unlock(&t->lock);
	return moved ? 0 : sb_index_insert(ref, e);
}

SEC("syscall")
int sb_destroy_backend(struct sb_destroy_args *args)
{
	struct sb_tree *t = sb_tree();
	struct bpf_iter_num it;
	struct sb_backend_key backend = args->backend;
	struct sb_pos pos = {};

	if (!t)
		return 0;
	__builtin_memcpy(pos.key, &backend, sizeof(pos.key));
	/* (backend, 0, 0) sorts before every node of the backend. */
	bpf_iter_num_new(&it, 0, SB_SK_MAX);
	while (bpf_iter_num_next(&it)) {
		struct bpf_rb_node *rb;
		struct sb_sk_entry e;
		bool of_backend;

		bpf_spin_lock(&t->lock);
		rb = sb_next(t, &pos);
		of_backend = false;
		if (rb) {
			struct sb_sk_node *n = container_of(rb, struct sb_sk_node, node);

			of_backend = sb_key_cmp(n->key, (const __u64 *)&backend) == 0;
			sb_pos_of(&pos, n);
			sb_node_entry(&e, n);
		}
		bpf_spin_unlock(&t->lock);
		if (!of_backend)
			break;
		sb_walk.entries++;
		if (!sb_in_scope(e.netns_cookie)) {
			sb_walk.out_of_scope++;
			continue;
		}
		/* Take it out; it may have gone (closed) since the lock dropped. */
		bpf_spin_lock(&t->lock);
		rb = sb_find(t, &pos);
		if (rb)
			rb = bpf_rbtree_remove(&t->root, rb);
		bpf_spin_unlock(&t->lock);
		if (!rb)
			continue;
		__sync_fetch_and_add(&sb_nodes, -1);
		bpf_obj_drop_impl(container_of(rb, struct sb_sk_node, node), NULL);
		sb_destroy_entry(&e);
	}
	bpf_iter_num_destroy(&it);
	return 0;
}
