// SPDX-License-Identifier: MIT
/*
 * VFIO type1 container semantics on an iommufd IOAS; see container.h.
 * Function names follow the VFIO ioctl they serve (VFIO_IOMMU_MAP_DMA ->
 * container_map_dma()); the order of the checks inside each is type1's, so
 * the first error type1 would report is the one reported.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "config.h"
#include "container.h"
#include "group.h"
#include "internal.h"
#include "log.h"
#include "report.h"
#include "uaccess.h"

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* type1: DIRTY_BITMAP_SIZE_MAX, the bytes of a bitmap of INT_MAX pages */
#define DIRTY_BITMAP_BYTES(n) ((((n) + 63) / 64) * 8)
#define DIRTY_BITMAP_SIZE_MAX DIRTY_BITMAP_BYTES((uint64_t)0x7fffffff)

#define MAX_RANGES 64

static void dirty_free_all(struct container *c);
static void drop_mapping(struct container *c, const struct mapping *m);

static void container_free(struct shim_obj *obj)
{
	struct container *c = (struct container *)obj;

	dirty_free_all(c);
	maptree_destroy(&c->maps);
	free(c->ranges);
	free(c);
}

static const struct shim_obj_ops container_ops = {
	.free = container_free,
};

static inline uint64_t min_pgsize(const struct container *c)
{
	return c->pgsizes ? c->pgsizes & -c->pgsizes : 4096;
}

/* c->pgsizes changed: keep the hot path's alignment mask in step. */
static void set_pgsizes(struct container *c, uint64_t pgsizes)
{
	c->pgsizes = pgsizes;
	c->pgmask = min_pgsize(c) - 1;
}

static struct container *container_new(uint32_t ioas_id)
{
	struct container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->obj.ops = &container_ops;
	c->obj.kind = SHIM_CONTAINER;
	c->ioas_id = ioas_id;
	c->dma_entry_limit = shim_config.dma_entry_limit;
	set_pgsizes(c, 0);
	maptree_init(&c->maps);
	return c;
}

int container_open(int flags, struct container **out)
{
	struct container *c;
	uint32_t ioas_id;
	int fd, rc;

	fd = iommufd_open(flags);
	if (fd < 0)
		return fd;
	/*
	 * type1 charges pinned memory to the process (mm->locked_vm); iommufd
	 * charges the user unless asked, which needs CAP_SYS_RESOURCE and an
	 * iommufd with no objects yet, so this comes first.
	 */
	rc = iommufd_option_rlimit_mode(fd, 1);
	if (rc)
		report_difference(REPORT_DIFF_MEMLOCK_PER_USER);
	if (rc)
		shim_dbg(SHIM_CAT_INIT,
			 "per-process memlock accounting unavailable (%d); "
			 "iommufd charges the user",
			 rc);
	rc = iommufd_ioas_alloc(fd, &ioas_id);
	if (rc)
		goto err_close_fd;
	/* groups that join this fd bind to our IOAS, not a kernel-made one */
	rc = iommufd_vfio_ioas(fd, IOMMU_VFIO_IOAS_SET, &ioas_id);
	if (rc)
		goto err_close_fd;
	c = container_new(ioas_id);
	if (!c) {
		rc = -ENOMEM;
		goto err_close_fd;
	}
	*out = c;
	return fd;

err_close_fd:
	iommufd_close(fd);
	return rc;
}

int container_adopt(int fd, struct container **out)
{
	struct container *c;
	uint32_t ioas_id = 0;
	int rc;

	rc = iommufd_vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &ioas_id);
	if (rc == -ENODEV) {
		rc = iommufd_ioas_alloc(fd, &ioas_id);
		if (!rc)
			rc = iommufd_vfio_ioas(fd, IOMMU_VFIO_IOAS_SET,
					       &ioas_id);
	}
	if (rc)
		return rc;
	c = container_new(ioas_id);
	if (!c)
		return -ENOMEM;
	/*
	 * Whoever handed us the fd set it up; we cannot see how. Serve it as
	 * a TYPE1v2 container whose mapping record the kernel completes.
	 */
	c->adopted = true;
	report_difference(REPORT_DIFF_ADOPTED);
	c->type = VFIO_TYPE1v2_IOMMU;
	set_pgsizes(c, 4096);
	*out = c;
	return 0;
}

/* Page sizes and usable iova ranges of the domains now attached. */
static void container_refresh_domain(struct container *c, int fd)
{
	struct iommufd_range buf[MAX_RANGES];
	uint32_t num = MAX_RANGES;
	uint64_t align, pgsizes;
	struct iommufd_range *r;

	if (!iommufd_compat_pgsizes(fd, &pgsizes) && pgsizes)
		set_pgsizes(c, pgsizes);
	if (iommufd_ioas_iova_ranges(fd, c->ioas_id, buf, &num, &align))
		return;
	r = malloc(num * sizeof(*r));
	if (!r && num)
		return;
	memcpy(r, buf, num * sizeof(*r));
	free(c->ranges);
	c->ranges = r;
	c->nranges = num;
}

/* type1's vfio_iommu_iova_dma_valid(): inside one usable range. */
static bool iova_valid(const struct container *c, uint64_t start, uint64_t end)
{
	uint32_t i;

	if (!c->nranges)
		return true;
	for (i = 0; i < c->nranges; i++)
		if (start >= c->ranges[i].start && end <= c->ranges[i].last)
			return true;
	return false;
}

static int unmap_range(struct container *c, int fd, uint64_t iova,
		       uint64_t len, uint64_t count, uint64_t *done);

static void container_reset(struct container *c, int fd)
{
	uint64_t unmapped;

	dirty_free_all(c);
	/* whatever the kernel refuses to drop stays in the record too */
	if (fd >= 0 && maptree_count(&c->maps))
		unmap_range(c, fd, 0, UINT64_MAX, maptree_count(&c->maps),
			    &unmapped);
	else
		maptree_clear(&c->maps);
	if (!maptree_count(&c->maps))
		c->mapped_bytes = 0;
	c->type = 0;
	c->dirty_tracking = false;
	set_pgsizes(c, 0);
	free(c->ranges);
	c->ranges = NULL;
	c->nranges = 0;
}

static int container_check_extension(struct container *c, int fd,
				     unsigned long ext)
{
	int rc;

	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		if (!c->type)
			return 0;
		rc = iommufd_compat_cache_coherent(fd);
		return rc > 0 ? 1 : 0;
	case VFIO_UPDATE_VADDR:
		/* listed difference: vaddr updates are not supported */
		if (c->type)
			report_difference(REPORT_DIFF_VADDR);
		return 0;
	case 6:
		/* VFIO_TYPE1_NESTING_IOMMU: 6.12 type1 still claims it */
		report_difference(REPORT_DIFF_NESTING);
		return 0;
	default:
		/* TYPE1_NESTING (6) as type1 answers since 6.13; SPAPR, EEH */
		return 0;
	}
}

static int container_set_iommu(struct container *c, int fd, unsigned long type)
{
	struct group *g, *h;
	int rc;

	if (!c->groups || c->type)
		return -EINVAL;
	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		break;
	case VFIO_UNMAP_ALL:
		/* type1 claims the extension, then its open() refuses it */
		return -EINVAL;
	case 6:
		report_difference(REPORT_DIFF_NESTING);
		return -ENODEV;
	default:
		return -ENODEV;
	}
	for (g = c->groups; g; g = g->next) {
		rc = group_attach(g);
		if (rc)
			goto err_detach_groups;
	}
	c->type = (int)type;
	c->dma_entry_limit = shim_config.dma_entry_limit;
	container_refresh_domain(c, fd);
	shim_dbg(SHIM_CAT_CONTAINER, "container: %s, pgsizes %#llx, %u ranges",
		 type == VFIO_TYPE1_IOMMU ? "TYPE1 (v1)" : "TYPE1v2",
		 (unsigned long long)c->pgsizes, c->nranges);
	return 0;

err_detach_groups:
	for (h = c->groups; h != g; h = h->next)
		group_detach(h);
	return rc;
}

/*
 * Caps in type1's order (MIGRATION, DMA_AVAIL, IOVA_RANGE), each 8-byte
 * aligned, chained by offsets from the start of the info struct.
 */
static size_t build_caps(const struct container *c, uint8_t *buf, size_t len)
{
	struct vfio_iommu_type1_info_cap_migration mig = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
			    .version = 1 },
		.pgsize_bitmap = min_pgsize(c),
		.max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX,
	};
	struct vfio_iommu_type1_info_dma_avail avail = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			    .version = 1 },
		.avail = c->dma_entry_limit - maptree_count(&c->maps),
	};
	struct vfio_iommu_type1_info_cap_iova_range range = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			    .version = 1 },
		.nr_iovas = c->nranges,
	};
	const size_t base = sizeof(struct vfio_iommu_type1_info);
	size_t off = 0, sz_mig = (sizeof(mig) + 7) & ~7ul,
	       sz_avail = (sizeof(avail) + 7) & ~7ul,
	       sz_range = sizeof(range) +
			  c->nranges * sizeof(struct vfio_iova_range);
	size_t total = sz_mig + sz_avail + (c->nranges ? sz_range : 0);
	uint32_t i;

	if (!buf || len < total)
		return total;
	memset(buf, 0, total);
	mig.header.next = base + sz_mig;
	memcpy(buf, &mig, sizeof(mig));
	off += sz_mig;
	avail.header.next = c->nranges ? base + off + sz_avail : 0;
	memcpy(buf + off, &avail, sizeof(avail));
	off += sz_avail;
	if (c->nranges) {
		memcpy(buf + off, &range, sizeof(range));
		for (i = 0; i < c->nranges; i++) {
			struct vfio_iova_range r = {
				.start = c->ranges[i].start,
				.end = c->ranges[i].last,
			};
			memcpy(buf + off + sizeof(range) + i * sizeof(r), &r,
			       sizeof(r));
		}
	}
	return total;
}

static int container_get_info(struct container *c, int fd, void *arg)
{
	struct vfio_iommu_type1_info info = { 0 };
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	size_t caps_size, copy;
	uint8_t *caps;
	int rc;

	rc = copy_from_user(&info, arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	copy = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	if (!c->adopted)
		container_refresh_domain(c, fd);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = c->pgsizes;
	info.cap_offset = 0;
	info.pad = 0;
	caps_size = build_caps(c, NULL, 0);
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	if (info.argsz < sizeof(info) + caps_size) {
		/* type1: say how much is needed, copy no caps */
		info.argsz = sizeof(info) + caps_size;
	} else {
		caps = malloc(caps_size);
		if (!caps)
			return -ENOMEM;
		build_caps(c, caps, caps_size);
		rc = copy_to_user(user_offset(arg, sizeof(info)), caps,
				  caps_size);
		free(caps);
		if (rc)
			return rc;
		info.cap_offset = sizeof(info);
	}
	return copy_to_user(arg, &info, copy);
}

/* iommufd errnos that type1 reports as EINVAL for the same request. */
static int type1_errno(int rc)
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
	rc = iommufd_compat_map_dma(fd, map);
	if (rc)
		return type1_errno(rc);
	while ((m = maptree_find(&c->maps, map->iova, map->size)))
		drop_mapping(c, m);
	rc = maptree_insert(&c->maps, map->iova, map->size, map->vaddr, prot);
	if (rc) {
		iommufd_ioas_unmap(fd, c->ioas_id, map->iova, map->size, &gone);
		return rc;
	}
	c->mapped_bytes += map->size;
	return 0;
}

static SHIM_HOT int container_map_dma(struct container *c, int fd, void *arg)
{
	struct vfio_iommu_type1_dma_map map;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
			VFIO_DMA_MAP_FLAG_VADDR;
	bool set_vaddr;
	uint8_t prot;
	int rc;

	rc = copy_from_user(&map, arg, minsz);
	if (rc)
		return rc;
	if (map.argsz < minsz)
		return -EINVAL;
	prot = map.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	if (map.flags != prot || !prot) { /* not a plain mapping */
		set_vaddr = map.flags & VFIO_DMA_MAP_FLAG_VADDR;
		/* a vaddr update has no permissions; a mapping needs some */
		if (map.flags & ~mask || !prot == !set_vaddr)
			return -EINVAL;
		/* listed difference: vaddr updates refused until supported */
		report_difference(REPORT_DIFF_VADDR);
		return -EINVAL;
	}
	if (!map.size || (map.size | map.iova | map.vaddr) & c->pgmask)
		return -EINVAL;
	if (map.iova + map.size - 1 < map.iova ||
	    map.vaddr + map.size - 1 < map.vaddr)
		return -EINVAL;
	rc = maptree_insert_new(&c->maps, map.iova, map.size, map.vaddr, prot);
	if (rc == -EEXIST)
		return map_dma_over_record(c, fd, &map, prot);
	if (rc)
		return rc;
	/* type1's order: EEXIST above, then ENOSPC, then the iova ranges */
	if (maptree_count(&c->maps) > c->dma_entry_limit ||
	    !iova_valid(c, map.iova, map.iova + map.size - 1)) {
		rc = maptree_count(&c->maps) > c->dma_entry_limit ? -ENOSPC :
								    -EINVAL;
		maptree_remove(&c->maps, map.iova);
		return rc;
	}
	/* the kernel's compat entry on our own IOAS: see iommufd.h */
	rc = iommufd_compat_map_dma(fd, &map);
	if (rc) {
		maptree_remove(&c->maps, map.iova);
		if (rc == -EFAULT)
			report_difference(REPORT_DIFF_MAP_EFAULT);
		return type1_errno(rc);
	}
	c->mapped_bytes += map.size;
	if (shim_config.report_file)
		report_mappings(maptree_count(&c->maps), c->mapped_bytes);
	return 0;
}

/* type1's verify_bitmap_size() */
static int verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < DIRTY_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

static inline unsigned int ffs64(uint64_t v)
{
	return v ? (unsigned int)__builtin_ctzll(v) : 0;
}

/* Words type1 allocates per mapping: its bitmap plus one for shifting. */
static size_t dirty_words(const struct mapping *m, unsigned int pgshift)
{
	return ((m->size >> pgshift) + 63) / 64 + 1;
}

static int dirty_alloc(struct mapping *m, unsigned int pgshift)
{
	if (!m->dirty)
		m->dirty = calloc(dirty_words(m, pgshift), sizeof(uint64_t));
	return m->dirty ? 0 : -ENOMEM;
}

static void bits_set(uint64_t *b, uint64_t from, uint64_t n, bool on)
{
	uint64_t i;

	for (i = from; i < from + n; i++) {
		if (on)
			b[i / 64] |= 1ull << (i % 64);
		else
			b[i / 64] &= ~(1ull << (i % 64));
	}
}

/* The kernel's __bitmap_shift_left(): no masking beyond nbits. */
static void bits_shift_left(uint64_t *b, unsigned int shift, uint64_t nbits)
{
	uint64_t lim = (nbits + 63) / 64, off = shift / 64, rem = shift % 64;
	int64_t k;

	for (k = (int64_t)(lim - off) - 1; k >= 0; k--) {
		uint64_t lower = rem && k > 0 ? b[k - 1] >> (64 - rem) : 0;

		b[k + off] = lower | (b[k] << rem);
	}
	memset(b, 0, off * sizeof(*b));
}

/*
 * type1's update_user_bitmap(), step by step: physical devices cannot say
 * which pages they wrote, so every page of the mapping is set; a mapping
 * starting mid-word is shifted into place and the caller's whole word is
 * ORed in; the words are copied out; and (GET_BITMAP only) the mapping's own
 * bits are cleared afterwards, leaving whatever the shift pushed past them
 * for the next query, as the kernel's per-mapping bitmap does.
 */
static int mark_dirty(uint64_t *bitmap, struct mapping *m, uint64_t base,
		      unsigned int pgshift, bool clear_after)
{
	uint64_t nbits = m->size >> pgshift;
	uint64_t bit = (m->iova - base) >> pgshift;
	uint64_t first = bit / 64, shift = bit % 64, leftover;
	void *word = user_offset(bitmap, first * sizeof(uint64_t));
	int rc;

	rc = dirty_alloc(m, pgshift);
	if (rc)
		return rc;
	bits_set(m->dirty, 0, nbits, true);
	if (shift) {
		bits_shift_left(m->dirty, (unsigned int)shift, nbits + shift);
		rc = copy_from_user(&leftover, word, sizeof(leftover));
		if (rc)
			return rc;
		m->dirty[0] |= leftover;
	}
	rc = copy_to_user(word, m->dirty, DIRTY_BITMAP_BYTES(nbits + shift));
	if (rc)
		return rc;
	if (clear_after)
		bits_set(m->dirty, 0, nbits, false);
	return 0;
}

static void dirty_free_all(struct container *c)
{
	const struct mapping *m;

	for (m = maptree_first_from(&c->maps, 0); m;
	     m = maptree_next(&c->maps, m)) {
		free(m->dirty);
		((struct mapping *)m)->dirty = NULL;
	}
}

/* Forget a mapping of the record (the kernel's side is the caller's). */
static void drop_mapping(struct container *c, const struct mapping *m)
{
	c->mapped_bytes -= m->size;
	if (m->dirty)
		free(m->dirty);
	maptree_remove_mapping(&c->maps, m);
}

/* type1 v2 refuses a range that cuts a mapping at either end. */
static bool bisects(const struct container *c, uint64_t iova, uint64_t size)
{
	const struct mapping *m = maptree_find(&c->maps, iova, 1);

	if (m && m->iova != iova)
		return true;
	m = maptree_find(&c->maps, iova + size - 1, 0);
	return m && m->iova + m->size != iova + size;
}

/* Drop the record's mappings lying wholly inside [iova, iova + len). */
static void drop_inside(struct container *c, uint64_t iova, uint64_t len)
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
static int unmap_range(struct container *c, int fd, uint64_t iova,
		       uint64_t len, uint64_t count, uint64_t *done)
{
	const struct mapping *m;
	uint64_t unmapped, at = iova, msize;
	int rc, one, err = 0;

	rc = iommufd_ioas_unmap(fd, c->ioas_id, iova, len, &unmapped);
	if (!rc || rc == -ENOENT) {
		*done = rc ? 0 : unmapped;
		drop_inside(c, iova, len);
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
	(void)rc;
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
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	int rc;

	rc = iommufd_compat_unmap_dma(fd, unmap);
	/*
	 * -ENOENT: another process holding the fd unmapped it and mapped over
	 * it; ours is gone all the same (size 0 is the same story without the
	 * new mapping).
	 */
	if (rc && rc != -ENOENT)
		return type1_errno(rc);
	drop_mapping(c, m);
	return copy_to_user_kept(arg, unmap, minsz, on_stack);
}

/* Any other UNMAP_DMA; read is the caller's struct, already read. */
static __attribute__((noinline)) int
unmap_dma_general(struct container *c, int fd, void *arg,
		  const struct vfio_iommu_type1_dma_unmap *read)
{
	struct vfio_iommu_type1_dma_unmap unmap = *read;
	struct vfio_bitmap bitmap = { 0 };
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
	const struct mapping *m, *first = NULL, *last = NULL;
	uint64_t pgsize, iova, size, end, unmapped = 0, count = 0;
	bool all, get_dirty, straddle = false;
	int rc;

	if (unmap.argsz < minsz || unmap.flags & ~mask)
		return -EINVAL;
	get_dirty = unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	if (get_dirty && (unmap.flags & (VFIO_DMA_UNMAP_FLAG_ALL |
					 VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	if (get_dirty) {
		if (unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		rc = copy_from_user(&bitmap, user_offset(arg, minsz),
				    sizeof(bitmap));
		if (rc)
			return rc;
		if (!user_range_ok((unsigned long)bitmap.data, bitmap.size))
			return -EINVAL;
		rc = verify_bitmap_size(unmap.size >> ffs64(bitmap.pgsize),
					bitmap.size);
		if (rc)
			return rc;
	}
	/* listed difference: vaddr invalidation is refused until supported */
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_VADDR) {
		report_difference(REPORT_DIFF_VADDR);
		return -EINVAL;
	}

	pgsize = min_pgsize(c);
	iova = unmap.iova;
	size = unmap.size;
	all = unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL;
	if (iova & (pgsize - 1))
		return -EINVAL;
	if (all) {
		if (iova || size)
			return -EINVAL;
		size = UINT64_MAX;
	} else if (!size || size & (pgsize - 1) || iova + size - 1 < iova) {
		return -EINVAL;
	}
	if (get_dirty && (!c->dirty_tracking || bitmap.pgsize != pgsize))
		return -EINVAL;

	if (c->type == VFIO_TYPE1v2_IOMMU && !all && bisects(c, iova, size))
		return -EINVAL;

	for (m = maptree_first_from(&c->maps, iova); m;
	     m = maptree_next(&c->maps, m)) {
		if (m->iova >= iova + size)
			break;
		/* v1: a mapping straddling the start stops the walk */
		if (c->type == VFIO_TYPE1_IOMMU && iova > m->iova) {
			straddle = true;
			break;
		}
		if (get_dirty) {
			rc = mark_dirty((uint64_t *)bitmap.data,
					(struct mapping *)m, iova,
					ffs64(bitmap.pgsize), false);
			if (rc)
				return rc;
		}
		if (!first)
			first = m;
		last = m;
		count++;
	}
	if (straddle && !count)
		goto out;
	/*
	 * The kernel gets the whole range, not just the mappings the record
	 * knows: a process we forked or sent the fd to may have mapped there.
	 * v1 removes whole mappings, so its range grows to their ends.
	 */
	end = all ? UINT64_MAX : iova + size;
	if (c->type == VFIO_TYPE1_IOMMU && count && !all &&
	    last->iova + last->size > end)
		end = last->iova + last->size;
	rc = unmap_range(c, fd, iova, end - iova, count, &unmapped);
	if (rc)
		return type1_errno(rc);
out:
	unmap.size = unmapped;
	return copy_to_user(arg, &unmap, minsz);
}

/*
 * The common case: QEMU, DPDK and SPDK unmap exactly what they mapped, with
 * no flags: one whole mapping, which v1 and v2 agree on and every check of
 * the general path passes. Anything else goes the general way.
 */
static SHIM_HOT int container_unmap_dma(struct container *c, int fd,
					 void *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	const struct mapping *m;
	int rc, on_stack;

	rc = copy_from_user_keep(&unmap, arg, minsz, &on_stack);
	if (rc)
		return rc;
	if (unmap.argsz < minsz || unmap.flags || !unmap.size ||
	    (unmap.iova | unmap.size) & c->pgmask ||
	    !(m = maptree_at(&c->maps, unmap.iova)) || m->size != unmap.size)
		return unmap_dma_general(c, fd, arg, &unmap);
	return unmap_one(c, fd, arg, on_stack, m, &unmap);
}

static int container_dirty_pages(struct container *c, void *arg)
{
	struct vfio_iommu_type1_dirty_bitmap dirty;
	struct vfio_iommu_type1_dirty_bitmap_get range;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags);
	uint32_t mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
			VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	const struct mapping *m;
	uint64_t pgsize;
	int rc;

	if (c->type != VFIO_TYPE1v2_IOMMU)
		return -EACCES;
	rc = copy_from_user(&dirty, arg, minsz);
	if (rc)
		return rc;
	if (dirty.argsz < minsz || dirty.flags & ~mask)
		return -EINVAL;
	/* exactly one flag */
	if (!dirty.flags || (dirty.flags & (dirty.flags - 1)))
		return -EINVAL;
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
		c->dirty_tracking = true;
		return 0;
	}
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		/* type1 frees the per-mapping bitmaps: their state goes too */
		if (c->dirty_tracking)
			dirty_free_all(c);
		c->dirty_tracking = false;
		return 0;
	}
	if (dirty.argsz - minsz < sizeof(range))
		return -EINVAL;
	rc = copy_from_user(&range, user_offset(arg, minsz), sizeof(range));
	if (rc)
		return rc;
	if (range.iova + range.size < range.iova)
		return -EINVAL;
	if (!user_range_ok((unsigned long)range.bitmap.data,
			   range.bitmap.size))
		return -EINVAL;
	rc = verify_bitmap_size(range.size >> ffs64(range.bitmap.pgsize),
				range.bitmap.size);
	if (rc)
		return rc;
	pgsize = min_pgsize(c);
	if (range.bitmap.pgsize != pgsize)
		return -EINVAL;
	if (range.iova & (pgsize - 1))
		return -EINVAL;
	if (!range.size || range.size & (pgsize - 1))
		return -EINVAL;
	if (!c->dirty_tracking)
		return -EINVAL;
	if (bisects(c, range.iova, range.size))
		return -EINVAL;
	for (m = maptree_first_from(&c->maps, range.iova); m;
	     m = maptree_next(&c->maps, m)) {
		if (m->iova < range.iova)
			continue;
		if (m->iova > range.iova + range.size - 1)
			break;
		rc = mark_dirty((uint64_t *)range.bitmap.data,
				(struct mapping *)m, range.iova, ffs64(pgsize),
				true);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *request_name(unsigned int nr)
{
	switch (nr) {
	case VFIO_GET_API_VERSION:
		return "GET_API_VERSION";
	case VFIO_CHECK_EXTENSION:
		return "CHECK_EXTENSION";
	case VFIO_SET_IOMMU:
		return "SET_IOMMU";
	case VFIO_IOMMU_GET_INFO:
		return "IOMMU_GET_INFO";
	case VFIO_IOMMU_MAP_DMA:
		return "IOMMU_MAP_DMA";
	case VFIO_IOMMU_UNMAP_DMA:
		return "IOMMU_UNMAP_DMA";
	case VFIO_IOMMU_DIRTY_PAGES:
		return "IOMMU_DIRTY_PAGES";
	default:
		return NULL;
	}
}

static long container_dispatch(struct container *c, int fd, unsigned int cmd,
			       void *arg)
{
	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return container_check_extension(c, fd, (unsigned long)arg);
	case VFIO_SET_IOMMU:
		return container_set_iommu(c, fd, (unsigned long)arg);
	}
	/* no iommu driver yet (or any more): type1's container says EINVAL */
	if (!c->type)
		return -EINVAL;
	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return container_get_info(c, fd, arg);
	case VFIO_IOMMU_MAP_DMA:
		return container_map_dma(c, fd, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return container_unmap_dma(c, fd, arg);
	case VFIO_IOMMU_DIRTY_PAGES:
		return container_dirty_pages(c, arg);
	default:
		return -ENOTTY;
	}
}

/* The call's arguments as the trace shows them: the fields, not the pointer. */
static void trace_args(unsigned int cmd, void *arg, char *buf, size_t len)
{
	struct vfio_iommu_type1_dma_map m;
	struct vfio_iommu_type1_dma_unmap u;

	switch (cmd) {
	case VFIO_CHECK_EXTENSION:
	case VFIO_SET_IOMMU:
		snprintf(buf, len, "%lu", (unsigned long)arg);
		return;
	case VFIO_IOMMU_MAP_DMA:
		if (!copy_from_user(&m, arg, sizeof(m))) {
			snprintf(buf, len,
				 "iova=%#llx size=%#llx vaddr=%#llx flags=%#x",
				 (unsigned long long)m.iova,
				 (unsigned long long)m.size,
				 (unsigned long long)m.vaddr, m.flags);
			return;
		}
		break;
	case VFIO_IOMMU_UNMAP_DMA:
		if (!copy_from_user(&u, arg, sizeof(u))) {
			snprintf(buf, len, "iova=%#llx size=%#llx flags=%#x",
				 (unsigned long long)u.iova,
				 (unsigned long long)u.size, u.flags);
			return;
		}
		break;
	}
	snprintf(buf, len, "%p", arg);
}

/* container_ioctl() with VFIOCOMPAT_LOG's trace category on. */
static __attribute__((noinline)) long
container_ioctl_traced(struct container *c, int fd, unsigned int cmd,
		       void *arg)
{
	const char *name = request_name(cmd);
	struct vfio_iommu_type1_dma_unmap u;
	char args[128], res[48], b[16];
	long rc;

	trace_args(cmd, arg, args, sizeof(args));
	rc = container_dispatch(c, fd, cmd, arg);
	if (shim_config.report_file)
		report_call(cmd, rc);
	if (rc < 0)
		snprintf(res, sizeof(res), "%s", errno_name((int)-rc, b));
	else if (cmd == VFIO_IOMMU_UNMAP_DMA &&
		 !copy_from_user(&u, arg, sizeof(u)))
		/* what UNMAP_DMA reported back */
		snprintf(res, sizeof(res), "0, size %#llx",
			 (unsigned long long)u.size);
	else
		snprintf(res, sizeof(res), "%ld", rc);
	if (name)
		shim_log(SHIM_LOG_DEBUG, SHIM_CAT_TRACE,
			 "fd %d VFIO_%s(%s) = %s", fd, name, args, res);
	else
		shim_log(SHIM_LOG_DEBUG, SHIM_CAT_TRACE,
			 "fd %d ioctl %#x(%s) = %s", fd, cmd, args, res);
	return rc;
}

/* Every call but an untraced, unreported MAP_DMA or UNMAP_DMA. */
static __attribute__((noinline)) long
container_ioctl_slow(struct container *c, int fd, unsigned int cmd, void *arg)
{
	long rc;

	if (log_enabled(SHIM_LOG_DEBUG, SHIM_CAT_TRACE))
		return container_ioctl_traced(c, fd, cmd, arg);
	rc = container_dispatch(c, fd, cmd, arg);
	if (shim_config.report_file)
		report_call(cmd, rc);
	return rc;
}

SHIM_HOT long container_ioctl(struct container *c, int fd,
			      unsigned long request, void *arg)
{
	/* the kernel sees the request as a 32-bit value */
	unsigned int cmd = (unsigned int)request;

	/* the calls that come by the thousand go straight to their handler */
	if (shim_config.quiet && c->type) {
		if (cmd == VFIO_IOMMU_MAP_DMA)
			return container_map_dma(c, fd, arg);
		if (cmd == VFIO_IOMMU_UNMAP_DMA)
			return container_unmap_dma(c, fd, arg);
	}
	return container_ioctl_slow(c, fd, cmd, arg);
}

int container_group_joined(struct container *c, int fd, struct group *g)
{
	int rc;

	/* type1 attaches a group joining a container that already has a driver */
	if (c->type) {
		rc = group_attach(g);
		if (rc)
			return rc;
		container_refresh_domain(c, fd);
	}
	obj_get(&g->obj);
	g->next = c->groups;
	c->groups = g;
	return 0;
}

void container_group_left(struct container *c, struct group *g, bool detached)
{
	struct group **p;

	for (p = &c->groups; *p; p = &(*p)->next) {
		if (*p == g) {
			*p = g->next;
			g->next = NULL;
			obj_put(&g->obj);
			break;
		}
	}
	/* the last group gone deprivileges the container: type1 drops everything */
	if (!c->groups && detached)
		container_reset(c, fdtable_find(&c->obj));
}
