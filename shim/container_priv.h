/* SPDX-License-Identifier: MIT */
/*
 * Shared by the container's own files only: container.c (type1 semantics,
 * the request table and its dispatch), container_dma.c (MAP/UNMAP over the
 * record, the hot path), container_dirty.c (dirty-bitmap emulation) and
 * container_trace.c (VFIOCOMPAT_LOG=trace). Everything is called with the
 * shim lock held.
 */
#ifndef SHIM_CONTAINER_PRIV_H
#define SHIM_CONTAINER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <linux/vfio.h>

#include "container.h"
#include "maptree.h"

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* argsz's minimum per request, what type1 copies in first (table: minsz) */
#define GET_INFO_MINSZ offsetofend(struct vfio_iommu_type1_info, iova_pgsizes)
#define MAP_DMA_MINSZ offsetofend(struct vfio_iommu_type1_dma_map, size)
#define UNMAP_DMA_MINSZ offsetofend(struct vfio_iommu_type1_dma_unmap, size)
#define DIRTY_PAGES_MINSZ \
	offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags)

/* type1: DIRTY_BITMAP_SIZE_MAX, the bytes of a bitmap of INT_MAX pages */
#define DIRTY_BITMAP_BYTES(n) ((((n) + 63) / 64) * 8)
#define DIRTY_BITMAP_SIZE_MAX DIRTY_BITMAP_BYTES((uint64_t)0x7fffffff)

static inline uint64_t min_pgsize(const struct container *c)
{
	return c->s->pgsizes ? c->s->pgsizes & -c->s->pgsizes : 4096;
}

/* type1's vfio_iommu_iova_dma_valid(): inside one usable range. */
static inline bool iova_valid(const struct container *c, uint64_t start,
			      uint64_t end)
{
	uint32_t i;

	if (!c->s->nranges)
		return true;
	for (i = 0; i < c->s->nranges; i++)
		if (start >= c->s->ranges[i].start && end <= c->s->ranges[i].last)
			return true;
	return false;
}

/* Does [start, start + size) run past 2^64? (size 0 never does) */
static inline bool wraps(uint64_t start, uint64_t size)
{
	return size && start + size - 1 < start;
}

/* iommufd errnos that type1 reports as EINVAL for the same request. */
static inline int type1_errno(int rc)
{
	switch (rc) {
	case -EOVERFLOW:
	case -EOPNOTSUPP:
	case -EADDRINUSE:
	case -ENOENT:
	case -ERANGE:
		return -EINVAL;
	default:
		return rc;
	}
}

/* container.c: every call but an untraced, unreported MAP/UNMAP_DMA. */
long container_ioctl_slow(struct container *c, int fd, unsigned int cmd,
			  void *arg);
/* container.c: the request's handler, or type1's refusal. */
long container_dispatch(struct container *c, int fd, unsigned int cmd,
			void *arg);

/* container_dma.c: the request handlers and the record's upkeep. */
long container_map_dma(struct container *c, int fd, void *arg);
long container_unmap_dma(struct container *c, int fd, void *arg);
/* Forget a mapping of the record (the kernel's side is the caller's). */
void drop_mapping(struct container *c, const struct mapping *m);
/* Unmap [iova, iova + len) from the kernel and the record; see there. */
int unmap_range(struct container *c, int fd, uint64_t iova, uint64_t len,
		uint64_t count, uint64_t *done);
/* Drop the record's mappings lying wholly inside [iova, iova + len). */
void drop_inside(struct container *c, uint64_t iova, uint64_t len);
/* record_lock() said recover (> 0) or failed (< 0): 0 once we hold it. */
int container_lock_failed(struct container *c, int fd, int rc);

/* VFIO_UPDATE_VADDR (container_vaddr.c) */
/* Whether this kernel lets the shim serve it (asked once per container). */
bool vaddr_supported(struct container *c, int fd);
/*
 * A MAP_DMA of a noted shared file mmap as IOAS_MAP_FILE: 0 mapped, 1 not
 * a file's (or refused): the caller maps it the ordinary way.
 */
int map_dma_file(struct container *c, int fd,
		 const struct vfio_iommu_type1_dma_map *map);
int map_dma_vaddr(struct container *c, int fd,
		  const struct vfio_iommu_type1_dma_map *map);
int unmap_dma_vaddr(struct container *c, uint64_t iova, uint64_t size,
		    uint64_t *unmapped);
/* type1's vaddr_invalid_count != 0: a group may not attach */
bool vaddr_any_invalid(const struct container *c);

/* The record's lock around what a group's join or leave changes. */
static inline int container_lock(struct container *c, int fd)
{
	int rc = record_lock(&c->rec);

	return rc ? container_lock_failed(c, fd, rc) : 0;
}

/* type1 v2 refuses a range that cuts a mapping at either end. */
bool bisects(const struct container *c, uint64_t iova, uint64_t size);

/* container_dirty.c */
long container_dirty_pages(struct container *c, int fd, void *arg);
/* type1's verify_bitmap_size() */
int verify_bitmap_size(uint64_t npages, uint64_t bitmap_size);
int mark_dirty(struct container *c, uint64_t *bitmap, const struct mapping *m,
	       uint64_t base, unsigned int pgshift, bool clear_after);
/* Every holder's bitmaps go (STOP, the last group leaving). */
void dirty_free_all(struct container *c);
/* This process's bitmap words of a mapping going away. */
void dirty_forget(struct container *c, const struct mapping *m);
/* This process lets go of the container: its words go, the record's stay. */
void dirty_release(struct container *c);

static inline unsigned int ffs64(uint64_t v)
{
	return v ? (unsigned int)__builtin_ctzll(v) : 0;
}

/* container_trace.c: the rows' argument and result printers, the traced call */
bool trace_value(void *arg, char *buf, size_t len);
bool trace_map_dma(void *arg, char *buf, size_t len);
bool trace_unmap_dma(void *arg, char *buf, size_t len);
bool trace_unmap_dma_result(void *arg, char *buf, size_t len);
long container_ioctl_traced(struct container *c, int fd, unsigned int cmd,
			    void *arg);

#endif /* SHIM_CONTAINER_PRIV_H */
