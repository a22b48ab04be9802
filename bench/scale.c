// SPDX-License-Identifier: MIT
/*
 * scale: what the shim's own bookkeeping costs per MAP_DMA and per
 * UNMAP_DMA with L mappings already live, over the in-memory fake kernel
 * (tests/fake), for callgrind.
 *
 *   scale L K     set up a TYPE1v2 container with L live 4 KiB mappings,
 *                 then K times: MAP a 4 KiB hole between two of them
 *                 (bench_map), UNMAP it again (bench_unmap), so L stays L.
 *   scale --mem L set up L mappings and print the memory they take.
 *
 * Each op takes the path ioctl_container() in shim/interpose.c takes: the
 * shim lock, the fd lookup, container_ioctl(). scripts/bench runs this under
 * callgrind with --toggle-collect on bench_map (or bench_unmap) and on the
 * fake's iommufd_compat_map_dma (or _unmap_dma, and iommufd_ioas_unmap),
 * so only the shim's instructions are counted, never the fake kernel's; the setup runs uninstrumented
 * (--instr-atstart=no, instrumentation starts just before the loop).
 *
 * The fake keeps its areas in a flat array and scans all of them on every
 * call; that is the fake's cost, not the shim's, and at 64 Ki mappings it
 * would make the setup quadratic. So the fake's area list is emptied after
 * each setup map: the fake then still sees (and checks) every measured MAP
 * and UNMAP, while the shim's record holds all L mappings.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_START_INSTRUMENTATION \
	do {                            \
	} while (0)
#endif

#include "config.h"
#include "container.h"
#include "fake_kernel.h"
#include "fdtable.h"
#include "group.h"
#include "uaccess.h"

#define GFD (FAKE_GROUP_FD_BASE + 3)
#define PG 0x1000ull
#define BASE 0x40000000ull     /* 1 GiB: live mappings every 8 KiB from here */
#define VA_BASE 0x100000000ull /* vaddrs are never touched by the fake */

static struct container *c;
static int cfd;

static void die(const char *what, long rc)
{
	fprintf(stderr, "scale: %s: %ld\n", what, rc);
	exit(1);
}

/* ioctl_container() of shim/interpose.c, minus errno */
static long container_call(unsigned long req, void *arg)
{
	struct shim_obj *obj;
	long rc;

	shim_lock();
	obj = fdtable_lookup(cfd);
	obj_get(obj);
	rc = container_ioctl((struct container *)obj, cfd, req, arg);
	obj_put(obj);
	shim_unlock();
	return rc;
}

static long do_map(uint64_t iova)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = VA_BASE + iova,
		.iova = iova,
		.size = PG,
	};

	return container_call(VFIO_IOMMU_MAP_DMA, &m);
}

static long do_unmap(uint64_t iova)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = PG,
	};
	long rc = container_call(VFIO_IOMMU_UNMAP_DMA, &u);

	return rc ? rc : (u.size == PG ? 0 : -EIO);
}

/* The measured ops: callgrind counts inside these (see --toggle-collect). */
__attribute__((noinline)) long bench_map(uint64_t iova);
__attribute__((noinline)) long bench_unmap(uint64_t iova);

__attribute__((noinline)) long bench_map(uint64_t iova)
{
	return do_map(iova);
}

__attribute__((noinline)) long bench_unmap(uint64_t iova)
{
	return do_unmap(iova);
}

static struct fake_ioas *fake_area_list(void)
{
	int i;

	for (i = 0; i < fake.nioas; i++)
		if (fake.ioas[i].id == c->ioas_id)
			return &fake.ioas[i];
	die("no fake IOAS", 0);
	return NULL;
}

static void setup(uint32_t live)
{
	struct fake_ioas *ioas;
	long rc;
	uint32_t i;

	fake_reset();
	uaccess_set_pid(getpid()); /* as the shim's constructor does */
	shim_config.dma_entry_limit = 1u << 20;
	if (fdtable_init())
		die("fdtable_init", 0);
	shim_lock();
	cfd = container_open(O_RDWR, &c);
	if (cfd < 0)
		die("container_open", cfd);
	c->obj.refs = 1;
	if (fdtable_add(cfd, &c->obj))
		die("fdtable_add", 0);
	obj_put(&c->obj);
	rc = group_set_container(GFD, c, cfd);
	if (rc)
		die("group_set_container", rc);
	shim_unlock();
	rc = container_call(VFIO_SET_IOMMU,
			    (void *)(unsigned long)VFIO_TYPE1v2_IOMMU);
	if (rc)
		die("SET_IOMMU", rc);
	ioas = fake_area_list();
	for (i = 0; i < live; i++) {
		rc = do_map(BASE + 2 * PG * i);
		if (rc)
			die("setup map", rc);
		ioas->narea = 0;
	}
}

/* A fixed pseudo-random sequence of holes, the same in every run. */
static uint64_t hole(uint32_t live, uint64_t j)
{
	uint64_t x = (j + 1) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	return BASE + 2 * PG * (x % live) + PG;
}

int main(int argc, char **argv)
{
	uint64_t k, j, iova;
	uint32_t live;
	long rc;

	if (argc == 3 && !strcmp(argv[1], "--mem")) {
		struct mallinfo2 before, after;

		live = (uint32_t)strtoul(argv[2], NULL, 0);
		before = mallinfo2();
		setup(live);
		after = mallinfo2();
		printf("mappings %u sizeof %zu record_bytes %zu heap_bytes "
		       "%zu\n",
		       maptree_count(&c->maps), sizeof(struct mapping),
		       maptree_bytes(&c->maps),
		       after.uordblks - before.uordblks);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: scale LIVE OPS | scale --mem LIVE\n");
		return 2;
	}
	live = (uint32_t)strtoul(argv[1], NULL, 0);
	k = strtoull(argv[2], NULL, 0);
	if (!live)
		die("LIVE must be > 0", 0);
	setup(live);
	CALLGRIND_START_INSTRUMENTATION;
	for (j = 0; j < k; j++) {
		iova = hole(live, j);
		rc = bench_map(iova);
		if (rc)
			die("map", rc);
		rc = bench_unmap(iova);
		if (rc)
			die("unmap", rc);
	}
	if (maptree_count(&c->maps) != live)
		die("live count changed", maptree_count(&c->maps));
	return 0;
}
