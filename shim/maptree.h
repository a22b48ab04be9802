/* SPDX-License-Identifier: MIT */
/*
 * The container's record of its DMA mappings: non-overlapping [iova, iova+size)
 * ranges in a red-black tree ordered by iova: O(log n) per operation, and
 * O(1) amortized rebalancing, so a lookup is most of the cost. Nodes live in
 * one array and link by 32-bit byte offset into it (node 0, offset 0, is the
 * black sentinel; an offset is followed with one add, an index would need a
 * multiply on every step of a descent), so the
 * tree means the same wherever the array is mapped: in the shared record
 * (record.h), every process that holds the container sees one tree. A node
 * is 48 bytes and the array grows by a quarter. Not thread-safe: the caller
 * holds the shim lock and the record's lock.
 */
#ifndef SHIM_MAPTREE_H
#define SHIM_MAPTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mapping {
	uint64_t iova;
	uint64_t size;
	uint64_t vaddr;
	uint32_t left, right, parent;	/* byte offsets in the array, 0 the sentinel */
	uint32_t bits;			/* black | prot << 1 | live << 3 | vaddr invalid << 4 */
	uint32_t serial;		/* this use of the node (dirty words) */
	uint32_t pad;
};

#define MAPPING_BLACK 1u
#define MAPPING_PROT_SHIFT 1
#define MAPPING_LIVE 8u
/* VFIO_DMA_UNMAP_FLAG_VADDR: the vaddr awaits its update (the container's) */
#define MAPPING_VADDR_INVALID 16u

/* VFIO_DMA_MAP_FLAG_READ | _WRITE of the mapping */
static inline uint8_t mapping_prot(const struct mapping *m)
{
	return (uint8_t)((m->bits >> MAPPING_PROT_SHIFT) & 3);
}

/* The container marks and clears MAPPING_VADDR_INVALID; the tree keeps it. */
static inline void mapping_set_vaddr_invalid(const struct mapping *m, bool on)
{
	struct mapping *w = (struct mapping *)m;

	w->bits = on ? w->bits | MAPPING_VADDR_INVALID :
		       w->bits & ~MAPPING_VADDR_INVALID;
}

/* Where the tree is: in the shared record, or in the maptree itself. */
struct maptree_head {
	uint32_t root;		/* offsets, as the links */
	uint32_t free;		/* free nodes, chained through .left */
	uint32_t used;		/* nodes ever handed out, the sentinel included */
	uint32_t cap;		/* nodes the array has room for */
	uint32_t count;
	uint32_t serial;	/* last node serial given */
};

struct maptree;
/* Make room for at least cap nodes (t->nodes may move); 0 or -ENOMEM. */
typedef int (*maptree_grow_fn)(struct maptree *t, uint32_t cap);

struct maptree {
	struct maptree_head *h;
	struct mapping *nodes;
	maptree_grow_fn grow;
	void *ctx;			/* the grow function's */
	struct maptree_head own;	/* a private tree's head */
};

#define MAPTREE_INIT_NODES 64
/* Offsets are 32 bits. */
#define MAPTREE_MAX_NODES ((uint32_t)(UINT32_MAX / sizeof(struct mapping)))

/* A private tree on the heap. */
void maptree_init(struct maptree *t);
void maptree_destroy(struct maptree *t);
/*
 * A tree whose head and nodes live elsewhere (the shared record): format
 * them (an empty tree; nodes has room for head->cap >= 1 nodes), or just
 * view a tree already there.
 */
void maptree_view(struct maptree *t, struct maptree_head *h,
		  struct mapping *nodes, maptree_grow_fn grow, void *ctx);
void maptree_format(struct maptree *t);
/* Drop every mapping but keep the memory for reuse. */
void maptree_clear(struct maptree *t);
/*
 * Rebuild the links from the nodes marked live (a holder died while it
 * changed the tree): the tree, the free list and the count. Returns the
 * live mappings' total size.
 */
uint64_t maptree_rebuild(struct maptree *t);
/* 0 if the head and every link are sound, else -EUCLEAN. */
int maptree_check(const struct maptree *t);

/* Add [iova, iova+size); the caller has checked there is no overlap. 0 or -ENOMEM. */
int maptree_insert(struct maptree *t, uint64_t iova, uint64_t size,
		   uint64_t vaddr, uint8_t prot);
/*
 * Add [iova, iova+size) unless it overlaps a mapping: one descent finds the
 * place and the neighbours on both sides. 0, -EEXIST or -ENOMEM.
 */
int maptree_insert_new(struct maptree *t, uint64_t iova, uint64_t size,
		       uint64_t vaddr, uint8_t prot);
/* The mapping that starts exactly at iova, or NULL (inline: UNMAP's lookup). */
static inline const struct mapping *maptree_at(const struct maptree *t,
					       uint64_t iova)
{
	const char *base = (const char *)t->nodes;
	uint32_t x = t->h->root;

	while (x) {
		const struct mapping *n = (const struct mapping *)(base + x);

		if (iova == n->iova)
			return n;
		x = iova < n->iova ? n->left : n->right;
	}
	return NULL;
}
/* Remove the mapping that starts at iova. 0 or -ENOENT. */
int maptree_remove(struct maptree *t, uint64_t iova);
/* Remove m, a mapping of the tree (no second lookup). */
void maptree_remove_mapping(struct maptree *t, const struct mapping *m);

/* Some mapping overlapping [start, start+size) (size 0: containing start, start excluded as its first byte), or NULL. */
const struct mapping *maptree_find(const struct maptree *t, uint64_t start,
				   uint64_t size);
/* The lowest mapping that ends after start, or NULL. */
const struct mapping *maptree_first_from(const struct maptree *t,
					 uint64_t start);
/* The mapping after m in iova order, or NULL. */
const struct mapping *maptree_next(const struct maptree *t,
				   const struct mapping *m);

static inline uint32_t maptree_count(const struct maptree *t)
{
	return t->h->count;
}

/* The node's index in the array (dirty words are kept by it). */
static inline uint32_t maptree_index(const struct maptree *t,
				     const struct mapping *m)
{
	return (uint32_t)(m - t->nodes);
}

/* Bytes held for the tree's nodes. */
size_t maptree_bytes(const struct maptree *t);

#endif /* SHIM_MAPTREE_H */
