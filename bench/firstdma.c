// SPDX-License-Identifier: MIT
/*
 * firstdma: open-to-first-DMA time through a legacy VFIO container in the
 * tests/vm guest: open("/dev/vfio/vfio") (BENCH_CONTAINER), the edu's group,
 * SET_CONTAINER, SET_IOMMU(TYPE1v2), GET_DEVICE_FD, then the first MAP_DMA
 * of one resident 2 MiB region; the clock stops when that map returns.
 * Everything is closed again between samples (not timed).
 *
 *   firstdma N
 *     N samples; prints the fastest and the median:
 *     firstdma samples N ns MIN median MEDIAN
 *
 * On a kernel without VFIO groups the group steps are the shim's (the device
 * cdev bound to the container's iommufd and attached to its IOAS); with
 * groups, the kernel's: the one program measures both.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <linux/vfio.h>

#include "benchvfio.h"

#define IOVA (4ull << 30)
#define LEN (2ull << 20)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0, i;
	void *buf = bench_alloc(LEN, 0);
	struct vt_container v;
	uint64_t *ns, t0;

	if (n <= 0) {
		fprintf(stderr, "usage: firstdma N\n");
		return 2;
	}
	ns = calloc((size_t)n, sizeof(*ns));
	if (!ns)
		return 3;
	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		bench_vfio_open(&v, VFIO_TYPE1v2_IOMMU);
		if (vb_map(v.container, IOVA, LEN, buf,
			   VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) {
			perror("firstdma: MAP_DMA");
			return 3;
		}
		ns[i] = bench_now_ns() - t0;
		if (vb_unmap(v.container, IOVA, LEN)) {
			perror("firstdma: UNMAP_DMA");
			return 3;
		}
		bench_vfio_close(&v);
	}
	qsort(ns, (size_t)n, sizeof(*ns), cmp_u64);
	printf("firstdma samples %d ns %llu median %llu\n", n,
	       (unsigned long long)ns[0], (unsigned long long)ns[n / 2]);
	return 0;
}
