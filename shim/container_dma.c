// SPDX-License-Identifier: MIT
/*
 * VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA over the container's record
 * (maptree): the record decides type1's errors before the kernel is asked,
 * and stays equal to what the kernel holds. container_ioctl(), the entry for
 * every container call, lives here too, beside the two handlers it calls
 * directly: the unit tests and bench section 3 link these files without
 * link-time optimization, and the hot path must inline there as well.
 */
#include <errno.h>
#include <stdlib.h>
#include <linux/vfio.h>

#include "config.h"
#include "container_priv.h"
#include "dmabuf.h"
#include "filemap.h"
#include "internal.h"
#include "iommufd.h"
#include "log.h"
#include "report.h"
#include "uaccess.h"

/* The record's mapped bytes follow its mappings. */
void drop_mapping(struct container *c, const struct mapping *m)
{
	c->s->mapped_bytes -= m->size;
	if (unlikely(c->dirty_len))
		dirty_forget(c, m);
	maptree_remove_mapping(&c->maps, m);
}

/*
 * The record says [iova, iova+size) overlaps a mapping; perhaps a process we
 * forked or sent the fd to unmapped it: the kernel knows, and says EEXIST if
 * the record is right. If it maps, the record's stale entries go.
 */
static int map_dma_over_record(struct container *c, int fd,
			       const struct vfio_iommu_type1_dma_map *map,
			       uint8_t prot)
{
	const struct mapping *m;
	uint64_t gone;
	int rc;

	if (!iova_valid(c, map->iova, map->iova + map->size - 1))
		return -EINVAL;
	/* the range, not one mapping: stale entries of the record go too */
	record_intent_range(&c->rec, map->iova, map->size);
	rc = atomic_load_explicit(&filemap_nmmaps, memory_order_relaxed) ?
		     map_dma_file(c, fd, map) :
		     1;
	if (rc > 0)
		rc = iommufd_compat_map_dma(fd, map);
	if (rc == -EFAULT)
		rc = dmabuf_map_dma(fd, c->ioas_id, map);
	if (rc) {
		record_commit(&c->rec);
		return type1_errno(rc);
	}
	while ((m = maptree_find(&c->maps, map->iova, map->size)))
		drop_mapping(c, m);
	rc = maptree_insert(&c->maps, map->iova, map->size, map->vaddr, prot);
	if (rc)
		iommufd_ioas_unmap(fd, c->ioas_id, map->iova, map->size, &gone);
	else
		c->s->mapped_bytes += map->size;
	record_commit(&c->rec);
	return rc;
}

/*
 * A MAP_DMA the common case below does not take: type1's answer, its checks
 * in the order of the kernel being answered as (6.19 moved the wrap checks
 * forward and made them EOVERFLOW).
 */
static __attribute__((noinline)) int
map_dma_refused(struct container *c, int fd,
		const struct vfio_iommu_type1_dma_map *map)
{
	uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
			VFIO_DMA_MAP_FLAG_VADDR;
	bool prot = map->flags & (VFIO_DMA_MAP_FLAG_READ |
				  VFIO_DMA_MAP_FLAG_WRITE);
	bool set_vaddr = map->flags & VFIO_DMA_MAP_FLAG_VADDR;
	bool wrap = wraps(map->iova, map->size) || wraps(map->vaddr, map->size);

	if (map->flags & ~mask)
		return -EINVAL;
	if (type1_since(6, 19)) {
		if (!map->size)
			return -EINVAL;
		if (wrap)
			return -EOVERFLOW;
	}
	/* a vaddr update has no permissions; a mapping needs some */
	if (prot == set_vaddr)
		return -EINVAL;
	if (!map->size || (map->size | map->iova | map->vaddr) & c->s->pgmask)
		return -EINVAL;
	if (wrap)
		return -EINVAL;
	/* what is left is a vaddr update */
	if (vaddr_supported(c, fd))
		return map_dma_vaddr(c, fd, map);
	/* listed difference before 6.13: refused */
	report_difference(REPORT_DIFF_VADDR);
	return -EINVAL;
}

static inline __attribute__((always_inline)) long
map_dma(struct container *c, int fd, void *arg)
{
	struct vfio_iommu_type1_dma_map map;
	size_t minsz = MAP_DMA_MINSZ;
	uint8_t prot;
	int rc;

	rc = copy_from_user(&map, arg, minsz);
	if (rc)
		return rc;
	if (map.argsz < minsz)
		return -EINVAL;
	prot = map.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	if (unlikely(map.flags != prot || !prot || !map.size ||
		     (map.size | map.iova | map.vaddr) & c->s->pgmask ||
		     map.iova + map.size - 1 < map.iova ||
		     map.vaddr + map.size - 1 < map.vaddr))
		return map_dma_refused(c, fd, &map);
	/* from the new node on until it is mapped or gone: see recovery */
	record_intent_map(&c->rec, map.iova);
	rc = maptree_insert_new(&c->maps, map.iova, map.size, map.vaddr, prot);
	if (unlikely(rc)) {
		record_commit(&c->rec);
		if (rc == -EEXIST)
			return map_dma_over_record(c, fd, &map, prot);
		return rc;
	}
	/* type1's order: EEXIST above, then ENOSPC, then the iova ranges */
	if (maptree_count(&c->maps) > c->s->dma_entry_limit ||
	    !iova_valid(c, map.iova, map.iova + map.size - 1)) {
		rc = maptree_count(&c->maps) > c->s->dma_entry_limit ? -ENOSPC :
								    -EINVAL;
		maptree_remove(&c->maps, map.iova);
		record_commit(&c->rec);
		return rc;
	}
	/* a shared file's pages as the file's, so they can move: filemap.h */
	rc = 1;
	if (unlikely(atomic_load_explicit(&filemap_nmmaps,
					  memory_order_relaxed)))
		rc = map_dma_file(c, fd, &map);
	/* the kernel's compat entry on our own IOAS: see iommufd.h */
	if (likely(rc > 0))
		rc = iommufd_compat_map_dma(fd, &map);
	/* not pinnable: perhaps a device's BAR (peer-to-peer), see dmabuf.h */
	if (unlikely(rc == -EFAULT))
		rc = dmabuf_map_dma(fd, c->ioas_id, &map);
	if (rc) {
		maptree_remove(&c->maps, map.iova);
		record_commit(&c->rec);
		if (rc == -EFAULT)
			report_difference(REPORT_DIFF_MAP_EFAULT);
		return type1_errno(rc);
	}
	c->s->mapped_bytes += map.size;
	record_commit(&c->rec);
	if (shim_config.report_file)
		report_mappings(maptree_count(&c->maps), c->s->mapped_bytes);
	return 0;
}

bool bisects(const struct container *c, uint64_t iova, uint64_t size)
{
	const struct mapping *m = maptree_find(&c->maps, iova, 1);

	if (m && m->iova != iova)
		return true;
	m = maptree_find(&c->maps, iova + size - 1, 0);
	return m && m->iova + m->size != iova + size;
}

/* Drop the record's mappings lying wholly inside [iova, iova + len). */
void drop_inside(struct container *c, uint64_t iova, uint64_t len)
{
	const struct mapping *m = maptree_first_from(&c->maps, iova);
	uint64_t last = iova + len - 1;

	while (m && m->iova <= last) {
		if (m->iova >= iova && m->iova + m->size - 1 <= last) {
			drop_mapping(c, m);
			m = maptree_first_from(&c->maps, iova);
		} else {
			m = maptree_next(&c->maps, m);
		}
	}
}

/*
 * One IOMMU_IOAS_UNMAP for [iova, iova + len); nothing there is type1's
 * empty unmap. *done is what the kernel removed. If the kernel refuses the
 * range (e.g. an area it holds crosses an end), fall back to one call per
 * mapping the record knows in it, so the record still equals the kernel.
 */
int unmap_range(struct container *c, int fd, uint64_t iova, uint64_t len,
		uint64_t count, uint64_t *done)
{
	const struct mapping *m;
	uint64_t unmapped, at = iova, msize;
	int rc, one, err = 0;

	record_intent_range(&c->rec, iova, len);
	rc = iommufd_ioas_unmap(fd, c->ioas_id, iova, len, &unmapped);
	if (!rc || rc == -ENOENT) {
		*done = rc ? 0 : unmapped;
		drop_inside(c, iova, len);
		record_commit(&c->rec);
		return 0;
	}
	*done = 0;
	while (count-- && (m = maptree_first_from(&c->maps, at)) &&
	       m->iova - iova < len) {
		at = m->iova;
		msize = m->size;
		one = iommufd_ioas_unmap(fd, c->ioas_id, at, msize, &unmapped);
		if (one && one != -ENOENT) {
			if (!err)
				err = one;
		} else {
			*done += one ? 0 : unmapped;
			drop_mapping(c, m);
		}
		at += msize;
	}
	record_commit(&c->rec);
	return err;
}

/*
 * Unmap m, which is exactly [unmap->iova, +unmap->size), and report it;
 * unmap is our copy of the caller's struct (at arg, on_stack as
 * copy_from_user_keep() found it), its flags none.
 */
static inline __attribute__((always_inline)) int
unmap_one(struct container *c, int fd, void *arg, int on_stack,
	  const struct mapping *m, struct vfio_iommu_type1_dma_unmap *unmap)
{
	size_t minsz = UNMAP_DMA_MINSZ;
	int rc;

	record_intent(&c->rec, RECORD_OP_UNMAP, unmap->iova);
	rc = iommufd_compat_unmap_dma(fd, unmap);
	/*
	 * -ENOENT: a holder without the shim unmapped it and mapped over it;
	 * ours is gone all the same (size 0 is the same story without the new
	 * mapping).
	 */
	if (rc && rc != -ENOENT) {
		record_commit(&c->rec);
		return type1_errno(rc);
	}
	drop_mapping(c, m);
	record_commit(&c->rec);
	return copy_to_user_kept(arg, unmap, minsz, on_stack);
}

/* An UNMAP_DMA other than the common case, as read and checked. */
struct unmap_req {
	uint64_t iova, size;	/* size UINT64_MAX for UNMAP_ALL */
	bool all, get_dirty, vaddr;
	struct vfio_bitmap bitmap;	/* GET_DIRTY_BITMAP's */
};

/* The flags and, with GET_DIRTY_BITMAP, the bitmap struct after unmap. */
static int unmap_read_flags(struct container *c, int fd,
			    const struct vfio_iommu_type1_dma_unmap *unmap,
			    void *arg, struct unmap_req *r)
{
	size_t minsz = UNMAP_DMA_MINSZ;
	uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
	int rc;

	if (unmap->argsz < minsz || unmap->flags & ~mask)
		return -EINVAL;
	r->get_dirty = unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	r->all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	if (r->get_dirty && (unmap->flags & (VFIO_DMA_UNMAP_FLAG_ALL |
					     VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	if (r->get_dirty) {
		if (unmap->argsz < minsz + sizeof(r->bitmap))
			return -EINVAL;
		rc = copy_from_user(&r->bitmap, user_offset(arg, minsz),
				    sizeof(r->bitmap));
		if (rc)
			return rc;
		if (!user_range_ok((unsigned long)r->bitmap.data,
				   r->bitmap.size))
			return -EINVAL;
		rc = verify_bitmap_size(unmap->size >> ffs64(r->bitmap.pgsize),
					r->bitmap.size);
		if (rc)
			return rc;
	}
	r->vaddr = unmap->flags & VFIO_DMA_UNMAP_FLAG_VADDR;
	/* listed difference before 6.13: vaddr invalidation is refused */
	if (r->vaddr && !vaddr_supported(c, fd)) {
		report_difference(REPORT_DIFF_VADDR);
		return -EINVAL;
	}
	return 0;
}

/* The range: page-aligned, not wrapping, not cutting a v2 mapping. */
static int unmap_check_range(const struct container *c, struct unmap_req *r)
{
	uint64_t pgsize = min_pgsize(c);

	if (r->iova & (pgsize - 1))
		return -EINVAL;
	if (r->all) {
		if (r->iova || r->size)
			return -EINVAL;
		r->size = UINT64_MAX;
	} else if (!r->size || r->size & (pgsize - 1)) {
		return -EINVAL;
	} else if (wraps(r->iova, r->size)) {
		return type1_since(6, 19) ? -EOVERFLOW : -EINVAL;
	}
	if (r->get_dirty && (!c->s->dirty_tracking || r->bitmap.pgsize != pgsize))
		return -EINVAL;
	if (c->s->type == VFIO_TYPE1v2_IOMMU && !r->all &&
	    bisects(c, r->iova, r->size))
		return -EINVAL;
	return 0;
}

/*
 * The record's mappings in the range, in order: how many, and the last.
 * v1 stops at a mapping straddling the start (*straddle). With
 * GET_DIRTY_BITMAP each one's pages are reported before anything goes.
 */
static int unmap_walk(struct container *c, const struct unmap_req *r,
		      uint64_t *count, const struct mapping **last,
		      bool *straddle)
{
	const struct mapping *m;
	int rc;

	for (m = maptree_first_from(&c->maps, r->iova); m;
	     m = maptree_next(&c->maps, m)) {
		if (m->iova > r->iova + (r->size - 1))
			break;
		if (c->s->type == VFIO_TYPE1_IOMMU && r->iova > m->iova) {
			*straddle = true;
			break;
		}
		if (r->get_dirty) {
			rc = mark_dirty(c, (uint64_t *)r->bitmap.data, m,
					r->iova, ffs64(r->bitmap.pgsize),
					false);
			if (rc)
				return rc;
		}
		*last = m;
		(*count)++;
	}
	return 0;
}

/* Any other UNMAP_DMA; read is the caller's struct, already read. */
static __attribute__((noinline)) int
unmap_dma_general(struct container *c, int fd, void *arg,
		  const struct vfio_iommu_type1_dma_unmap *read)
{
	struct vfio_iommu_type1_dma_unmap unmap = *read;
	struct unmap_req r = { .iova = read->iova, .size = read->size };
	size_t minsz = UNMAP_DMA_MINSZ;
	const struct mapping *last = NULL;
	uint64_t last_iova, unmapped = 0, count = 0;
	bool straddle = false;
	int rc;

	rc = unmap_read_flags(c, fd, &unmap, arg, &r);
	if (!rc)
		rc = unmap_check_range(c, &r);
	if (rc)
		return rc;
	/*
	 * Before 6.19 type1's search for a range ending exactly at 2^64 wraps
	 * to 0 and finds nothing: 0, size 0, the mappings stay (fixed since).
	 */
	if (!r.all && !(r.iova + r.size) && !type1_since(6, 19))
		goto out;
	if (r.vaddr) {
		rc = unmap_dma_vaddr(c, r.iova, r.size, &unmapped);
		if (rc)
			return rc;
		goto out;
	}
	rc = unmap_walk(c, &r, &count, &last, &straddle);
	if (rc)
		return rc;
	if (!straddle || count) {
		/*
		 * The kernel gets the whole range, not just the mappings the
		 * record knows: a process we forked or sent the fd to may have
		 * mapped there. v1 removes whole mappings, so its range grows
		 * to their ends. Ends are inclusive: a range may end at 2^64.
		 */
		last_iova = r.iova + (r.size - 1);
		if (c->s->type == VFIO_TYPE1_IOMMU && count && !r.all &&
		    last->iova + (last->size - 1) > last_iova)
			last_iova = last->iova + (last->size - 1);
		rc = unmap_range(c, fd, r.iova,
				 r.all ? UINT64_MAX : last_iova - r.iova + 1,
				 count, &unmapped);
		if (rc)
			return type1_errno(rc);
	}
out:
	unmap.size = unmapped;
	return copy_to_user(arg, &unmap, minsz);
}

/*
 * The common case: QEMU, DPDK and SPDK unmap exactly what they mapped, with
 * no flags: one whole mapping, which v1 and v2 agree on and every check of
 * the general path passes. Anything else goes the general way.
 */
static inline __attribute__((always_inline)) long
unmap_dma(struct container *c, int fd, void *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	size_t minsz = UNMAP_DMA_MINSZ;
	const struct mapping *m;
	int rc, on_stack;

	rc = copy_from_user_keep(&unmap, arg, minsz, &on_stack);
	if (rc)
		return rc;
	if (unmap.argsz < minsz || unmap.flags || !unmap.size ||
	    (unmap.iova | unmap.size) & c->s->pgmask ||
	    !(m = maptree_at(&c->maps, unmap.iova)) || m->size != unmap.size)
		return unmap_dma_general(c, fd, arg, &unmap);
	return unmap_one(c, fd, arg, on_stack, m, &unmap);
}

long container_map_dma(struct container *c, int fd, void *arg)
{
	return map_dma(c, fd, arg);
}

long container_unmap_dma(struct container *c, int fd, void *arg)
{
	return unmap_dma(c, fd, arg);
}

/*
 * A holder died holding the record's lock: the links of the tree may be
 * half changed, and its kernel call (the journal's intent) may or may not
 * have happened. The tree is rebuilt from the nodes marked live; a MAP that
 * never returned to its caller is undone (kernel and record), an UNMAP is
 * finished. Then the record equals the kernel again.
 */
static __attribute__((noinline, cold)) void container_recover(struct container *c,
							    int fd)
{
	struct record_intent in = c->s->intent;
	uint64_t iova = in.word & ~RECORD_OP_MASK, gone;
	const struct mapping *m;

	if (!record_fits(&c->rec))
		c->s->maps.cap = 0;
	c->s->mapped_bytes = maptree_rebuild(&c->maps);
	switch (in.word & RECORD_OP_MASK) {
	case RECORD_OP_MAP:
		/* undone: the caller never saw it succeed */
		m = maptree_at(&c->maps, iova);
		if (m && m->serial == in.serial) {
			iommufd_ioas_unmap(fd, c->ioas_id, m->iova, m->size,
					   &gone);
			drop_mapping(c, m);
		}
		break;
	case RECORD_OP_UNMAP:
		/* finished: the node goes only after the kernel's unmap */
		m = maptree_at(&c->maps, iova);
		if (m) {
			iommufd_ioas_unmap(fd, c->ioas_id, m->iova, m->size,
					   &gone);
			drop_mapping(c, m);
		}
		break;
	case RECORD_OP_UNMAP_RANGE:
		/* a range MAP over stale entries is undone the same way */
		iommufd_ioas_unmap(fd, c->ioas_id, in.iova, in.size, &gone);
		drop_inside(c, in.iova, in.size);
		break;
	default:
		break;
	}
	record_commit(&c->rec);
}

/* record_lock() said recover (> 0) or failed (< 0): 0 once we hold it. */
int container_lock_failed(struct container *c, int fd, int rc)
{
	if (rc < 0) {
		shim_err(SHIM_CAT_CONTAINER,
			 "container record: cannot take its lock (%d)", rc);
		return rc;
	}
	container_recover(c, fd);
	return 0;
}

/*
 * MAP_DMA and UNMAP_DMA straight to their handler, inlined here (one frame),
 * under the record's lock: the calls that come by the thousand.
 */
static __attribute__((noinline)) SHIM_HOT long
map_dma_locked(struct container *c, int fd, void *arg)
{
	long rc = record_lock(&c->rec);

	if (unlikely(rc) && (rc = container_lock_failed(c, fd, (int)rc)))
		return rc;
	if (likely(c->s->type))
		rc = map_dma(c, fd, arg);
	else
		rc = container_ioctl_slow(c, fd, VFIO_IOMMU_MAP_DMA, arg);
	record_unlock(&c->rec);
	return rc;
}

static __attribute__((noinline)) SHIM_HOT long
unmap_dma_locked(struct container *c, int fd, void *arg)
{
	long rc = record_lock(&c->rec);

	if (unlikely(rc) && (rc = container_lock_failed(c, fd, (int)rc)))
		return rc;
	if (likely(c->s->type))
		rc = unmap_dma(c, fd, arg);
	else
		rc = container_ioctl_slow(c, fd, VFIO_IOMMU_UNMAP_DMA, arg);
	record_unlock(&c->rec);
	return rc;
}

static __attribute__((noinline)) long
ioctl_locked(struct container *c, int fd, unsigned int cmd, void *arg)
{
	long rc = record_lock(&c->rec);

	if (unlikely(rc) && (rc = container_lock_failed(c, fd, (int)rc)))
		return rc;
	rc = container_ioctl_slow(c, fd, cmd, arg);
	record_unlock(&c->rec);
	return rc;
}

SHIM_HOT long container_ioctl(struct container *c, int fd,
			      unsigned long request, void *arg)
{
	/* the kernel sees the request as a 32-bit value */
	unsigned int cmd = (unsigned int)request;

	if (shim_config.quiet) {
		if (cmd == VFIO_IOMMU_MAP_DMA)
			return map_dma_locked(c, fd, arg);
		if (cmd == VFIO_IOMMU_UNMAP_DMA)
			return unmap_dma_locked(c, fd, arg);
	}
	return ioctl_locked(c, fd, cmd, arg);
}
