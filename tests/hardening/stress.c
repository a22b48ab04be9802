// SPDX-License-Identifier: MIT
/*
 * Races, as a legacy VFIO program could produce them, on a real kernel:
 * 8 threads map, unmap and query one container (each in its own iova
 * window, so every answer is known), while other threads dup and close the
 * container fd, open and close other containers, and open and close
 * unrelated fds so that fd numbers are reused all the time. Any wrong answer
 * exits 1; run under a TSan build of the shim and of this program, any data
 * race is a TSan report.
 *   stress GROUP_NUMBER SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#define MAPPERS 8
#define SZ 0x10000

static int container;
static atomic_int stop;
static atomic_long wrong, ops;
static uint8_t *mem;

static void bad(const char *what, long rc, int err)
{
	fprintf(stderr, "stress: wrong answer: %s rc=%ld errno=%d\n", what, rc,
		err);
	atomic_fetch_add(&wrong, 1);
}

static void *mapper(void *p)
{
	uint64_t base = 0x10000000ull + (uint64_t)(uintptr_t)p * 0x1000000ull;
	int i = 0;

	while (!atomic_load(&stop)) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)mem + (uintptr_t)p * SZ,
			.iova = base + (uint64_t)(i % 16) * SZ,
			.size = SZ,
		};
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = m.iova, .size = SZ,
		};
		union {
			struct vfio_iommu_type1_info i;
			uint8_t raw[256];
		} info = { .i = { .argsz = sizeof(info) } };
		long rc;

		rc = ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
		if (rc)
			bad("map", rc, errno);
		rc = ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
		if (rc != -1 || errno != EEXIST)
			bad("map again (EEXIST)", rc, errno);
		rc = ioctl(container, VFIO_IOMMU_GET_INFO, &info);
		if (rc || !(info.i.flags & VFIO_IOMMU_INFO_CAPS))
			bad("get_info", rc, errno);
		rc = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u);
		if (rc || u.size != SZ)
			bad("unmap", rc, errno);
		u.size = SZ;
		rc = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u);
		if (rc || u.size != 0)
			bad("unmap again (size 0)", rc, errno);
		i++;
		atomic_fetch_add(&ops, 5);
	}
	return NULL;
}

static void *duper(void *p)
{
	(void)p;
	while (!atomic_load(&stop)) {
		int fd = dup(container), fd2;

		if (fd < 0) {
			bad("dup", fd, errno);
			continue;
		}
		if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
			bad("api version on a dup", -1, errno);
		fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 50);
		if (fd2 >= 0)
			close(fd2);
		close(fd);
		atomic_fetch_add(&ops, 3);
	}
	return NULL;
}

static void *reopener(void *p)
{
	(void)p;
	while (!atomic_load(&stop)) {
		int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			bad("open container", fd, errno);
			continue;
		}
		/* no group: type1 refuses, whatever the fd number was before */
		if (ioctl(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) != -1 ||
		    errno != EINVAL)
			bad("set_iommu without group", -1, errno);
		close(fd);
		atomic_fetch_add(&ops, 2);
	}
	return NULL;
}

static void *churner(void *p)
{
	(void)p;
	while (!atomic_load(&stop)) {
		int fd = open("/dev/null", O_RDONLY);

		/* a VFIO request on a reused number must reach the kernel */
		if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != -1 ||
		    errno != ENOTTY)
			bad("VFIO request on /dev/null", -1, errno);
		close(fd);
		atomic_fetch_add(&ops, 2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[MAPPERS + 6];
	char path[64];
	int group, n = 0, i, secs;

	if (argc != 3) {
		fprintf(stderr, "usage: stress GROUP SECONDS\n");
		return 2;
	}
	secs = atoi(argv[2]);
	mem = mmap(NULL, MAPPERS * SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path, O_RDWR);
	if (mem == MAP_FAILED || container < 0 || group < 0 ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		perror("stress: setup");
		return 2;
	}
	for (i = 0; i < MAPPERS; i++)
		pthread_create(&t[n++], NULL, mapper, (void *)(uintptr_t)i);
	pthread_create(&t[n++], NULL, duper, NULL);
	pthread_create(&t[n++], NULL, duper, NULL);
	pthread_create(&t[n++], NULL, reopener, NULL);
	pthread_create(&t[n++], NULL, churner, NULL);
	pthread_create(&t[n++], NULL, churner, NULL);
	sleep(secs);
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("stress: %ld operations, %ld wrong answers\n", atomic_load(&ops),
	       atomic_load(&wrong));
	close(group);
	close(container);
	return atomic_load(&wrong) ? 1 : 0;
}
