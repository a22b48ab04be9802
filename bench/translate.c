// SPDX-License-Identifier: MIT
/*
 * translate: MAP_DMA + UNMAP_DMA throughput through a legacy VFIO container
 * (TYPE1v2, the edu device's group, device open), in the tests/vm guest.
 * The container is whatever BENCH_CONTAINER names (see benchvfio.h).
 *
 *   translate run ROW:K[:S] [ROW:K[:S] ...]
 *     4k    a 4 KiB anonymous page at IOVA 4 GiB
 *     2m    one 2 MiB hugepage at IOVA 4 GiB
 *     1g    1 GiB of 2 MiB hugepages at IOVA 4 GiB
 *     1m    1 MiB of anonymous 4 KiB pages at IOVA 4 GiB
 *     memfd 1 MiB of a memfd mapped MAP_SHARED at IOVA 4 GiB (QEMU's guest RAM
 *           for cpr): the shim maps it as IOAS_MAP_FILE from 6.13, the
 *           kernel compat (and BENCH_IOAS's IOAS_MAP) by its address
 *     memfd_file (BENCH_IOAS only) the same memfd, each map one native
 *           IOMMU_IOAS_MAP_FILE: the floor of the file route
 *     bar   the edu device's BAR0 (1 MiB) mmapped, at IOVA 4 GiB: the
 *           peer-to-peer map; where the container cannot map a BAR (the
 *           kernel compat, or a kernel before 6.19 under the shim) the row
 *           prints "row bar unsupported errno E" and the run goes on
 *     qemu  what QEMU does with 1 GiB of guest RAM: the RAM and BIOS sections
 *           of a q35 machine mapped (RAM below 768 KiB, two 128 KiB ROM
 *           shadows read-only, RAM from 1 MiB to 1 GiB, the 256 KiB BIOS
 *           below 4 GiB read-only), then unmapped section by section
 *   One unmeasured op first, then S samples (default 1) of K ops each; one op
 *   is one MAP + one UNMAP (one sequence for qemu). Prints, per row, the
 *   fastest sample's and the median sample's time per op:
 *     row NAME ops K samples S ns_per_op MIN median MEDIAN
 *
 *   translate syscost K
 *     ns per process_vm_readv of 32 bytes of our own memory (how the shim
 *     reads an argument that is not on the caller's stack) and per getppid,
 *     the fastest of 10 samples of K calls each:
 *     "syscost process_vm_readv X getppid Y". Needs no VFIO.
 *
 *   BENCH_IOAS=1 (with BENCH_CONTAINER=/dev/iommu): the same container,
 *   but each MAP and UNMAP of a run row is one native IOMMU_IOAS_MAP /
 *   IOMMU_IOAS_UNMAP on its compat IOAS: the floor for anything that turns
 *   one legacy call into one IOAS call.
 *
 *   translate count K
 *     K MAP_DMA of distinct 4 KiB pages, then K UNMAP_DMA, between marker
 *     calls close(-77), close(-78), close(-79), for counting the kernel
 *     calls under strace.
 *
 * Memory is resident before the clock starts (QEMU's RAM of a running guest
 * and DPDK's hugepages are), so the rows time pinning and IOMMU programming,
 * not page faults. The qemu row's RAM is allocated as QEMU allocates it
 * (2 MiB aligned, MADV_HUGEPAGE), the BIOS as a plain anonymous mapping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "benchvfio.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define IOVA (4 * GiB)
#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define RO VFIO_DMA_MAP_FLAG_READ
#define MAX_SAMPLES 64

static struct vt_container v;
static uint32_t native_ioas; /* BENCH_IOAS: the compat IOAS, driven natively */
static int file_fd = -1;     /* memfd_file: map this file, not the address */

/* IOMMU_IOAS_MAP_FILE (6.13), spelled here: the build's headers may predate it */
struct ioas_map_file {
	uint32_t size, flags, ioas_id;
	int32_t fd;
	uint64_t start, length, iova;
};
#define BENCH_IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, 0x8f)

static void check(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "translate: %s: %s\n", what, strerror(-rc));
		exit(1);
	}
}

struct section {
	uint64_t iova, size, off; /* off into RAM, or into the BIOS when bios */
	uint32_t flags;
	int bios;
};

/* q35 with 1 GiB of RAM, as QEMU 7.2's vfio listener maps it (see
 * research/e2e-feasibility.md A.3) */
static const struct section qemu_sections[] = {
	{0x0, 0xc0000, 0x0, RW, 0},
	{0xc0000, 0x20000, 0xc0000, RO, 0},
	{0xe0000, 0x20000, 0xe0000, RO, 0},
	{0x100000, GiB - 0x100000, 0x100000, RW, 0},
	{0xfffc0000, 0x40000, 0x0, RO, 1},
};
#define NSECT (sizeof(qemu_sections) / sizeof(qemu_sections[0]))

/* One MAP_DMA, or with BENCH_IOAS one IOMMU_IOAS_MAP of the same range. */
static inline int map(uint64_t iova, uint64_t size, void *vaddr,
		      uint32_t flags)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
			 (flags & VFIO_DMA_MAP_FLAG_READ ?
				  IOMMU_IOAS_MAP_READABLE : 0) |
			 (flags & VFIO_DMA_MAP_FLAG_WRITE ?
				  IOMMU_IOAS_MAP_WRITEABLE : 0),
		.ioas_id = native_ioas,
		.user_va = (uint64_t)(uintptr_t)vaddr,
		.length = size,
		.iova = iova,
	};

	if (!native_ioas)
		return vb_map(v.container, iova, size, vaddr, flags);
	if (file_fd >= 0) {
		struct ioas_map_file f = {
			.size = sizeof(f),
			.flags = m.flags,
			.ioas_id = native_ioas,
			.fd = file_fd,
			.start = 0,
			.length = size,
			.iova = iova,
		};

		return ioctl(v.container, BENCH_IOMMU_IOAS_MAP_FILE, &f) ? -errno : 0;
	}
	return ioctl(v.container, IOMMU_IOAS_MAP, &m) ? -errno : 0;
}

/* One UNMAP_DMA, or with BENCH_IOAS one IOMMU_IOAS_UNMAP. */
static inline int unmap(uint64_t iova, uint64_t size)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = native_ioas,
		.iova = iova,
		.length = size,
	};

	if (!native_ioas)
		return vb_unmap(v.container, iova, size);
	if (ioctl(v.container, IOMMU_IOAS_UNMAP, &u))
		return -errno;
	return u.length == size ? 0 : -EIO;
}

static void one_pair(uint8_t *buf, uint64_t size)
{
	check(map(IOVA, size, buf, RW), "MAP_DMA");
	check(unmap(IOVA, size), "UNMAP_DMA");
}

static void qemu_sequence(uint8_t *ram, uint8_t *bios)
{
	const struct section *s;
	size_t i;

	for (i = 0; i < NSECT; i++) {
		s = &qemu_sections[i];
		check(map(s->iova, s->size, (s->bios ? bios : ram) + s->off,
			  s->flags),
		      "MAP_DMA (qemu)");
	}
	for (i = 0; i < NSECT; i++) {
		s = &qemu_sections[i];
		check(unmap(s->iova, s->size), "UNMAP_DMA (qemu)");
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The edu device's BAR0 mmapped, *size its size. Exits on failure. */
static uint8_t *map_bar0(uint64_t *size)
{
	struct vfio_region_info bar = {
		.argsz = sizeof(bar),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	void *p;

	if (ioctl(v.device, VFIO_DEVICE_GET_REGION_INFO, &bar))
		check(-errno, "GET_REGION_INFO(BAR0)");
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, v.device,
		 (off_t)bar.offset);
	if (p == MAP_FAILED)
		check(-errno, "mmap(BAR0)");
	*size = bar.size;
	return p;
}

/* size bytes of a new memfd, mapped shared and resident; *fd the memfd. */
static uint8_t *memfd_alloc(uint64_t size, int *fd)
{
	void *p;

	*fd = memfd_create("bench", MFD_CLOEXEC);
	if (*fd < 0 || ftruncate(*fd, (off_t)size))
		check(-errno, "memfd");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED)
		check(-errno, "mmap(memfd)");
	memset(p, 1, size);
	return p;
}

static void run_row(const char *row, long k, int nsamples)
{
	uint64_t size = 0, t0, t1;
	uint8_t *buf, *bios = NULL;
	int qemu = !strcmp(row, "qemu");
	int rc, mfd = -1;
	double sample[MAX_SAMPLES];
	long i;
	int j;

	if (!strcmp(row, "4k")) {
		size = 4 * KiB;
		buf = bench_alloc(size, 0);
	} else if (!strcmp(row, "2m")) {
		size = 2 * MiB;
		buf = bench_alloc(size, 1);
	} else if (!strcmp(row, "1g")) {
		size = GiB;
		buf = bench_alloc(size, 1);
	} else if (!strcmp(row, "1m")) {
		size = MiB;
		buf = bench_alloc(size, 0);
	} else if (!strcmp(row, "memfd")) {
		size = MiB;
		buf = memfd_alloc(size, &mfd);
	} else if (!strcmp(row, "memfd_file")) {
		size = MiB;
		buf = memfd_alloc(size, &mfd);
		rc = native_ioas ? 0 : -EOPNOTSUPP;
		file_fd = mfd;
		if (!rc)
			rc = map(IOVA, size, buf, RW);
		if (rc) {
			printf("row memfd_file unsupported errno %d\n", -rc);
			fflush(stdout);
			file_fd = -1;
			munmap(buf, size);
			close(mfd);
			return;
		}
		check(unmap(IOVA, size), "UNMAP_DMA");
	} else if (!strcmp(row, "bar")) {
		buf = map_bar0(&size);
		rc = map(IOVA, size, buf, RW);
		if (rc) {
			printf("row bar unsupported errno %d\n", -rc);
			fflush(stdout);
			munmap(buf, size);
			return;
		}
		check(unmap(IOVA, size), "UNMAP_DMA");
	} else if (qemu) {
		size = GiB;
		buf = bench_alloc_ram(size);
		bios = bench_alloc(256 * KiB, 0);
	} else {
		fprintf(stderr, "translate: unknown row %s\n", row);
		exit(2);
	}
	/* one unmeasured round: page tables of the IOMMU and of the process */
	if (qemu)
		qemu_sequence(buf, bios);
	else
		one_pair(buf, size);
	for (j = 0; j < nsamples; j++) {
		t0 = bench_now_ns();
		for (i = 0; i < k; i++) {
			if (qemu)
				qemu_sequence(buf, bios);
			else
				one_pair(buf, size);
		}
		t1 = bench_now_ns();
		sample[j] = (double)(t1 - t0) / (double)k;
	}
	qsort(sample, (size_t)nsamples, sizeof(sample[0]), cmp_double);
	printf("row %s ops %ld samples %d ns_per_op %.0f median %.0f\n", row, k,
	       nsamples, sample[0], sample[nsamples / 2]);
	fflush(stdout);
	munmap(buf, size);
	file_fd = -1;
	if (mfd >= 0)
		close(mfd);
	if (bios)
		munmap(bios, 256 * KiB);
}

static void count(long k)
{
	uint8_t *buf = bench_alloc((uint64_t)k * 4 * KiB, 0);
	long i;

	close(-77);
	for (i = 0; i < k; i++)
		check(vb_map(v.container, IOVA + (uint64_t)i * 4 * KiB, 4 * KiB,
			     buf + i * 4 * KiB, RW),
		      "MAP_DMA");
	close(-78);
	for (i = 0; i < k; i++)
		check(vb_unmap(v.container, IOVA + (uint64_t)i * 4 * KiB,
			       4 * KiB),
		      "UNMAP_DMA");
	close(-79);
	printf("count maps %ld unmaps %ld\n", k, k);
}

static void syscost(long k)
{
	char a[32] = {0}, b[32];
	struct iovec local = {b, sizeof(b)}, remote = {a, sizeof(a)};
	double best_rv = 0, best_gp = 0, rv, gp;
	pid_t pid = getpid();
	uint64_t t0, t1, t2;
	long i;
	int j;

	/* the fastest of 10 samples: a shared host only ever adds time */
	for (j = 0; j < 10; j++) {
		t0 = bench_now_ns();
		for (i = 0; i < k; i++)
			if (syscall(SYS_process_vm_readv, pid, &local, 1,
				    &remote, 1, 0) != sizeof(a))
				check(-errno, "process_vm_readv");
		t1 = bench_now_ns();
		for (i = 0; i < k; i++)
			syscall(SYS_getppid);
		t2 = bench_now_ns();
		rv = (double)(t1 - t0) / (double)k;
		gp = (double)(t2 - t1) / (double)k;
		if (!j || rv < best_rv)
			best_rv = rv;
		if (!j || gp < best_gp)
			best_gp = gp;
	}
	printf("syscost process_vm_readv %.0f getppid %.0f\n", best_rv,
	       best_gp);
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 3 && !strcmp(argv[1], "syscost")) {
		syscost(atol(argv[2]));
		return 0;
	}
	if (argc < 3 || (strcmp(argv[1], "run") && strcmp(argv[1], "count"))) {
		fprintf(stderr, "usage: translate run ROW:K... | translate "
				"count K | translate syscost K\n");
		return 2;
	}
	bench_vfio_open(&v, VFIO_TYPE1v2_IOMMU);
	if (getenv("BENCH_IOAS") && *getenv("BENCH_IOAS") == '1') {
		struct iommu_vfio_ioas g = {
			.size = sizeof(g),
			.op = IOMMU_VFIO_IOAS_GET,
		};

		if (ioctl(v.container, IOMMU_VFIO_IOAS, &g))
			check(-errno, "IOMMU_VFIO_IOAS(GET) (BENCH_IOAS needs "
				      "BENCH_CONTAINER=/dev/iommu)");
		native_ioas = g.ioas_id;
	}
	if (!strcmp(argv[1], "count")) {
		count(atol(argv[2]));
	} else {
		for (i = 2; i < argc; i++) {
			char row[16];
			long k = 1, n = 1;
			const char *colon = strchr(argv[i], ':');
			size_t len = colon ? (size_t)(colon - argv[i])
					   : strlen(argv[i]);

			if (len >= sizeof(row))
				len = sizeof(row) - 1;
			memcpy(row, argv[i], len);
			row[len] = 0;
			if (colon) {
				k = atol(colon + 1);
				colon = strchr(colon + 1, ':');
				if (colon)
					n = atol(colon + 1);
			}
			run_row(row, k > 0 ? k : 1,
				n < 1		  ? 1
				: n > MAX_SAMPLES ? MAX_SAMPLES
						  : (int)n);
		}
	}
	bench_vfio_close(&v);
	return 0;
}
