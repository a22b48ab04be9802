/* SPDX-License-Identifier: MIT */
/*
 * MAP_DMA of a device BAR (peer-to-peer DMA). type1 maps a vaddr inside an
 * mmap of a VFIO device's region (a VM_PFNMAP range) by PFN; iommufd cannot
 * pin it, but since 6.19 maps a dma-buf that vfio-pci exports for a BAR
 * range. The anon inode of a device fd is shared by every device, so the
 * mapping cannot be told from /proc/self/maps: the interposer reports each
 * mmap of a device fd here, and a MAP_DMA that the kernel refused with
 * EFAULT (only then: the RAM path never looks) is served from the table.
 */
#ifndef SHIM_DMABUF_H
#define SHIM_DMABUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How many device mmaps the table holds: munmap looks only if nonzero. */
extern atomic_uint dmabuf_nmmaps;

/* The program mapped [addr, addr + len) of device fd at file offset off. */
void dmabuf_note_mmap(void *addr, size_t len, int fd, off_t off);
/* The program unmapped (or mapped over) [addr, addr + len). */
void dmabuf_note_munmap(void *addr, size_t len);

/*
 * MAP_DMA whose vaddr the kernel could not pin: if [vaddr, vaddr + size)
 * lies inside one mmap of one device's BAR, map a dma-buf of that range at
 * iova in ioas_id. 0, or -EFAULT as type1's answer when it cannot (no such
 * mmap, a kernel without the export, the device's memory disabled). The
 * shim lock is held; the kernel keeps the dma-buf, so nothing is kept here
 * and the ordinary unmap releases it.
 */
struct vfio_iommu_type1_dma_map;
int dmabuf_map_dma(int iommufd, uint32_t ioas_id,
		   const struct vfio_iommu_type1_dma_map *map);

#endif /* SHIM_DMABUF_H */
