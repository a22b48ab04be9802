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

const char *bench_container_path(void)
{
	const char *p = getenv("BENCH_CONTAINER");

	return p && *p ? p : "/dev/vfio/vfio";
}

static int edu_group(void)
{
	const char *g = getenv("VM_EDU_GROUP");
	const char *bdf = getenv("VM_EDU_BDF");
	char p[256], l[256];
	ssize_t n;

	if (g && *g)
		return atoi(g);
	if (!bdf)
		return -1;
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return -1;
	l[n] = 0;
	return atoi(strrchr(l, '/') + 1);
}

void bench_vfio_open(struct bench_vfio *v, unsigned long type)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	const char *bdf = getenv("VM_EDU_BDF");
	int gno = edu_group();
	char p[64];

	if (gno < 0 || !bdf) {
		errno = ENODEV;
		die("VM_EDU_GROUP/VM_EDU_BDF not set (run in the tests/vm "
		    "guest)");
	}
	v->container = open(bench_container_path(), O_RDWR | O_CLOEXEC);
	if (v->container < 0)
		die(bench_container_path());
	if (getenv("BENCH_RLIMIT_MODE")) {
		/*
		 * The kernel's compat container as legacy programs reach it,
		 * /dev/vfio/vfio served by iommufd, charges pinned pages per
		 * process (iommufd_fops_open sets IOPT_PAGES_ACCOUNT_MM for
		 * it); a plain /dev/iommu charges the user. Set the mode the
		 * same way for /dev/iommu opened as the container here.
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
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		die("VFIO_GET_API_VERSION");
	snprintf(p, sizeof(p), "/dev/vfio/%d", gno);
	v->group = open(p, O_RDWR | O_CLOEXEC);
	if (v->group < 0)
		die(p);
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("group not viable");
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container))
		die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(v->container, VFIO_SET_IOMMU, type))
		die("VFIO_SET_IOMMU");
	/*
	 * type1 attaches the IOMMU domain at SET_IOMMU, the iommufd group path
	 * only when a device is opened: with the device open, every mode pins
	 * and programs the IOMMU on MAP, as QEMU and DPDK see it.
	 */
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->device < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
}

void bench_vfio_close(struct bench_vfio *v)
{
	close(v->device);
	ioctl(v->group, VFIO_GROUP_UNSET_CONTAINER);
	close(v->group);
	close(v->container);
}

int vb_map(int container, uint64_t iova, uint64_t size, void *vaddr,
	   uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uint64_t)(uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

int vb_unmap(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	return u.size == size ? 0 : -EIO;
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
