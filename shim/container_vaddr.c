// SPDX-License-Identifier: MIT
/*
 * VFIO_UPDATE_VADDR over iommufd (6.13+: IOAS_MAP_FILE and
 * IOAS_CHANGE_PROCESS): an UNMAP_DMA with FLAG_VADDR marks mappings in the
 * record (the kernel keeps them, pinned and translating, as type1 does); a
 * MAP_DMA with FLAG_VADDR gives one its new vaddr, and charges the pinned
 * pages to the calling process, which may be another one (cpr: a new QEMU
 * over SCM_RIGHTS or exec). Pages can move to another process only if they
 * were mapped from a file, so a MAP_DMA of a noted shared file mmap goes
 * as IOAS_MAP_FILE. See docs/design.md, "VADDR".
 */
#include <errno.h>
#include <linux/vfio.h>

#include "container_priv.h"
#include "filemap.h"
#include "iommufd.h"
#include "log.h"
#include "report.h"

bool vaddr_supported(struct container *c, int fd)
{
	if (!c->vaddr_support) {
		c->vaddr_support = iommufd_has_change_process(fd) ? 1 : 2;
		shim_dbg(SHIM_CAT_CONTAINER, "VFIO_UPDATE_VADDR: %s",
			 c->vaddr_support == 1
				 ? "served (IOAS_MAP_FILE, IOAS_CHANGE_PROCESS)"
				 : "refused (no IOAS_CHANGE_PROCESS)");
	}
	return c->vaddr_support == 1;
}

int map_dma_file(struct container *c, int fd,
		 const struct vfio_iommu_type1_dma_map *map)
{
	uint64_t off;
	int file_fd;

	/* write-only stays on the compat path: a file is mapped readable */
	if (!(map->flags & VFIO_DMA_MAP_FLAG_READ) || !vaddr_supported(c, fd) ||
	    filemap_lookup(map->vaddr, map->size,
			   map->flags & VFIO_DMA_MAP_FLAG_WRITE, &file_fd,
			   &off))
		return 1;
	/* any refusal: the compat path answers as it always has */
	if (iommufd_ioas_map_file(fd, c->ioas_id, file_fd, off, map->size,
				  map->iova,
				  map->flags & VFIO_DMA_MAP_FLAG_WRITE))
		return 1;
	return 0;
}

/*
 * MAP_DMA with FLAG_VADDR, its flags and range already checked: type1's
 * vfio_dma_do_map() with set_vaddr. The pinned pages are charged to this
 * process on every update: the kernel does nothing for the process already
 * charged, and the first update in a new process moves every file's pages
 * (IOAS_CHANGE_PROCESS is per iommufd, not per mapping).
 */
int map_dma_vaddr(struct container *c, int fd,
		  const struct vfio_iommu_type1_dma_map *map)
{
	const struct mapping *m = maptree_find(&c->maps, map->iova, map->size);
	struct mapping *w;
	int rc;

	if (!m)
		return -ENOENT;
	if (!(m->bits & MAPPING_VADDR_INVALID) || m->iova != map->iova ||
	    m->size != map->size)
		return -EINVAL;
	rc = iommufd_ioas_change_process(fd);
	/* type1's vfio_change_dma_owner(): over the new process's limit */
	if (rc == -ENOMEM)
		return rc;
	/* a mapping not from a file: its pages stay charged where they were */
	if (rc)
		report_difference(REPORT_DIFF_VADDR_NOT_REHOMED);
	w = (struct mapping *)m;
	w->vaddr = map->vaddr;
	mapping_set_vaddr_invalid(m, false);
	return 0;
}

/*
 * UNMAP_DMA with FLAG_VADDR over the checked range [iova, iova + size)
 * (size UINT64_MAX: ALL): type1 marks each mapping in it, v1 stopping at
 * one that straddles the start; an already invalid one undoes the marks of
 * this call, EINVAL. Nothing reaches the kernel.
 */
int unmap_dma_vaddr(struct container *c, uint64_t iova, uint64_t size,
		    uint64_t *unmapped)
{
	uint64_t last = iova + (size - 1);
	const struct mapping *m, *n;

	*unmapped = 0;
	for (m = maptree_first_from(&c->maps, iova); m && m->iova <= last;
	     m = maptree_next(&c->maps, m)) {
		if (c->s->type == VFIO_TYPE1_IOMMU && iova > m->iova)
			break;
		if (m->bits & MAPPING_VADDR_INVALID) {
			for (n = maptree_first_from(&c->maps, iova); n != m;
			     n = maptree_next(&c->maps, n))
				mapping_set_vaddr_invalid(n, false);
			*unmapped = 0;
			return -EINVAL;
		}
		mapping_set_vaddr_invalid(m, true);
		*unmapped += m->size;
	}
	return 0;
}

bool vaddr_any_invalid(const struct container *c)
{
	const struct mapping *m;

	for (m = maptree_first_from(&c->maps, 0); m;
	     m = maptree_next(&c->maps, m))
		if (m->bits & MAPPING_VADDR_INVALID)
			return true;
	return false;
}
