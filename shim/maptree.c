// SPDX-License-Identifier: MIT
/* Red-black tree of DMA mappings keyed by iova; see maptree.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maptree.h"

#define CHUNK_NODES (1u << MAPTREE_CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK_NODES - 1)

static inline struct mapping *node(const struct maptree *t, uint32_t i)
{
	return &t->chunks[i >> MAPTREE_CHUNK_SHIFT][i & CHUNK_MASK];
}


void maptree_init(struct maptree *t)
{
	memset(t, 0, sizeof(*t));
	t->next_unused = 1; /* index 0 means "none" */
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
	t->root = 0;
	t->free_list = 0;
	t->next_unused = 1;
	t->count = 0;
}

size_t maptree_bytes(const struct maptree *t)
{
	size_t n = (size_t)t->nchunks * sizeof(*t->chunks);
	uint32_t c;

	for (c = 0; c < t->nchunks; c++)
		if (t->chunks[c])
			n += CHUNK_NODES * sizeof(struct mapping);
	return n;
}

/* A node from fresh memory: the next never-used index, its chunk made. */
static __attribute__((noinline)) uint32_t node_alloc_unused(struct maptree *t)
{
	uint32_t i, c;

	i = t->next_unused;
	if (i == 0) /* wrapped: 4 Gi nodes */
		return 0;
	c = i >> MAPTREE_CHUNK_SHIFT;
	if (c >= t->nchunks) {
		uint32_t n = t->nchunks ? t->nchunks * 2 : 4;
		struct mapping **p = realloc(t->chunks, n * sizeof(*p));

		if (!p)
			return 0;
		memset(p + t->nchunks, 0, (n - t->nchunks) * sizeof(*p));
		t->chunks = p;
		t->nchunks = n;
	}
	if (!t->chunks[c]) {
		t->chunks[c] = malloc(CHUNK_NODES * sizeof(struct mapping));
		if (!t->chunks[c])
			return 0;
		/* node 0 is the sentinel: black, no children, ever */
		if (!c) {
			memset(t->chunks[0], 0, sizeof(struct mapping));
			t->chunks[0]->black = 1;
		}
	}
	t->next_unused++;
	return i;
}

static inline uint32_t node_alloc(struct maptree *t)
{
	uint32_t i = t->free_list;

	if (!i)
		return node_alloc_unused(t);
	t->free_list = node(t, i)->left;
	return i;
}

static void node_free(struct maptree *t, uint32_t i)
{
	node(t, i)->left = t->free_list;
	t->free_list = i;
}

/*
 * Red-black tree after CLRS, with index 0 as the black sentinel (nil): its
 * parent field is written during deletion, so chunk 0 always exists once the
 * tree has a node.
 */
#define NIL 0u

static inline uint32_t parent(const struct maptree *t, uint32_t i)
{
	return node(t, i)->parent;
}

static void rotate_left(struct maptree *t, uint32_t x)
{
	struct mapping *xn = node(t, x);
	uint32_t y = xn->right;
	struct mapping *yn = node(t, y);

	xn->right = yn->left;
	if (yn->left != NIL)
		node(t, yn->left)->parent = x;
	yn->parent = xn->parent;
	if (xn->parent == NIL)
		t->root = y;
	else if (x == node(t, xn->parent)->left)
		node(t, xn->parent)->left = y;
	else
		node(t, xn->parent)->right = y;
	yn->left = x;
	xn->parent = y;
}

static void rotate_right(struct maptree *t, uint32_t x)
{
	struct mapping *xn = node(t, x);
	uint32_t y = xn->left;
	struct mapping *yn = node(t, y);

	xn->left = yn->right;
	if (yn->right != NIL)
		node(t, yn->right)->parent = x;
	yn->parent = xn->parent;
	if (xn->parent == NIL)
		t->root = y;
	else if (x == node(t, xn->parent)->right)
		node(t, xn->parent)->right = y;
	else
		node(t, xn->parent)->left = y;
	yn->right = x;
	xn->parent = y;
}

static inline void insert_fixup(struct maptree *t, uint32_t z)
{
	while (!node(t, parent(t, z))->black) {
		uint32_t p = parent(t, z), g = parent(t, p), y;

		if (p == node(t, g)->left) {
			y = node(t, g)->right;
			if (!node(t, y)->black) {
				node(t, p)->black = 1;
				node(t, y)->black = 1;
				node(t, g)->black = 0;
				z = g;
				continue;
			}
			if (z == node(t, p)->right) {
				z = p;
				rotate_left(t, z);
				p = parent(t, z);
				g = parent(t, p);
			}
			node(t, p)->black = 1;
			node(t, g)->black = 0;
			rotate_right(t, g);
		} else {
			y = node(t, g)->left;
			if (!node(t, y)->black) {
				node(t, p)->black = 1;
				node(t, y)->black = 1;
				node(t, g)->black = 0;
				z = g;
				continue;
			}
			if (z == node(t, p)->left) {
				z = p;
				rotate_right(t, z);
				p = parent(t, z);
				g = parent(t, p);
			}
			node(t, p)->black = 1;
			node(t, g)->black = 0;
			rotate_left(t, g);
		}
	}
	node(t, t->root)->black = 1;
}

/* Link node i (iova already set) under parent p, on the side its key says. */
static inline void link(struct maptree *t, uint32_t i, uint32_t p)
{
	struct mapping *n = node(t, i);

	n->parent = p;
	n->left = n->right = NIL;
	n->black = 0;
	if (p == NIL)
		t->root = i;
	else if (n->iova < node(t, p)->iova)
		node(t, p)->left = i;
	else
		node(t, p)->right = i;
	insert_fixup(t, i);
	t->count++;
}

static inline int new_node(struct maptree *t, uint64_t iova, uint64_t size,
		    uint64_t vaddr, uint8_t prot, uint32_t *out)
{
	uint32_t i = node_alloc(t);
	struct mapping *n;

	if (!i)
		return -ENOMEM;
	n = node(t, i);
	n->iova = iova;
	n->size = size;
	n->vaddr = vaddr;
	n->dirty = NULL;
	n->prot = prot;
	*out = i;
	return 0;
}

int maptree_insert(struct maptree *t, uint64_t iova, uint64_t size,
		   uint64_t vaddr, uint8_t prot)
{
	uint32_t p = NIL, x = t->root, i;
	int rc;

	while (x != NIL) {
		p = x;
		x = iova < node(t, x)->iova ? node(t, x)->left :
					      node(t, x)->right;
	}
	rc = new_node(t, iova, size, vaddr, prot, &i);
	if (!rc)
		link(t, i, p);
	return rc;
}

int maptree_insert_new(struct maptree *t, uint64_t iova, uint64_t size,
		       uint64_t vaddr, uint8_t prot)
{
	const struct mapping *pred = NULL, *succ = NULL;
	uint32_t p = NIL, x = t->root, i;
	int rc;

	/* the last node we went right of precedes the new one, the last we
	 * went left of follows it: only those two can overlap it */
	while (x != NIL) {
		const struct mapping *n = node(t, x);

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
	rc = new_node(t, iova, size, vaddr, prot, &i);
	if (!rc)
		link(t, i, p);
	return rc;
}

const struct mapping *maptree_at(const struct maptree *t, uint64_t iova)
{
	uint32_t i = t->root;

	while (i != NIL) {
		const struct mapping *n = node(t, i);

		if (iova == n->iova)
			return n;
		i = iova < n->iova ? n->left : n->right;
	}
	return NULL;
}

static inline void transplant(struct maptree *t, uint32_t u, uint32_t v)
{
	uint32_t up = parent(t, u);

	if (up == NIL)
		t->root = v;
	else if (u == node(t, up)->left)
		node(t, up)->left = v;
	else
		node(t, up)->right = v;
	node(t, v)->parent = up;
}

static void delete_fixup(struct maptree *t, uint32_t x)
{
	while (x != t->root && node(t, x)->black) {
		uint32_t p = parent(t, x), w;

		if (x == node(t, p)->left) {
			w = node(t, p)->right;
			if (!node(t, w)->black) {
				node(t, w)->black = 1;
				node(t, p)->black = 0;
				rotate_left(t, p);
				w = node(t, p)->right;
			}
			if (node(t, node(t, w)->left)->black &&
			    node(t, node(t, w)->right)->black) {
				node(t, w)->black = 0;
				x = p;
				continue;
			}
			if (node(t, node(t, w)->right)->black) {
				node(t, node(t, w)->left)->black = 1;
				node(t, w)->black = 0;
				rotate_right(t, w);
				w = node(t, p)->right;
			}
			node(t, w)->black = node(t, p)->black;
			node(t, p)->black = 1;
			node(t, node(t, w)->right)->black = 1;
			rotate_left(t, p);
		} else {
			w = node(t, p)->left;
			if (!node(t, w)->black) {
				node(t, w)->black = 1;
				node(t, p)->black = 0;
				rotate_right(t, p);
				w = node(t, p)->left;
			}
			if (node(t, node(t, w)->right)->black &&
			    node(t, node(t, w)->left)->black) {
				node(t, w)->black = 0;
				x = p;
				continue;
			}
			if (node(t, node(t, w)->left)->black) {
				node(t, node(t, w)->right)->black = 1;
				node(t, w)->black = 0;
				rotate_left(t, w);
				w = node(t, p)->left;
			}
			node(t, w)->black = node(t, p)->black;
			node(t, p)->black = 1;
			node(t, node(t, w)->left)->black = 1;
			rotate_right(t, p);
		}
		x = t->root;
	}
	node(t, x)->black = 1;
}

static inline void delete_node(struct maptree *t, uint32_t z)
{
	struct mapping *zn = node(t, z);
	uint32_t y = z, x;
	uint8_t y_black = zn->black;

	if (zn->left == NIL) {
		x = zn->right;
		transplant(t, z, zn->right);
	} else if (zn->right == NIL) {
		x = zn->left;
		transplant(t, z, zn->left);
	} else {
		y = zn->right;
		while (node(t, y)->left != NIL)
			y = node(t, y)->left;
		y_black = node(t, y)->black;
		x = node(t, y)->right;
		if (parent(t, y) == z) {
			node(t, x)->parent = y;
		} else {
			transplant(t, y, node(t, y)->right);
			node(t, y)->right = zn->right;
			node(t, node(t, y)->right)->parent = y;
		}
		transplant(t, z, y);
		node(t, y)->left = zn->left;
		node(t, node(t, y)->left)->parent = y;
		node(t, y)->black = zn->black;
	}
	if (y_black)
		delete_fixup(t, x);
	/* the sentinel stays black and unlinked */
	node(t, NIL)->black = 1;
}

static void remove_index(struct maptree *t, uint32_t z)
{
	delete_node(t, z);
	node_free(t, z);
	t->count--;
}

int maptree_remove(struct maptree *t, uint64_t iova)
{
	uint32_t z = t->root;

	while (z != NIL && node(t, z)->iova != iova)
		z = iova < node(t, z)->iova ? node(t, z)->left :
					      node(t, z)->right;
	if (z == NIL)
		return -ENOENT;
	remove_index(t, z);
	return 0;
}

void maptree_remove_mapping(struct maptree *t, const struct mapping *m)
{
	uint32_t p = m->parent, i;

	/* a node's index is its parent's child link (or the root) */
	if (p == NIL)
		i = t->root;
	else if (node(t, i = node(t, p)->left) != m)
		i = node(t, p)->right;
	remove_index(t, i);
}

/* Same overlap rule as type1's vfio_find_dma(), including its size-0 use. */
const struct mapping *maptree_find(const struct maptree *t, uint64_t start,
				   uint64_t size)
{
	uint32_t i = t->root;

	while (i) {
		const struct mapping *n = node(t, i);

		if (start + size <= n->iova)
			i = n->left;
		else if (start >= n->iova + n->size)
			i = n->right;
		else
			return n;
	}
	return NULL;
}

const struct mapping *maptree_first_from(const struct maptree *t,
					 uint64_t start)
{
	const struct mapping *res = NULL;
	uint32_t i = t->root;

	while (i) {
		const struct mapping *n = node(t, i);

		if (start < n->iova + n->size) {
			res = n;
			if (start >= n->iova)
				break;
			i = n->left;
		} else {
			i = n->right;
		}
	}
	return res;
}

const struct mapping *maptree_next(const struct maptree *t,
				   const struct mapping *m)
{
	const struct mapping *res = NULL;
	uint32_t i = t->root;

	while (i) {
		const struct mapping *n = node(t, i);

		if (n->iova > m->iova) {
			res = n;
			i = n->left;
		} else {
			i = n->right;
		}
	}
	return res;
}
