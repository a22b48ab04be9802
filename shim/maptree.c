// SPDX-License-Identifier: MIT
/* Red-black tree of DMA mappings keyed by iova, linked by index; see maptree.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "maptree.h"

/*
 * Red-black tree after CLRS, with node 0 as the black sentinel: its parent
 * is written during deletion, never its children or colour. A link is the
 * node's byte offset in the array (see maptree.h): one add to follow it.
 */
#define NIL 0u
#define N(t, off) ((struct mapping *)((char *)(t)->nodes + (off)))
#define NODE_OFF(i) ((uint32_t)((i) * sizeof(struct mapping)))
/*
 * Every walk stops after MAPTREE_MAX_DEPTH steps: a sound tree is never that
 * deep, and one another process scribbled into a cycle must not hang us.
 */
#define DEPTH MAPTREE_MAX_DEPTH

_Static_assert(sizeof(struct mapping) == 48, "48 bytes a mapping");

static inline uint32_t idx(const struct maptree *t, const struct mapping *n)
{
	return (uint32_t)((const char *)n - (const char *)t->nodes);
}

static inline int is_black(const struct maptree *t, uint32_t i)
{
	return N(t, i)->bits & MAPPING_BLACK;
}

static inline void set_black(struct maptree *t, uint32_t i)
{
	N(t, i)->bits |= MAPPING_BLACK;
}

static inline void set_red(struct maptree *t, uint32_t i)
{
	N(t, i)->bits &= ~MAPPING_BLACK;
}

static inline void copy_colour(struct maptree *t, uint32_t to, uint32_t from)
{
	N(t, to)->bits = (N(t, to)->bits & ~MAPPING_BLACK) |
			 (N(t, from)->bits & MAPPING_BLACK);
}

static void sentinel(struct maptree *t)
{
	memset(N(t, NIL), 0, sizeof(struct mapping));
	N(t, NIL)->bits = MAPPING_BLACK;
}

void maptree_format(struct maptree *t)
{
	uint32_t cap = t->h->cap;

	memset(t->h, 0, sizeof(*t->h));
	t->h->cap = cap;
	t->h->used = 1;
	sentinel(t);
}

void maptree_view(struct maptree *t, struct maptree_head *h,
		  struct mapping *nodes, maptree_grow_fn grow, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->h = h;
	t->nodes = nodes;
	t->grow = grow;
	t->ctx = ctx;
}

/* A private tree's array: realloc (the tree is by index, it may move). */
static int grow_heap(struct maptree *t, uint32_t cap)
{
	struct mapping *p = realloc(t->nodes, (size_t)cap * sizeof(*p));

	if (!p)
		return -ENOMEM;
	t->nodes = p;
	t->h->cap = cap;
	return 0;
}

void maptree_init(struct maptree *t)
{
	memset(t, 0, sizeof(*t));
	t->h = &t->own;
	t->grow = grow_heap;
	/* a tree that cannot get its first nodes grows on its first insert */
	if (!grow_heap(t, MAPTREE_INIT_NODES))
		maptree_format(t);
}

void maptree_destroy(struct maptree *t)
{
	if (t->h == &t->own)
		free(t->nodes);
	memset(t, 0, sizeof(*t));
}

void maptree_clear(struct maptree *t)
{
	uint32_t cap = t->h->cap;

	/* the nodes stay: hand them out from the first again */
	if (cap)
		maptree_format(t);
}

size_t maptree_bytes(const struct maptree *t)
{
	return (size_t)t->h->cap * sizeof(struct mapping);
}

/* A node from fresh memory: the next unused one, the array grown if need be. */
static __attribute__((noinline)) uint32_t node_alloc_unused(struct maptree *t)
{
	struct maptree_head *h = t->h;

	if (!h->cap) {
		if (t->grow(t, MAPTREE_INIT_NODES))
			return NIL;
		maptree_format(t);
	}
	if (h->used == h->cap) {
		/*
		 * By a quarter: a mapping never costs more than 60 bytes with
		 * the slack. A link is 32 bits: the array stops short.
		 */
		if (h->cap >= MAPTREE_MAX_NODES ||
		    t->grow(t, h->cap + h->cap / 4))
			return NIL;
	}
	return NODE_OFF(h->used++);
}

static inline uint32_t node_alloc(struct maptree *t)
{
	uint32_t n = t->h->free;

	if (!n)
		return node_alloc_unused(t);
	t->h->free = N(t, n)->left;
	return n;
}

static inline void node_free(struct maptree *t, uint32_t n)
{
	N(t, n)->bits = 0;
	N(t, n)->left = t->h->free;
	t->h->free = n;
}

static void rotate_left(struct maptree *t, uint32_t x)
{
	uint32_t y = N(t, x)->right, xp = N(t, x)->parent;

	N(t, x)->right = N(t, y)->left;
	if (N(t, y)->left != NIL)
		N(t, N(t, y)->left)->parent = x;
	N(t, y)->parent = xp;
	if (xp == NIL)
		t->h->root = y;
	else if (x == N(t, xp)->left)
		N(t, xp)->left = y;
	else
		N(t, xp)->right = y;
	N(t, y)->left = x;
	N(t, x)->parent = y;
}

static void rotate_right(struct maptree *t, uint32_t x)
{
	uint32_t y = N(t, x)->left, xp = N(t, x)->parent;

	N(t, x)->left = N(t, y)->right;
	if (N(t, y)->right != NIL)
		N(t, N(t, y)->right)->parent = x;
	N(t, y)->parent = xp;
	if (xp == NIL)
		t->h->root = y;
	else if (x == N(t, xp)->right)
		N(t, xp)->right = y;
	else
		N(t, xp)->left = y;
	N(t, y)->right = x;
	N(t, x)->parent = y;
}

static void insert_fixup(struct maptree *t, uint32_t z)
{
	uint32_t p, g, y, steps = DEPTH;

	while (!is_black(t, p = N(t, z)->parent) && steps--) {
		g = N(t, p)->parent;
		if (p == N(t, g)->left) {
			y = N(t, g)->right;
			if (!is_black(t, y)) {
				set_black(t, p);
				set_black(t, y);
				set_red(t, g);
				z = g;
				continue;
			}
			if (z == N(t, p)->right) {
				z = p;
				rotate_left(t, z);
				p = N(t, z)->parent;
				g = N(t, p)->parent;
			}
			set_black(t, p);
			set_red(t, g);
			rotate_right(t, g);
		} else {
			y = N(t, g)->left;
			if (!is_black(t, y)) {
				set_black(t, p);
				set_black(t, y);
				set_red(t, g);
				z = g;
				continue;
			}
			if (z == N(t, p)->left) {
				z = p;
				rotate_right(t, z);
				p = N(t, z)->parent;
				g = N(t, p)->parent;
			}
			set_black(t, p);
			set_red(t, g);
			rotate_left(t, g);
		}
	}
	set_black(t, t->h->root);
}

/* Link node n (its key set, red, childless) under p on the side its key says. */
static inline void link_node(struct maptree *t, uint32_t p, uint32_t n)
{
	struct mapping *m = N(t, n);

	m->parent = p;
	if (p == NIL) {
		t->h->root = n;
		set_black(t, n);
	} else {
		if (m->iova < N(t, p)->iova)
			N(t, p)->left = n;
		else
			N(t, p)->right = n;
		/* a red child of a black parent, the common case, needs no
		 * fix-up; the fix-up leaves the root black */
		if (!is_black(t, p))
			insert_fixup(t, n);
	}
	t->h->count++;
}

/*
 * A new red node for the mapping under p. It is marked live before it is
 * linked: a holder that dies from here on leaves a node the rebuild keeps.
 */
static inline int link_new(struct maptree *t, uint32_t p, uint64_t iova,
			   uint64_t size, uint64_t vaddr, uint8_t prot)
{
	uint32_t n = node_alloc(t);
	struct mapping *m;

	if (!n)
		return -ENOMEM;
	m = N(t, n);
	m->iova = iova;
	m->size = size;
	m->vaddr = vaddr;
	m->left = m->right = NIL;
	m->serial = ++t->h->serial;
	m->bits = MAPPING_LIVE | (uint32_t)(prot & 3) << MAPPING_PROT_SHIFT;
	link_node(t, p, n);
	return 0;
}

int maptree_insert(struct maptree *t, uint64_t iova, uint64_t size,
		   uint64_t vaddr, uint8_t prot)
{
	uint32_t p = NIL, x = t->h->root, steps = DEPTH;

	while (x != NIL) {
		if (!steps--)
			return -EUCLEAN;
		p = x;
		x = iova < N(t, x)->iova ? N(t, x)->left : N(t, x)->right;
	}
	return link_new(t, p, iova, size, vaddr, prot);
}

SHIM_HOT int maptree_insert_new(struct maptree *t, uint64_t iova,
				uint64_t size, uint64_t vaddr, uint8_t prot)
{
	const struct mapping *pred = NULL, *succ = NULL;
	uint32_t p = NIL, x = t->h->root, steps = DEPTH / 2;

	/* the last node we went right of precedes the new one, the last we
	 * went left of follows it: only those two can overlap it; two levels
	 * a step, so the bound costs half */
	while (x != NIL) {
		const struct mapping *n = N(t, x);

		if (unlikely(!steps--))
			return -EEXIST;	/* not sound: the kernel decides */
		p = x;
		if (iova < n->iova) {
			succ = n;
			x = n->left;
		} else {
			pred = n;
			x = n->right;
		}
		if (x == NIL)
			break;
		n = N(t, x);
		p = x;
		if (iova < n->iova) {
			succ = n;
			x = n->left;
		} else {
			pred = n;
			x = n->right;
		}
	}
	if ((pred && (pred->iova == iova || iova < pred->iova + pred->size)) ||
	    (succ && succ->iova < iova + size))
		return -EEXIST;
	return link_new(t, p, iova, size, vaddr, prot);
}

static inline void transplant(struct maptree *t, uint32_t u, uint32_t v)
{
	uint32_t up = N(t, u)->parent;

	if (up == NIL)
		t->h->root = v;
	else if (u == N(t, up)->left)
		N(t, up)->left = v;
	else
		N(t, up)->right = v;
	N(t, v)->parent = up;
}

static void delete_fixup(struct maptree *t, uint32_t x)
{
	uint32_t p, w, steps = DEPTH;

	while (x != t->h->root && is_black(t, x) && steps--) {
		p = N(t, x)->parent;
		if (x == N(t, p)->left) {
			w = N(t, p)->right;
			if (!is_black(t, w)) {
				set_black(t, w);
				set_red(t, p);
				rotate_left(t, p);
				w = N(t, p)->right;
			}
			if (is_black(t, N(t, w)->left) &&
			    is_black(t, N(t, w)->right)) {
				set_red(t, w);
				x = p;
				continue;
			}
			if (is_black(t, N(t, w)->right)) {
				set_black(t, N(t, w)->left);
				set_red(t, w);
				rotate_right(t, w);
				w = N(t, p)->right;
			}
			copy_colour(t, w, p);
			set_black(t, p);
			set_black(t, N(t, w)->right);
			rotate_left(t, p);
		} else {
			w = N(t, p)->left;
			if (!is_black(t, w)) {
				set_black(t, w);
				set_red(t, p);
				rotate_right(t, p);
				w = N(t, p)->left;
			}
			if (is_black(t, N(t, w)->right) &&
			    is_black(t, N(t, w)->left)) {
				set_red(t, w);
				x = p;
				continue;
			}
			if (is_black(t, N(t, w)->left)) {
				set_black(t, N(t, w)->right);
				set_red(t, w);
				rotate_left(t, w);
				w = N(t, p)->left;
			}
			copy_colour(t, w, p);
			set_black(t, p);
			set_black(t, N(t, w)->left);
			rotate_right(t, p);
		}
		x = t->h->root;
	}
	set_black(t, x);
}

/* Not live first: a holder that dies from here on leaves it dropped. */
static inline __attribute__((always_inline)) void remove_node(struct maptree *t,
							      uint32_t z)
{
	uint32_t y = z, x;
	int y_black = is_black(t, z);

	N(t, z)->bits &= ~MAPPING_LIVE;
	if (N(t, z)->left == NIL) {
		x = N(t, z)->right;
		transplant(t, z, x);
	} else if (N(t, z)->right == NIL) {
		x = N(t, z)->left;
		transplant(t, z, x);
	} else {
		uint32_t steps = DEPTH;

		y = N(t, z)->right;
		while (N(t, y)->left != NIL && steps--)
			y = N(t, y)->left;
		y_black = is_black(t, y);
		x = N(t, y)->right;
		if (N(t, y)->parent == z) {
			N(t, x)->parent = y;
		} else {
			transplant(t, y, x);
			N(t, y)->right = N(t, z)->right;
			N(t, N(t, y)->right)->parent = y;
		}
		transplant(t, z, y);
		N(t, y)->left = N(t, z)->left;
		N(t, N(t, y)->left)->parent = y;
		copy_colour(t, y, z);
	}
	if (y_black)
		delete_fixup(t, x);
	/* the sentinel stays black and childless; its parent is scratch */
	set_black(t, NIL);
	node_free(t, z);
	t->h->count--;
}

int maptree_remove(struct maptree *t, uint64_t iova)
{
	const struct mapping *m = maptree_at(t, iova);

	if (!m)
		return -ENOENT;
	remove_node(t, idx(t, m));
	return 0;
}

SHIM_HOT void maptree_remove_mapping(struct maptree *t,
				     const struct mapping *m)
{
	remove_node(t, idx(t, m));
}

/*
 * A node found that is not live: the tree is damaged (a sound one links
 * only live nodes) and a loop that drops what it finds (drop_inside()) met
 * one it dropped already; it ends there instead of going round.
 */
static inline const struct mapping *live_or_null(const struct mapping *m)
{
	return m && (m->bits & MAPPING_LIVE) ? m : NULL;
}

/* Same overlap rule as type1's vfio_find_dma(), including its size-0 use. */
const struct mapping *maptree_find(const struct maptree *t, uint64_t start,
				   uint64_t size)
{
	uint32_t x = t->h->root, steps = DEPTH;

	while (x != NIL && steps--) {
		const struct mapping *n = N(t, x);

		if (start + size <= n->iova)
			x = n->left;
		else if (start >= n->iova + n->size)
			x = n->right;
		else
			return live_or_null(n);
	}
	return NULL;
}

const struct mapping *maptree_first_from(const struct maptree *t,
					 uint64_t start)
{
	const struct mapping *res = NULL;
	uint32_t x = t->h->root, steps = DEPTH;

	while (x != NIL && steps--) {
		const struct mapping *n = N(t, x);

		if (start < n->iova + n->size) {
			res = n;
			if (start >= n->iova)
				break;
			x = n->left;
		} else {
			x = n->right;
		}
	}
	return live_or_null(res);
}

const struct mapping *maptree_next(const struct maptree *t,
				   const struct mapping *m)
{
	const struct mapping *res = NULL;
	uint32_t x = t->h->root, steps = DEPTH;

	while (x != NIL && steps--) {
		const struct mapping *n = N(t, x);

		if (n->iova > m->iova) {
			res = n;
			x = n->left;
		} else {
			x = n->right;
		}
	}
	return live_or_null(res);
}

uint64_t maptree_rebuild(struct maptree *t)
{
	struct maptree_head *h = t->h;
	uint64_t bytes = 0;
	uint32_t i, p, x, steps;

	t->dropped = 0;
	if (h->cap > MAPTREE_MAX_NODES)
		h->cap = 0;
	if (h->used < 1 || h->used > h->cap)
		h->used = h->cap ? 1 : 0;
	h->root = NIL;
	h->free = NIL;
	h->count = 0;
	if (!h->cap)
		return 0;
	sentinel(t);
	/* from the top, so the free list hands out low nodes first */
	for (i = NODE_OFF(h->used); (i -= NODE_OFF(1)) > 0;) {
		struct mapping *m = N(t, i);
		const struct mapping *pred = NULL, *succ = NULL;

		if (!(m->bits & MAPPING_LIVE)) {
			node_free(t, i);
			continue;
		}
		/*
		 * Overlapping live nodes (two at one iova: a half-made insert),
		 * an empty or wrapping one: the first stays, the others go.
		 */
		p = NIL;
		x = h->root;
		steps = DEPTH;
		while (x != NIL && steps--) {
			p = x;
			if (m->iova < N(t, x)->iova) {
				succ = N(t, x);
				x = N(t, x)->left;
			} else {
				pred = N(t, x);
				x = N(t, x)->right;
			}
		}
		if (x != NIL || !m->size || m->iova + (m->size - 1) < m->iova ||
		    (pred && (pred->iova == m->iova ||
			      m->iova - pred->iova < pred->size)) ||
		    (succ && succ->iova - m->iova < m->size)) {
			t->dropped++;
			node_free(t, i);
			continue;
		}
		m->left = m->right = NIL;
		m->bits &= ~MAPPING_BLACK;
		link_node(t, p, i);
		bytes += m->size;
	}
	return bytes;
}

/* What a walk of the tree checks beside the links. */
struct check_walk {
	uint32_t seen;		/* live nodes met */
	uint64_t next;		/* the lowest iova the next node may have */
	bool any;		/* a node was met: next is meant */
	bool end;		/* one ended at 2^64: nothing can follow */
	uint64_t bytes;		/* their sizes */
};

static bool off_ok(const struct maptree *t, uint32_t x)
{
	return x < NODE_OFF(t->h->used) && !(x % NODE_OFF(1));
}

/*
 * Below x, in iova order: links in range and pointing back, colours, and
 * the mappings themselves (not empty, not wrapping, not overlapping the one
 * before); the black height, or -1.
 */
static int check_below(const struct maptree *t, uint32_t x, uint32_t parent,
		       struct check_walk *w, int depth)
{
	const struct mapping *n;
	int bl, br;

	if (x == NIL)
		return 1;
	if (!off_ok(t, x) || depth > MAPTREE_MAX_DEPTH)
		return -1;
	n = N(t, x);
	if (n->parent != parent || !(n->bits & MAPPING_LIVE) ||
	    ++w->seen > t->h->count || !off_ok(t, n->left) ||
	    !off_ok(t, n->right))
		return -1;
	if (!is_black(t, x) &&
	    (!is_black(t, n->left) || !is_black(t, n->right)))
		return -1;
	bl = check_below(t, n->left, x, w, depth + 1);
	if (bl < 0)
		return -1;
	/* in order: after everything on the left, before the right */
	if (!n->size || n->iova + (n->size - 1) < n->iova || w->end ||
	    (w->any && n->iova < w->next))
		return -1;
	w->bytes += n->size;
	w->next = n->iova + n->size;
	w->any = true;
	w->end = !w->next;
	br = check_below(t, n->right, x, w, depth + 1);
	if (br < 0 || bl != br)
		return -1;
	return bl + (is_black(t, x) ? 1 : 0);
}

int maptree_check_bytes(const struct maptree *t, uint64_t *bytes)
{
	const struct maptree_head *h = t->h;
	struct check_walk w = { 0 };
	uint32_t x, nfree = 0;

	*bytes = 0;
	if (!h->cap)
		return h->used || h->count || h->root ? -EUCLEAN : 0;
	if (h->used < 1 || h->used > h->cap || h->cap > MAPTREE_MAX_NODES ||
	    !off_ok(t, h->root) || !off_ok(t, h->free) ||
	    !is_black(t, NIL) || N(t, NIL)->left ||
	    N(t, NIL)->right || !is_black(t, h->root))
		return -EUCLEAN;
	if (check_below(t, h->root, NIL, &w, 0) < 0 || w.seen != h->count)
		return -EUCLEAN;
	/* the free list: nodes not live, in range, no more than there are */
	for (x = h->free; x != NIL; x = N(t, x)->left) {
		if (!off_ok(t, x) || N(t, x)->bits & MAPPING_LIVE ||
		    ++nfree > h->used - 1 - h->count)
			return -EUCLEAN;
	}
	*bytes = w.bytes;
	return 0;
}

int maptree_check(const struct maptree *t)
{
	uint64_t bytes;

	return maptree_check_bytes(t, &bytes);
}
