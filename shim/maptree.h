/* SPDX-License-Identifier: MIT */
/*
 * The container's record of its DMA mappings: non-overlapping [iova, iova+size)
 * ranges in a red-black tree ordered by iova: O(log n) per operation, and
 * O(1) amortized rebalancing, so a lookup is most of the cost. Nodes are
 * carved from fixed-size chunks (no per-node malloc) and linked by pointer;
 * the parent pointer carries the colour and the permissions in its low bits
 * (nodes are 8-byte aligned), so a mapping costs 56 bytes plus chunk slack.
 * Not thread-safe: the caller holds the shim lock.
 */
#ifndef SHIM_MAPTREE_H
#define SHIM_MAPTREE_H

#include <stddef.h>
#include <stdint.h>

struct mapping {
	uint64_t iova;
	uint64_t size;
	uint64_t vaddr;
	uint64_t *dirty;	/* type1's per-mapping dirty words while tracking */
	struct mapping *left, *right;
	uintptr_t parent_bits;	/* parent | prot << 1 | black */
};

/* VFIO_DMA_MAP_FLAG_READ | _WRITE of the mapping */
static inline uint8_t mapping_prot(const struct mapping *m)
{
	return (uint8_t)((m->parent_bits >> 1) & 3);
}

#define MAPTREE_CHUNK_NODES 1024

struct maptree {
	struct mapping nil;	/* the black sentinel: the tree must not move */
	struct mapping *root;
	struct mapping *free_list;	/* chained through .left */
	struct mapping **chunks;
	uint32_t nchunks, chunks_cap;	/* allocated, room in chunks[] */
	uint32_t nchunks_used;	/* chunks handed out from, in order */
	uint32_t chunk_used;	/* nodes handed out of the last of those */
	uint32_t count;
};

void maptree_init(struct maptree *t);
void maptree_destroy(struct maptree *t);
/* Drop every mapping but keep the memory for reuse. */
void maptree_clear(struct maptree *t);

/* Add [iova, iova+size); the caller has checked there is no overlap. 0 or -ENOMEM. */
int maptree_insert(struct maptree *t, uint64_t iova, uint64_t size,
		   uint64_t vaddr, uint8_t prot);
/*
 * Add [iova, iova+size) unless it overlaps a mapping: one descent finds the
 * place and the neighbours on both sides. 0, -EEXIST or -ENOMEM.
 */
int maptree_insert_new(struct maptree *t, uint64_t iova, uint64_t size,
		       uint64_t vaddr, uint8_t prot);
/* The mapping that starts exactly at iova, or NULL. */
const struct mapping *maptree_at(const struct maptree *t, uint64_t iova);
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
	return t->count;
}

/* Bytes held for the tree's nodes and chunk table. */
size_t maptree_bytes(const struct maptree *t);

#endif /* SHIM_MAPTREE_H */
