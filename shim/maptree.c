// SPDX-License-Identifier: MIT
/* Red-black tree of DMA mappings keyed by iova; see maptree.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "maptree.h"

/*
 * Red-black tree after CLRS, with t->nil as the black sentinel: its parent
 * is written during deletion, never its children or colour.
 */
#define NIL(t) (&(t)->nil)
#define BLACK ((uintptr_t)1)
#define PROT_SHIFT 1
#define LOW_BITS ((uintptr_t)7)

_Static_assert(_Alignof(struct mapping) >= 8, "low bits of the parent link");

static inline struct mapping *parent(const struct mapping *n)
{
	return (struct mapping *)(n->parent_bits & ~LOW_BITS);
}

static inline void set_parent(struct mapping *n, const struct mapping *p)
{
	n->parent_bits = (uintptr_t)p | (n->parent_bits & LOW_BITS);
}

static inline int is_black(const struct mapping *n)
{
	return n->parent_bits & BLACK;
}

static inline void set_black(struct mapping *n)
{
	n->parent_bits |= BLACK;
}

static inline void set_red(struct mapping *n)
{
	n->parent_bits &= ~BLACK;
}

static inline void copy_colour(struct mapping *to, const struct mapping *from)
{
	to->parent_bits = (to->parent_bits & ~BLACK) |
			  (from->parent_bits & BLACK);
}

void maptree_init(struct maptree *t)
{
	memset(t, 0, sizeof(*t));
	t->nil.parent_bits = BLACK;
	t->root = NIL(t);
}

void maptree_destroy(struct maptree *t)
{
	uint32_t c;

	for (c = 0; c < t->nchunks; c++)
		free(t->chunks[c]);
	free(t->chunks);
	maptree_init(t);
}

void maptree_clear(struct maptree *t)
{
	t->root = NIL(t);
	t->nil.parent_bits = BLACK;
	t->free_list = NULL;
	/* every chunk is free again: hand them out from the first */
	t->chunk_used = 0;
	t->nchunks_used = t->nchunks ? 1 : 0;
	t->count = 0;
}

size_t maptree_bytes(const struct maptree *t)
{
	return (size_t)t->chunks_cap * sizeof(*t->chunks) +
	       (size_t)t->nchunks * MAPTREE_CHUNK_NODES *
		       sizeof(struct mapping);
}

/* A node from fresh memory: the next unused one of a chunk, or a new chunk. */
static __attribute__((noinline)) struct mapping *
node_alloc_unused(struct maptree *t)
{
	struct mapping *chunk;

	if (t->nchunks_used && t->chunk_used < MAPTREE_CHUNK_NODES)
		return &t->chunks[t->nchunks_used - 1][t->chunk_used++];
	if (t->nchunks_used < t->nchunks) {
		/* a chunk kept by maptree_clear() */
		t->chunk_used = 1;
		return &t->chunks[t->nchunks_used++][0];
	}
	if (t->nchunks == t->chunks_cap) {
		uint32_t n = t->chunks_cap ? t->chunks_cap * 2 : 4;
		struct mapping **p = realloc(t->chunks, n * sizeof(*p));

		if (!p)
			return NULL;
		t->chunks = p;
		t->chunks_cap = n;
	}
	chunk = malloc(MAPTREE_CHUNK_NODES * sizeof(*chunk));
	if (!chunk)
		return NULL;
	t->chunks[t->nchunks++] = chunk;
	t->nchunks_used = t->nchunks;
	t->chunk_used = 1;
	return chunk;
}

static inline struct mapping *node_alloc(struct maptree *t)
{
	struct mapping *n = t->free_list;

	if (!n)
		return node_alloc_unused(t);
	t->free_list = n->left;
	return n;
}

static inline void node_free(struct maptree *t, struct mapping *n)
{
	n->left = t->free_list;
	t->free_list = n;
}

static void rotate_left(struct maptree *t, struct mapping *x)
{
	struct mapping *y = x->right, *xp = parent(x);

	x->right = y->left;
	if (y->left != NIL(t))
		set_parent(y->left, x);
	set_parent(y, xp);
	if (xp == NIL(t))
		t->root = y;
	else if (x == xp->left)
		xp->left = y;
	else
		xp->right = y;
	y->left = x;
	set_parent(x, y);
}

static void rotate_right(struct maptree *t, struct mapping *x)
{
	struct mapping *y = x->left, *xp = parent(x);

	x->left = y->right;
	if (y->right != NIL(t))
		set_parent(y->right, x);
	set_parent(y, xp);
	if (xp == NIL(t))
		t->root = y;
	else if (x == xp->right)
		xp->right = y;
	else
		xp->left = y;
	y->right = x;
	set_parent(x, y);
}

static void insert_fixup(struct maptree *t, struct mapping *z)
{
	struct mapping *p, *g, *y;

	while (!is_black(p = parent(z))) {
		g = parent(p);
		if (p == g->left) {
			y = g->right;
			if (!is_black(y)) {
				set_black(p);
				set_black(y);
				set_red(g);
				z = g;
				continue;
			}
			if (z == p->right) {
				z = p;
				rotate_left(t, z);
				p = parent(z);
				g = parent(p);
			}
			set_black(p);
			set_red(g);
			rotate_right(t, g);
		} else {
			y = g->left;
			if (!is_black(y)) {
				set_black(p);
				set_black(y);
				set_red(g);
				z = g;
				continue;
			}
			if (z == p->left) {
				z = p;
				rotate_right(t, z);
				p = parent(z);
				g = parent(p);
			}
			set_black(p);
			set_red(g);
			rotate_left(t, g);
		}
	}
	set_black(t->root);
}

/* A new red node for the mapping, linked under p on the side its key says. */
static inline int link_new(struct maptree *t, struct mapping *p,
			   uint64_t iova, uint64_t size, uint64_t vaddr,
			   uint8_t prot)
{
	struct mapping *n = node_alloc(t);

	if (!n)
		return -ENOMEM;
	n->iova = iova;
	n->size = size;
	n->vaddr = vaddr;
	n->dirty = NULL;
	n->left = n->right = NIL(t);
	n->parent_bits = (uintptr_t)p | (uintptr_t)(prot & 3) << PROT_SHIFT;
	if (p == NIL(t))
		t->root = n;
	else if (iova < p->iova)
		p->left = n;
	else
		p->right = n;
	/* a red child of a black parent, the common case, needs no fix-up */
	if (!is_black(p))
		insert_fixup(t, n);
	set_black(t->root);
	t->count++;
	return 0;
}

int maptree_insert(struct maptree *t, uint64_t iova, uint64_t size,
		   uint64_t vaddr, uint8_t prot)
{
	struct mapping *p = NIL(t), *x = t->root;

	while (x != NIL(t)) {
		p = x;
		x = iova < x->iova ? x->left : x->right;
	}
	return link_new(t, p, iova, size, vaddr, prot);
}

SHIM_HOT int maptree_insert_new(struct maptree *t, uint64_t iova,
				uint64_t size, uint64_t vaddr, uint8_t prot)
{
	const struct mapping *pred = NULL, *succ = NULL;
	struct mapping *p = NIL(t), *x = t->root;

	/* the last node we went right of precedes the new one, the last we
	 * went left of follows it: only those two can overlap it */
	while (x != NIL(t)) {
		p = x;
		if (iova < x->iova) {
			succ = x;
			x = x->left;
		} else {
			pred = x;
			x = x->right;
		}
	}
	if ((pred && (pred->iova == iova || iova < pred->iova + pred->size)) ||
	    (succ && succ->iova < iova + size))
		return -EEXIST;
	return link_new(t, p, iova, size, vaddr, prot);
}

SHIM_HOT const struct mapping *maptree_at(const struct maptree *t,
					  uint64_t iova)
{
	const struct mapping *n = t->root;

	while (n != NIL(t)) {
		if (iova == n->iova)
			return n;
		n = iova < n->iova ? n->left : n->right;
	}
	return NULL;
}

static inline void transplant(struct maptree *t, struct mapping *u,
			      struct mapping *v)
{
	struct mapping *up = parent(u);

	if (up == NIL(t))
		t->root = v;
	else if (u == up->left)
		up->left = v;
	else
		up->right = v;
	set_parent(v, up);
}

static void delete_fixup(struct maptree *t, struct mapping *x)
{
	struct mapping *p, *w;

	while (x != t->root && is_black(x)) {
		p = parent(x);
		if (x == p->left) {
			w = p->right;
			if (!is_black(w)) {
				set_black(w);
				set_red(p);
				rotate_left(t, p);
				w = p->right;
			}
			if (is_black(w->left) && is_black(w->right)) {
				set_red(w);
				x = p;
				continue;
			}
			if (is_black(w->right)) {
				set_black(w->left);
				set_red(w);
				rotate_right(t, w);
				w = p->right;
			}
			copy_colour(w, p);
			set_black(p);
			set_black(w->right);
			rotate_left(t, p);
		} else {
			w = p->left;
			if (!is_black(w)) {
				set_black(w);
				set_red(p);
				rotate_right(t, p);
				w = p->left;
			}
			if (is_black(w->right) && is_black(w->left)) {
				set_red(w);
				x = p;
				continue;
			}
			if (is_black(w->left)) {
				set_black(w->right);
				set_red(w);
				rotate_left(t, w);
				w = p->left;
			}
			copy_colour(w, p);
			set_black(p);
			set_black(w->left);
			rotate_right(t, p);
		}
		x = t->root;
	}
	set_black(x);
}

static SHIM_HOT void remove_node(struct maptree *t, struct mapping *z)
{
	struct mapping *y = z, *x;
	int y_black = is_black(z);

	if (z->left == NIL(t)) {
		x = z->right;
		transplant(t, z, z->right);
	} else if (z->right == NIL(t)) {
		x = z->left;
		transplant(t, z, z->left);
	} else {
		y = z->right;
		while (y->left != NIL(t))
			y = y->left;
		y_black = is_black(y);
		x = y->right;
		if (parent(y) == z) {
			set_parent(x, y);
		} else {
			transplant(t, y, y->right);
			y->right = z->right;
			set_parent(y->right, y);
		}
		transplant(t, z, y);
		y->left = z->left;
		set_parent(y->left, y);
		copy_colour(y, z);
	}
	if (y_black)
		delete_fixup(t, x);
	/* the sentinel stays black and childless; its parent is scratch */
	set_black(NIL(t));
	node_free(t, z);
	t->count--;
}

int maptree_remove(struct maptree *t, uint64_t iova)
{
	const struct mapping *m = maptree_at(t, iova);

	if (!m)
		return -ENOENT;
	remove_node(t, (struct mapping *)m);
	return 0;
}

SHIM_HOT void maptree_remove_mapping(struct maptree *t,
				     const struct mapping *m)
{
	remove_node(t, (struct mapping *)m);
}

/* Same overlap rule as type1's vfio_find_dma(), including its size-0 use. */
const struct mapping *maptree_find(const struct maptree *t, uint64_t start,
				   uint64_t size)
{
	const struct mapping *n = t->root;

	while (n != NIL(t)) {
		if (start + size <= n->iova)
			n = n->left;
		else if (start >= n->iova + n->size)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

const struct mapping *maptree_first_from(const struct maptree *t,
					 uint64_t start)
{
	const struct mapping *res = NULL, *n = t->root;

	while (n != NIL(t)) {
		if (start < n->iova + n->size) {
			res = n;
			if (start >= n->iova)
				break;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return res;
}

const struct mapping *maptree_next(const struct maptree *t,
				   const struct mapping *m)
{
	const struct mapping *res = NULL, *n = t->root;

	while (n != NIL(t)) {
		if (n->iova > m->iova) {
			res = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return res;
}
