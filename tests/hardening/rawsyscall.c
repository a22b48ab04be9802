// SPDX-License-Identifier: MIT
/*
 * A program that bypasses ioctl(): every VFIO request goes through
 * syscall(SYS_ioctl, ...), as partly static or hand-rolled code does. The
 * expectations are type1's. It passes on the real type1 container, and under
 * the shim only in trap mode (VFIOCOMPAT_TRAP=1): without it these raw
 * requests reach the kernel's own compat layer, whose answers differ (the
 * second SET_IOMMU succeeds there). Also: the program's own SIGSYS handler
 * still gets its signals, and an exec'd image keeps one filter.
 *   rawsyscall GROUP_NUMBER
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "check.h"

static volatile sig_atomic_t own_sigsys;


static long raw(int fd, unsigned long req, void *arg)
{
	long rc = syscall(SYS_ioctl, fd, req, arg);

	return rc < 0 ? -errno : rc;
}

static void on_sigsys(int sig)
{
	(void)sig;
	own_sigsys = 1;
}

static int seccomp_filters(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int n = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp_filters:", 16))
			n = atoi(line + 16);
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) };
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u) };
	union {
		struct vfio_iommu_type1_info i;
		uint8_t raw[512];
	} info = { .i = { .argsz = sizeof(info) } };
	struct vfio_info_cap_header *cap;
	char path[64];
	void *mem;
	int c, g;

	if (argc == 2 && !strcmp(argv[1], "--exec-child")) {
		c = open("/dev/vfio/vfio", O_RDWR);
		CHECK(raw(c, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION,
		      "exec'd image: raw GET_API_VERSION");
		if (getenv("VFIOCOMPAT_TRAP"))
			CHECK(seccomp_filters() == 1,
			      "exec'd image: one filter, not stacked (%d)",
			      seccomp_filters());
		return failures ? 1 : 0;
	}
	if (argc != 2)
		return 2;
	signal(SIGSYS, on_sigsys);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	g = open(path, O_RDWR | O_CLOEXEC);
	CHECK(c >= 0 && g >= 0, "open container and group");
	CHECK(raw(c, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION,
	      "raw GET_API_VERSION");
	CHECK(raw(c, VFIO_CHECK_EXTENSION, (void *)VFIO_TYPE1v2_IOMMU) == 1,
	      "raw CHECK_EXTENSION(TYPE1v2)");
	CHECK(raw(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == -EINVAL,
	      "raw SET_IOMMU without a group: EINVAL");
	CHECK(raw(g, VFIO_GROUP_SET_CONTAINER, &c) == 0,
	      "raw GROUP_SET_CONTAINER");
	CHECK(raw(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == 0,
	      "raw SET_IOMMU");
	CHECK(raw(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == -EINVAL,
	      "raw SET_IOMMU again: EINVAL (the kernel compat says 0)");
	CHECK(raw(c, VFIO_IOMMU_GET_INFO, &info) == 0, "raw GET_INFO");
	cap = (void *)(info.raw + info.i.cap_offset);
	CHECK(info.i.cap_offset &&
		      cap->id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
	      "first cap is MIGRATION (the kernel compat has none)");
	m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	m.vaddr = (uintptr_t)mem;
	m.iova = 0x100000;
	m.size = 0x10000;
	CHECK(raw(c, VFIO_IOMMU_MAP_DMA, &m) == 0, "raw MAP_DMA");
	u.iova = 0x100000;
	u.size = 0x8000;
	CHECK(raw(c, VFIO_IOMMU_UNMAP_DMA, &u) == -EINVAL,
	      "raw bisecting UNMAP_DMA: EINVAL (the kernel compat: ENOENT)");
	u.size = 0x10000;
	CHECK(raw(c, VFIO_IOMMU_UNMAP_DMA, &u) == 0 && u.size == 0x10000,
	      "raw UNMAP_DMA, size written back");
	raise(SIGSYS);
	CHECK(own_sigsys, "the program's own SIGSYS handler still runs");
	CHECK(raw(g, VFIO_GROUP_UNSET_CONTAINER, NULL) == 0,
	      "raw GROUP_UNSET_CONTAINER");
	fflush(stdout);
	if (!failures)
		execl("/proc/self/exe", argv[0], "--exec-child", (char *)NULL);
	return failures ? 1 : 0;
}
