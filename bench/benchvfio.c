// SPDX-License-Identifier: MIT
/* The legacy container set-up shared by the guest benchmarks (benchvfio.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "benchvfio.h"

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(3);
}

void bench_vfio_open(struct vt_container *v, unsigned long type)
{
	const char *bdf = vt_edu_bdf();
	int group = vt_edu_group();

	if (group < 0 || !bdf) {
		errno = ENODEV;
		die("VM_EDU_GROUP/VM_EDU_BDF not set (run in the tests/vm "
		    "guest)");
	}
	if (vt_container_init(v, vt_container_path("BENCH_CONTAINER"),
			      O_RDWR | O_CLOEXEC))
		die(v->failed);
	if (getenv("BENCH_RLIMIT_MODE")) {
		/*
		 * The kernel's compat container as legacy programs reach it,
		 * /dev/vfio/vfio served by iommufd, charges pinned pages per
		 * process (iommufd_fops_open sets IOPT_PAGES_ACCOUNT_MM for
		 * it); a plain /dev/iommu charges the user. Set the mode the
		 * same way for /dev/iommu opened as the container here
		 * (before the group joins: iommufd refuses it once it holds
		 * objects).
		 */
		struct iommu_option o = {
			.size = sizeof(o),
			.option_id = IOMMU_OPTION_RLIMIT_MODE,
			.op = IOMMU_OPTION_OP_SET,
			.val64 = (uint64_t)atoi(getenv("BENCH_RLIMIT_MODE")),
		};

		if (ioctl(v->container, IOMMU_OPTION, &o))
			die("IOMMU_OPTION(RLIMIT_MODE)");
	}
	/*
	 * type1 attaches the IOMMU domain at SET_IOMMU, the iommufd group path
	 * only when a device is opened: with the device open, every mode pins
	 * and programs the IOMMU on MAP, as QEMU and DPDK see it.
	 */
	if (vt_container_attach(v, group, type) ||
	    vt_container_open_device(v, bdf))
		die(v->failed);
}

void bench_vfio_close(struct vt_container *v)
{
	vt_container_close(v);
}

int vb_map(int container, uint64_t iova, uint64_t size, void *vaddr,
	   uint32_t flags)
{
	return vt_dma_map(container, iova, size, vaddr, flags) ? -errno : 0;
}

int vb_unmap(int container, uint64_t iova, uint64_t size)
{
	uint64_t unmapped;

	if (vt_dma_unmap(container, iova, size, 0, &unmapped))
		return -errno;
	return unmapped == size ? 0 : -EIO;
}

void *bench_alloc(uint64_t len, int hugetlb)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE |
			       (hugetlb ? MAP_HUGETLB : 0),
		       -1, 0);

	if (p == MAP_FAILED)
		die(hugetlb ? "mmap(MAP_HUGETLB) (enough hugepages reserved?)"
			    : "mmap");
	/* MAP_POPULATE write-faulted every page of the private mapping in */
	return p;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

void *bench_alloc_ram(uint64_t len)
{
	const uint64_t align = 2ull << 20;
	uint8_t *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		die("mmap");
	a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + len, (size_t)(p + align - a));
	/* as QEMU does for guest RAM (qemu_ram_mmap aligns, ram_block_add
	 * madvises) */
	madvise(a, len, MADV_HUGEPAGE);
	if (madvise(a, len, MADV_POPULATE_WRITE))
		memset(a, 0, len);
	return a;
}
