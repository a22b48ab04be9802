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
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vfiotest.h"

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
		uint64_t iova = base + (uint64_t)(i % 16) * SZ, size;
		void *va = mem + (uintptr_t)p * SZ;
		union {
			struct vfio_iommu_type1_info i;
			uint8_t raw[256];
		} info;
		long rc;

		rc = vt_dma_map(container, iova, SZ, va, VT_RW);
		if (rc)
			bad("map", rc, errno);
		rc = vt_dma_map(container, iova, SZ, va, VT_RW);
		if (rc != -1 || errno != EEXIST)
			bad("map again (EEXIST)", rc, errno);
		rc = vt_iommu_get_info(container, &info, sizeof(info));
		if (rc || !(info.i.flags & VFIO_IOMMU_INFO_CAPS))
			bad("get_info", rc, errno);
		rc = vt_dma_unmap(container, iova, SZ, 0, &size);
		if (rc || size != SZ)
			bad("unmap", rc, errno);
		rc = vt_dma_unmap(container, iova, SZ, 0, &size);
		if (rc || size != 0)
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
		if (vt_get_api_version(fd) != VFIO_API_VERSION)
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
		int fd = vt_open_container("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			bad("open container", fd, errno);
			continue;
		}
		/* no group: type1 refuses, whatever the fd number was before */
		if (vt_set_iommu(fd, VFIO_TYPE1v2_IOMMU) != -1 || errno != EINVAL)
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
		if (vt_check_extension(fd, VFIO_TYPE1v2_IOMMU) != -1 ||
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
	struct vt_container vc;
	int n = 0, i, secs;

	if (argc != 3) {
		fprintf(stderr, "usage: stress GROUP SECONDS\n");
		return 2;
	}
	secs = atoi(argv[2]);
	mem = mmap(NULL, MAPPERS * SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED) {
		perror("stress: mmap");
		return 2;
	}
	if (vt_container_setup(&vc, "/dev/vfio/vfio", O_RDWR, atoi(argv[1]),
			       VFIO_TYPE1v2_IOMMU)) {
		fprintf(stderr, "stress: setup: %s: %s\n", vc.failed,
			strerror(errno));
		return 2;
	}
	container = vc.container;
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
	close(vc.group);
	close(vc.container);
	return atomic_load(&wrong) ? 1 : 0;
}
