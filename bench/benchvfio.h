/* SPDX-License-Identifier: MIT */
/*
 * The legacy container set-up the guest benchmarks share: written only
 * against <linux/vfio.h>, like a program that knows nothing of iommufd.
 * Which container serves it is the caller's choice of path (and preload):
 * /dev/vfio/vfio = type1, /dev/iommu = the kernel's compat,
 * /dev/vfio/vfio with libvfiocompat.so preloaded = vfiocompat.
 */
#ifndef BENCHVFIO_H
#define BENCHVFIO_H

#include <stdint.h>
#include <time.h>

#include "vfiotest.h"

/*
 * The container is BENCH_CONTAINER (default /dev/vfio/vfio). With
 * BENCH_RLIMIT_MODE=N and /dev/iommu as the container, IOMMU_OPTION
 * RLIMIT_MODE is set to N first (1: pinned pages charged per process, as
 * iommufd's own /dev/vfio/vfio and type1 charge them; 0: per user, a plain
 * /dev/iommu's default).
 *
 * Open the container and the edu device's group (VM_EDU_GROUP/VM_EDU_BDF),
 * join them, VFIO_SET_IOMMU(type) and open the device (->device), so a
 * domain is attached in every mode. Exits on failure.
 */
void bench_vfio_open(struct vt_container *v, unsigned long type);
void bench_vfio_close(struct vt_container *v);

/* MAP_DMA, UNMAP_DMA: 0 or -errno (an unmap that did not remove @size: -EIO) */
int vb_map(int container, uint64_t iova, uint64_t size, void *vaddr,
	   uint32_t flags);
int vb_unmap(int container, uint64_t iova, uint64_t size);

static inline uint64_t bench_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* mmap of len bytes, resident (MAP_POPULATE); hugetlb: 2 MiB hugepages. Exits
 * on failure. */
void *bench_alloc(uint64_t len, int hugetlb);

/*
 * Anonymous memory as QEMU allocates guest RAM: 2 MiB aligned,
 * MADV_HUGEPAGE (transparent hugepages where the kernel has them), resident.
 */
void *bench_alloc_ram(uint64_t len);

#endif /* BENCHVFIO_H */
