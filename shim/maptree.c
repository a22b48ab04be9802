// SPDX-License-Identifier: MIT
/* AVL tree of DMA mappings keyed by iova; see maptree.h. */
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

static uint32_t node_alloc(struct maptree *t)
{
	uint32_t i, c;

	if (t->free_list) {
		i = t->free_list;
		t->free_list = node(t, i)->left;
		return i;
	}
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
	}
	t->next_unused++;
	return i;
}

static void node_free(struct maptree *t, uint32_t i)
{
	node(t, i)->left = t->free_list;
	t->free_list = i;
}

static inline int height(const struct maptree *t, uint32_t i)
{
	return i ? node(t, i)->height : 0;
}

static inline void update(struct maptree *t, uint32_t i)
{
	struct mapping *n = node(t, i);
	int l = height(t, n->left), r = height(t, n->right);

	n->height = (uint8_t)((l > r ? l : r) + 1);
}

static uint32_t rotate_right(struct maptree *t, uint32_t i)
{
	uint32_t l = node(t, i)->left;

	node(t, i)->left = node(t, l)->right;
	node(t, l)->right = i;
	update(t, i);
	update(t, l);
	return l;
}

static uint32_t rotate_left(struct maptree *t, uint32_t i)
{
	uint32_t r = node(t, i)->right;

	node(t, i)->right = node(t, r)->left;
	node(t, r)->left = i;
	update(t, i);
	update(t, r);
	return r;
}

static uint32_t balance(struct maptree *t, uint32_t i)
{
	struct mapping *n;
	int bf;

	update(t, i);
	n = node(t, i);
	bf = height(t, n->left) - height(t, n->right);
	if (bf > 1) {
		if (height(t, node(t, n->left)->left) <
		    height(t, node(t, n->left)->right))
			n->left = rotate_left(t, n->left);
		return rotate_right(t, i);
	}
	if (bf < -1) {
		if (height(t, node(t, n->right)->right) <
		    height(t, node(t, n->right)->left))
			n->right = rotate_right(t, n->right);
		return rotate_left(t, i);
	}
	return i;
}

static uint32_t insert_at(struct maptree *t, uint32_t at, uint32_t new)
{
	if (!at)
		return new;
	if (node(t, new)->iova < node(t, at)->iova)
		node(t, at)->left = insert_at(t, node(t, at)->left, new);
	else
		node(t, at)->right = insert_at(t, node(t, at)->right, new);
	return balance(t, at);
}

int maptree_insert(struct maptree *t, uint64_t iova, uint64_t size,
		   uint64_t vaddr, uint8_t prot)
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
	n->left = n->right = 0;
	n->height = 1;
	t->root = insert_at(t, t->root, i);
	t->count++;
	return 0;
}

/* Detach the minimum of the subtree at i; *min receives it. */
static uint32_t remove_min(struct maptree *t, uint32_t i, uint32_t *min)
{
	if (!node(t, i)->left) {
		*min = i;
		return node(t, i)->right;
	}
	node(t, i)->left = remove_min(t, node(t, i)->left, min);
	return balance(t, i);
}

static uint32_t remove_at(struct maptree *t, uint32_t at, uint64_t iova,
			  uint32_t *gone)
{
	struct mapping *n;
	uint32_t l, r, min;

	if (!at)
		return 0;
	n = node(t, at);
	if (iova < n->iova) {
		n->left = remove_at(t, n->left, iova, gone);
	} else if (iova > n->iova) {
		n->right = remove_at(t, n->right, iova, gone);
	} else {
		*gone = at;
		l = n->left;
		r = n->right;
		if (!r)
			return l;
		r = remove_min(t, r, &min);
		node(t, min)->left = l;
		node(t, min)->right = r;
		return balance(t, min);
	}
	return balance(t, at);
}

int maptree_remove(struct maptree *t, uint64_t iova)
{
	uint32_t gone = 0;

	t->root = remove_at(t, t->root, iova, &gone);
	if (!gone)
		return -ENOENT;
	node_free(t, gone);
	t->count--;
	return 0;
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
