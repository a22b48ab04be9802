// SPDX-License-Identifier: MIT
/* MAP_DMA of a device BAR through a vfio-pci dma-buf; see dmabuf.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <linux/vfio.h>

#include "dmabuf.h"
#include "fdtable.h"
#include "iommufd.h"
#include "log.h"
#include "vfiodev.h"

/* One mmap of a device fd: [start, end) shows the fd from file offset off. */
struct devmap {
	uintptr_t start, end;
	uint64_t off;
	struct shim_obj *dev;	/* a reference: the fd may close first */
};

atomic_uint dmabuf_nmmaps;
static struct devmap *maps;	/* under the shim lock */
static unsigned int nmaps, cap;

static int add(uintptr_t start, uintptr_t end, uint64_t off,
	       struct shim_obj *dev)
{
	struct devmap *p;

	if (nmaps == cap) {
		p = realloc(maps, (cap ? 2 * cap : 8) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		maps = p;
		cap = cap ? 2 * cap : 8;
	}
	obj_get(dev);
	maps[nmaps++] = (struct devmap){ start, end, off, dev };
	fdtable_mmap_notes_set(&dmabuf_nmmaps, nmaps);
	return 0;
}

/* Cut [a, b) out of every entry, as the kernel cuts the VMAs. */
static void cut(uintptr_t a, uintptr_t b)
{
	unsigned int i = 0;
	struct devmap m;

	while (i < nmaps) {
		m = maps[i];
		if (m.end <= a || m.start >= b) {
			i++;
			continue;
		}
		/* the part before a stays where it is, the part after is new */
		if (m.end > b)
			add(b, m.end, m.off + (b - m.start), m.dev);
		if (m.start < a) {
			maps[i++].end = a;
			continue;
		}
		obj_put(m.dev);
		maps[i] = maps[--nmaps];
	}
	fdtable_mmap_notes_set(&dmabuf_nmmaps, nmaps);
}

void dmabuf_note_mmap(void *addr, size_t len, int fd, off_t off)
{
	uintptr_t a = (uintptr_t)addr;
	struct shim_obj *dev;

	if (!len || a + len < a)
		return;
	shim_lock();
	cut(a, a + len);
	dev = fdtable_lookup(fd);
	if (dev && dev->kind == SHIM_DEVICE && add(a, a + len, off, dev))
		shim_warn(SHIM_CAT_FD, "no memory to note a device mmap");
	shim_unlock();
}

void dmabuf_note_munmap(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (!len || a + len < a)
		return;
	shim_lock();
	cut(a, a + len);
	shim_unlock();
}

/* The device mmap holding vaddr, else NULL and *next the next one's start. */
static const struct devmap *find(uint64_t vaddr, uint64_t *next)
{
	unsigned int i;

	*next = UINT64_MAX;
	for (i = 0; i < nmaps; i++) {
		if (vaddr >= maps[i].start && vaddr < maps[i].end)
			return &maps[i];
		if (maps[i].start > vaddr && maps[i].start < *next)
			*next = maps[i].start;
	}
	return NULL;
}

/* [vaddr, vaddr + size) of one device mmap m, as a dma-buf at iova. */
static int map_bar(int iommufd, uint32_t ioas_id, const struct devmap *m,
		   uint64_t vaddr, uint64_t size, uint64_t iova, bool writeable)
{
	int dev_fd = obj_fd(m->dev), buf, rc;
	uint64_t bar_off;
	uint32_t index;

	if (dev_fd < 0)
		return -EFAULT;
	rc = vfiodev_bar_at(dev_fd, m->off + (vaddr - m->start), size, &index,
			    &bar_off);
	if (rc)
		return -EFAULT;
	buf = vfiodev_feature_dma_buf(dev_fd, index, bar_off, size);
	if (buf < 0) {
		shim_dbg(SHIM_CAT_IOMMUFD, "BAR%u dma-buf: errno %d", index,
			 -buf);
		return -EFAULT;
	}
	rc = iommufd_ioas_map_file(iommufd, ioas_id, buf, 0, size, iova,
				   writeable);
	/* the IOAS holds its own reference to the dma-buf */
	vfiodev_close(buf);
	return rc ? -EFAULT : 0;
}

/*
 * type1 maps a range piece by piece, PFN runs and pinned pages alike; so
 * does this: each piece inside a device mmap as a dma-buf, each piece
 * between them as user memory. A failure undoes what was mapped.
 */
int dmabuf_map_dma(int iommufd, uint32_t ioas_id,
		   const struct vfio_iommu_type1_dma_map *map)
{
	uint64_t at = map->vaddr, end = map->vaddr + map->size, next, piece;
	struct vfio_iommu_type1_dma_map part = *map;
	bool writeable = map->flags & VFIO_DMA_MAP_FLAG_WRITE;
	const struct devmap *m;
	bool any = false;
	int rc = 0;

	for (; at < end && !rc; at += piece) {
		m = find(at, &next);
		part.iova = map->iova + (at - map->vaddr);
		if (m) {
			any = true;
			piece = (m->end < end ? m->end : end) - at;
			rc = map_bar(iommufd, ioas_id, m, at, piece, part.iova,
				     writeable);
		} else {
			piece = (next < end ? next : end) - at;
			/* no device mmap in the whole range: nothing to add */
			if (piece == map->size)
				return -EFAULT;
			part.vaddr = at;
			part.size = piece;
			rc = iommufd_compat_map_dma(iommufd, &part);
		}
	}
	if (!rc)
		return 0;
	if (at - piece > map->vaddr)
		iommufd_ioas_unmap(iommufd, ioas_id, map->iova,
				   at - piece - map->vaddr, &next);
	return any ? rc : -EFAULT;
}
