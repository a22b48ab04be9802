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
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfiotest.h"

static volatile sig_atomic_t own_sigsys;

/* the request as a raw syscall, past any ioctl() interposer: >= 0 or -errno */
static long raw(int fd, unsigned long req, void *arg)
{
	return VT_NEG(syscall(SYS_ioctl, fd, req, arg));
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
	struct vt_caps caps;
	void *mem;
	int c, g;

	if (argc == 2 && !strcmp(argv[1], "--exec-child")) {
		c = vt_open_container("/dev/vfio/vfio", O_RDWR);
		VT_CHECK(raw(c, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION,
			 "exec'd image: raw GET_API_VERSION");
		if (getenv("VFIOCOMPAT_TRAP"))
			VT_CHECK(seccomp_filters() == 1,
				 "exec'd image: one filter, not stacked (%d)",
				 seccomp_filters());
		return vt_failures ? 1 : 0;
	}
	if (argc != 2)
		return 2;
	signal(SIGSYS, on_sigsys);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	c = vt_open_container("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	g = vt_open_group(atoi(argv[1]), O_RDWR | O_CLOEXEC);
	VT_CHECK(c >= 0 && g >= 0, "open container and group");
	VT_CHECK(raw(c, VFIO_GET_API_VERSION, NULL) == VFIO_API_VERSION,
		 "raw GET_API_VERSION");
	VT_CHECK(raw(c, VFIO_CHECK_EXTENSION, (void *)VFIO_TYPE1v2_IOMMU) == 1,
		 "raw CHECK_EXTENSION(TYPE1v2)");
	VT_CHECK(raw(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == -EINVAL,
		 "raw SET_IOMMU without a group: EINVAL");
	VT_CHECK(raw(g, VFIO_GROUP_SET_CONTAINER, &c) == 0,
		 "raw GROUP_SET_CONTAINER");
	VT_CHECK(raw(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == 0,
		 "raw SET_IOMMU");
	VT_CHECK(raw(c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU) == -EINVAL,
		 "raw SET_IOMMU again: EINVAL (the kernel compat says 0)");
	VT_CHECK(raw(c, VFIO_IOMMU_GET_INFO, &info) == 0, "raw GET_INFO");
	vt_caps_init(&caps, &info, sizeof(info));
	VT_CHECK(vt_caps_next(&caps) &&
			 caps.id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
		 "first cap is MIGRATION (the kernel compat has none)");
	m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	m.vaddr = (uintptr_t)mem;
	m.iova = 0x100000;
	m.size = 0x10000;
	VT_CHECK(raw(c, VFIO_IOMMU_MAP_DMA, &m) == 0, "raw MAP_DMA");
	u.iova = 0x100000;
	u.size = 0x8000;
	VT_CHECK(raw(c, VFIO_IOMMU_UNMAP_DMA, &u) == -EINVAL,
		 "raw bisecting UNMAP_DMA: EINVAL (the kernel compat: ENOENT)");
	u.size = 0x10000;
	VT_CHECK(raw(c, VFIO_IOMMU_UNMAP_DMA, &u) == 0 && u.size == 0x10000,
		 "raw UNMAP_DMA, size written back");
	raise(SIGSYS);
	VT_CHECK(own_sigsys, "the program's own SIGSYS handler still runs");
	VT_CHECK(raw(g, VFIO_GROUP_UNSET_CONTAINER, NULL) == 0,
		 "raw GROUP_UNSET_CONTAINER");
	fflush(stdout);
	if (!vt_failures)
		execl("/proc/self/exe", argv[0], "--exec-child", (char *)NULL);
	return vt_failures ? 1 : 0;
}
