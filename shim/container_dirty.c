// SPDX-License-Identifier: MIT
/*
 * Dirty-page tracking as type1 reports it for devices that cannot say what
 * they wrote: every page of a mapping is dirty. VFIO_IOMMU_DIRTY_PAGES and
 * UNMAP_DMA's GET_DIRTY_BITMAP are computed here from the record alone; the
 * kernel is never asked. See container_priv.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>

#include "config.h"
#include "container_priv.h"
#include "uaccess.h"

int verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < DIRTY_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

/* Words type1 allocates per mapping: its bitmap plus one for shifting. */
static size_t dirty_words(const struct mapping *m, unsigned int pgshift)
{
	return ((m->size >> pgshift) + 63) / 64 + 1;
}

/*
 * The mapping's words in this process: by node index, valid while the node
 * is the same use of it (serial) and no holder has dropped every bitmap
 * since (the record's epoch). A holder's bitmaps are its own; the state that
 * decides type1's answers (tracking on or off) is the record's.
 */
static void dirty_sync(struct container *c)
{
	uint32_t i;

	if (c->dirty_epoch == c->s->dirty_epoch)
		return;
	for (i = 0; i < c->dirty_len; i++) {
		free(c->dirty[i].words);
		c->dirty[i].words = NULL;
	}
	c->dirty_epoch = c->s->dirty_epoch;
}

static uint64_t *dirty_get(struct container *c, const struct mapping *m,
			   unsigned int pgshift)
{
	uint32_t i = maptree_index(&c->maps, m);
	struct dirty_words *d;

	dirty_sync(c);
	if (i >= c->dirty_len) {
		uint32_t len = i + 1 > 2 * c->dirty_len ? i + 1 : 2 * c->dirty_len;

		d = realloc(c->dirty, len * sizeof(*d));
		if (!d)
			return NULL;
		memset(d + c->dirty_len, 0, (len - c->dirty_len) * sizeof(*d));
		c->dirty = d;
		c->dirty_len = len;
	}
	d = &c->dirty[i];
	if (d->words && d->serial != m->serial) {
		free(d->words);
		d->words = NULL;
	}
	if (!d->words) {
		d->words = calloc(dirty_words(m, pgshift), sizeof(uint64_t));
		d->serial = m->serial;
	}
	return d->words;
}

void dirty_forget(struct container *c, const struct mapping *m)
{
	uint32_t i = maptree_index(&c->maps, m);

	if (i < c->dirty_len && c->dirty[i].words) {
		free(c->dirty[i].words);
		c->dirty[i].words = NULL;
	}
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
int mark_dirty(struct container *c, uint64_t *bitmap, const struct mapping *m,
	       uint64_t base, unsigned int pgshift, bool clear_after)
{
	uint64_t *dirty;
	uint64_t nbits = m->size >> pgshift;
	uint64_t bit = (m->iova - base) >> pgshift;
	uint64_t first = bit / 64, shift = bit % 64, leftover;
	void *word = user_offset(bitmap, first * sizeof(uint64_t));
	int rc;

	dirty = dirty_get(c, m, pgshift);
	if (!dirty)
		return -ENOMEM;
	bits_set(dirty, 0, nbits, true);
	if (shift) {
		bits_shift_left(dirty, (unsigned int)shift, nbits + shift);
		rc = copy_from_user(&leftover, word, sizeof(leftover));
		if (rc)
			return rc;
		dirty[0] |= leftover;
	}
	rc = copy_to_user(word, dirty, DIRTY_BITMAP_BYTES(nbits + shift));
	if (rc)
		return rc;
	if (clear_after)
		bits_set(dirty, 0, nbits, false);
	return 0;
}

void dirty_free_all(struct container *c)
{
	/* every holder's words go: they see the epoch move */
	c->s->dirty_epoch++;
	dirty_sync(c);
}

void dirty_release(struct container *c)
{
	uint32_t i;

	for (i = 0; i < c->dirty_len; i++)
		free(c->dirty[i].words);
	free(c->dirty);
	c->dirty = NULL;
	c->dirty_len = 0;
}

/* VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, its struct after the header read. */
static int dirty_get_bitmap(struct container *c, void *arg, size_t minsz)
{
	struct vfio_iommu_type1_dirty_bitmap_get range;
	const struct mapping *m;
	uint64_t pgsize;
	int rc;

	rc = copy_from_user(&range, user_offset(arg, minsz), sizeof(range));
	if (rc)
		return rc;
	if (type1_since(6, 19)) {
		if (!range.size)
			return -EINVAL;
		if (wraps(range.iova, range.size))
			return -EOVERFLOW;
	} else if (range.iova + range.size < range.iova) {
		/* before 6.19 a range ending exactly at 2^64 is refused too */
		return -EINVAL;
	}
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
	if (!c->s->dirty_tracking)
		return -EINVAL;
	if (bisects(c, range.iova, range.size))
		return -EINVAL;
	for (m = maptree_first_from(&c->maps, range.iova); m;
	     m = maptree_next(&c->maps, m)) {
		if (m->iova < range.iova)
			continue;
		if (m->iova > range.iova + range.size - 1)
			break;
		rc = mark_dirty(c, (uint64_t *)range.bitmap.data, m,
				range.iova, ffs64(pgsize), true);
		if (rc)
			return rc;
	}
	return 0;
}

long container_dirty_pages(struct container *c, int fd, void *arg)
{
	struct vfio_iommu_type1_dirty_bitmap dirty;
	size_t minsz = DIRTY_PAGES_MINSZ;
	uint32_t mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
			VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	int rc;

	(void)fd; /* nothing of this reaches the kernel */
	if (c->s->type != VFIO_TYPE1v2_IOMMU)
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
		c->s->dirty_tracking = true;
		return 0;
	}
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		/* type1 frees the per-mapping bitmaps: their state goes too */
		if (c->s->dirty_tracking)
			dirty_free_all(c);
		c->s->dirty_tracking = false;
		return 0;
	}
	if (dirty.argsz - minsz <
	    sizeof(struct vfio_iommu_type1_dirty_bitmap_get))
		return -EINVAL;
	return dirty_get_bitmap(c, arg, minsz);
}
