// SPDX-License-Identifier: MIT
/*
 * type1_conf: the VFIO type1 container conformance suite.
 *
 * Written only against the legacy container API (/dev/vfio/vfio, group fds,
 * container ioctls), as an unmodified application would be.  Every case
 * prints one canonical line (see conf.h); the real type1 driver's output
 * is the reference, the kernel's iommufd compat (CONF_CONTAINER=/dev/iommu)
 * and the vfiocompat shim (LD_PRELOAD) are compared against it by
 * compare.py.
 *
 * The whole sequence runs once per IOMMU type: prefix "t1" is
 * VFIO_TYPE1_IOMMU (v1 unmap semantics), "t2" VFIO_TYPE1v2_IOMMU.  Sections
 * that do not depend on the type run once with prefix "all".  Each section
 * runs in its own child process with its own container, so a crash or a
 * divergence in one section cannot leak into the next ("<section>.exit"
 * reports a child that did not exit cleanly).
 *
 * Environment:
 *   CONF_CONTAINER        container path (default /dev/vfio/vfio)
 *   VM_EDU_GROUP / VM_EDU_BDF   the edu device (required)
 *   VM_NIC_GROUP / VM_NIC_BDF   a second group for the multi-group cases
 *   CONF_DMA_ENTRY_LIMIT  the dma_entry_limit the runner configured
 *                         (type1 sysfs parameter and VFIOCOMPAT_DMA_ENTRY_LIMIT)
 *
 * usage: type1_conf [-s SECTION[,SECTION...]] [-t 1|3|1,3] [-l]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "conf.h"

/* IOVAs well inside the first usable range of an x86 vIOMMU aperture */
#define IOVA_A 0x10000000ULL
#define IOVA_B 0x20000000ULL
#define IOVA_C 0x30000000ULL

static int cur_type;		/* VFIO_TYPE1_IOMMU or VFIO_TYPE1v2_IOMMU */

static int exit_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *tname(int type)
{
	return type == VFIO_TYPE1_IOMMU ? "t1" : type == VFIO_TYPE1v2_IOMMU ? "t2" : "all";
}

/* ------------------------------------------------------------------ api */

/*
 * A container with no group: version, extensions, and every ioctl that needs
 * a driver must fail with EINVAL (type1 has no driver until SET_IOMMU).
 */
static void sec_api(void)
{
	struct stage s;
	uint8_t buf[64] = { 0 };
	struct vt_res r;

	if (stage_up(&s, ST_OPEN, cur_type))
		return;
	r = VT_DO(ioctl(s.c, VFIO_GET_API_VERSION));
	out("get_api_version", "GET_API_VERSION()", r, 0, NULL);
	{
		/* what an application checking the fd's identity sees (SPDK reads the link) */
		char link[64], tgt[256] = "";
		struct stat sb;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", s.c);
		r = VT_DO(readlink(link, tgt, sizeof(tgt) - 1));
		out("readlink_fd", "readlink(/proc/self/fd/container)", r, 0, "target=%s",
		    r.rc >= 0 ? tgt : "-");
		r = VT_DO(fstat(s.c, &sb));
		out("fstat", "fstat(container)", r, 0, "type=%s rdev=%u:%u",
		    S_ISCHR(sb.st_mode) ? "chr" : "other", major(sb.st_rdev), minor(sb.st_rdev));
		/* the open file's status flags, and a change of them */
		r = VT_DO(fcntl(s.c, F_GETFL));
		out("getfl", "fcntl(container, F_GETFL)", r, 0, NULL);
		r = VT_DO(fcntl(s.c, F_SETFL, O_NONBLOCK));
		out("setfl_nonblock", "fcntl(container, F_SETFL, O_NONBLOCK)", r, 0, NULL);
		r = VT_DO(fcntl(s.c, F_GETFL));
		out("getfl_nonblock", "fcntl(container, F_GETFL)", r, 0, NULL);
		r = VT_DO(fcntl(s.c, F_SETFL, 0));
		out("setfl_0", "fcntl(container, F_SETFL, 0)", r, 0, NULL);
	}
	p_set_iommu("set_iommu_no_group", s.c, cur_type);
	p_set_iommu("set_iommu_no_group_badtype", s.c, 0);
	p_info("get_info_no_group", s.c, 120, NULL);
	p_map_rw("map_no_group", s.c, buf_new("A", 0x10000, PROT_READ | PROT_WRITE), IOVA_A, PG);
	p_unmap_simple("unmap_no_group", s.c, IOVA_A, PG);
	p_unmap_all("unmap_all_no_group", s.c);
	{
		struct vfio_iommu_type1_dirty_bitmap d = {
			.argsz = sizeof(d), .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START };

		r = VT_DO(ioctl(s.c, VFIO_IOMMU_DIRTY_PAGES, &d));
		out("dirty_start_no_group", "DIRTY_PAGES(START)", r, 0, NULL);
	}
	r = VT_DO(ioctl(s.c, VFIO_IOMMU_ENABLE, buf));
	out("spapr_enable_no_group", "IOMMU_ENABLE()", r, 0, NULL);
	stage_down(&s);
}

/* ------------------------------------------------------------------ ext */

static void ext_sweep(const char *phase, int c)
{
	char n[64];

	for (unsigned long e = 0; e <= 11; e++) {
		snprintf(n, sizeof(n), "%s.%lu", phase, e);
		p_ext(n, c, e);
	}
	/* upper bits must not be truncated away: type1 compares the full long */
	snprintf(n, sizeof(n), "%s.hi3", phase);
	p_ext(n, c, 0x100000003UL);
	snprintf(n, sizeof(n), "%s.max", phase);
	p_ext(n, c, ~0UL);
}

/* CHECK_EXTENSION 0..11 before a group, after SET_CONTAINER, after SET_IOMMU, with a device open. */
static void sec_ext(void)
{
	struct stage s;
	struct vt_res r;
	int dev;

	if (stage_up(&s, ST_OPEN, cur_type))
		return;
	ext_sweep("pre", s.c);
	r = VT_DO(s.g = open_group(vt_edu_group()));
	out("open_group", "open(group)", r, 1, NULL);
	if (p_set_container("set_container", s.g, s.c).rc < 0)
		goto done;
	ext_sweep("group", s.c);
	if (p_set_iommu("set_iommu", s.c, cur_type).rc < 0)
		goto done;
	ext_sweep("iommu", s.c);
	r = VT_DO(vt_group_get_device_fd(s.g, vt_edu_bdf()));
	out("get_device_fd", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	dev = r.rc;
	ext_sweep("device", s.c);
	if (dev >= 0)
		close(dev);
done:
	stage_down(&s);
}

/* ------------------------------------------------------------------ set_iommu */

static void sec_setiommu(void)
{
	static const unsigned long bad[] = {
		0, VFIO_SPAPR_TCE_IOMMU, VFIO_DMA_CC_IOMMU, VFIO_EEH,
		VFIO_SPAPR_TCE_v2_IOMMU, VFIO_NOIOMMU_IOMMU, VFIO_UNMAP_ALL,
		VFIO_UPDATE_VADDR, 11, 12, 0xffffffffUL, 0x100000001UL,
		0x100000003UL, ~0UL,
	};
	int other = cur_type == VFIO_TYPE1_IOMMU ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
	struct stage s;
	char n[64];

	if (stage_up(&s, ST_GROUP, cur_type))
		return;
	/* a rejected type must leave the container settable */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(n, sizeof(n), "bad.0x%lx", bad[i]);
		p_set_iommu(n, s.c, bad[i]);
	}
	p_set_iommu("good", s.c, cur_type);
	p_set_iommu("twice", s.c, cur_type);
	p_set_iommu("other_type", s.c, other);
	p_set_iommu("bad_after_set", s.c, 0);
	p_ext("ext_after", s.c, cur_type);
	stage_down(&s);
}

/*
 * VFIO_TYPE1_NESTING_IOMMU (6): 6.12 type1 still accepts the type but needs
 * the IOMMU to enable nesting on attach; what it answers is the oracle.
 */
static void sec_nesting(void)
{
	struct stage s;
	uint8_t *a;

	if (stage_up(&s, ST_GROUP, 0))
		return;
	a = buf_new("A", 0x10000, PROT_READ | PROT_WRITE);
	if (p_set_iommu("set_iommu_6", s.c, 6).rc == 0) {
		ext_sweep("ext6", s.c);
		p_map_rw("map", s.c, a, IOVA_A, 4 * PG);
		/* v2 semantics expected: a bisecting unmap fails */
		p_unmap_simple("unmap_bisect", s.c, IOVA_A, PG);
		p_unmap_all("unmap_all", s.c);
	}
	p_set_iommu("set_iommu_v2_after", s.c, VFIO_TYPE1v2_IOMMU);
	p_ext("ext_after", s.c, VFIO_TYPE1v2_IOMMU);
	stage_down(&s);
}

/* ------------------------------------------------------------------ get_info */

#define SWEEP_MAX 160

static void sec_info(void)
{
	uint32_t want = 0, full;
	struct stage s;
	struct vt_res r;
	uint8_t *a;
	char n[64];
	int dev;

	if (stage_up(&s, ST_GROUP, cur_type))
		return;
	p_info("before_set_iommu", s.c, 512, NULL);
	if (p_set_iommu("set_iommu", s.c, cur_type).rc < 0)
		goto done;
	p_info("full", s.c, 512, &want);
	/*
	 * Every argsz from 0 to past the full size: covers minsz (16), the
	 * struct (24), every cap boundary and the full size, so "writes only
	 * what fits" and "argsz grows to what is needed" are both visible.
	 * The bound is fixed (not the reported size) so that every column
	 * prints the same cases; 160 covers type1's layout with up to four
	 * IOVA ranges (88 + 16 per range).
	 */
	full = want > SWEEP_MAX ? want : SWEEP_MAX;
	for (uint32_t sz = 0; sz <= full; sz++) {
		snprintf(n, sizeof(n), "sweep.%03u", sz);
		p_info(n, s.c, sz, NULL);
	}
	p_info("huge_argsz", s.c, 1024, NULL);
	p_info("argsz_u32_max", s.c, 0xffffffff, NULL);

	/* DMA_AVAIL tracks the number of mappings */
	a = buf_new("A", 0x10000, PROT_READ | PROT_WRITE);
	p_map_rw("map1", s.c, a, IOVA_A, PG);
	p_map_rw("map2", s.c, a, IOVA_B, 2 * PG);
	p_info("after_2_maps", s.c, 512, NULL);
	p_unmap_simple("unmap1", s.c, IOVA_A, PG);
	p_info("after_unmap", s.c, 512, NULL);

	/* type1 attached the domain at SET_IOMMU: a device fd changes nothing */
	r = VT_DO(vt_group_get_device_fd(s.g, vt_edu_bdf()));
	out("get_device_fd", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	dev = r.rc;
	p_info("device_open", s.c, 512, NULL);
	if (dev >= 0)
		close(dev);
	p_info("device_closed", s.c, 512, NULL);
	p_unmap_all("unmap_all", s.c);
done:
	stage_down(&s);
}

/* ------------------------------------------------------------------ map */

static void sec_map(void)
{
	const uint32_t msz = sizeof(struct vfio_iommu_type1_dma_map);
	uint8_t *a, *ro, *none, *part;
	struct stage s;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);
	ro = buf_new("R", 0x10000, PROT_READ);
	none = buf_new("N", 0x10000, PROT_NONE);
	uint64_t A = (uintptr_t)a;

	/* argsz */
	p_map("argsz_0", s.c, 0, RW, A, IOVA_A, PG);
	p_map("argsz_minsz_minus_1", s.c, msz - 1, RW, A, IOVA_A, PG);
	p_map("argsz_larger", s.c, msz + 16, RW, A, IOVA_A, PG);
	p_unmap_simple("argsz_larger.undo", s.c, IOVA_A, PG);
	/* type1 reads only minsz bytes, whatever argsz claims */
	p_map("argsz_u32_max", s.c, 0xffffffff, RW, A, IOVA_A, PG);
	p_unmap("argsz_u32_max.undo", s.c, 0xffffffff, 0, IOVA_A, PG, NULL);

	/* flags */
	p_map("flags_0", s.c, msz, 0, A, IOVA_A, PG);
	p_map("flags_read", s.c, msz, VFIO_DMA_MAP_FLAG_READ, A, IOVA_A, PG);
	p_map("flags_write", s.c, msz, VFIO_DMA_MAP_FLAG_WRITE, A, IOVA_A + PG, PG);
	p_map("flags_unknown_bit3", s.c, msz, RW | (1u << 3), A, IOVA_A + 2 * PG, PG);
	p_map("flags_unknown_bit31", s.c, msz, RW | (1u << 31), A, IOVA_A + 2 * PG, PG);
	p_map("flags_vaddr_with_rw", s.c, msz, RW | VFIO_DMA_MAP_FLAG_VADDR, A, IOVA_A + 2 * PG, PG);
	p_unmap_simple("flags.undo", s.c, IOVA_A, 2 * PG);

	/* size, alignment */
	p_map("size_0", s.c, msz, RW, A, IOVA_A, 0);
	p_map("iova_misaligned_1", s.c, msz, RW, A, IOVA_A + 1, PG);
	p_map("iova_misaligned_0x800", s.c, msz, RW, A, IOVA_A + 0x800, PG);
	p_map("vaddr_misaligned_1", s.c, msz, RW, A + 1, IOVA_A, PG);
	p_map("vaddr_misaligned_0x800", s.c, msz, RW, A + 0x800, IOVA_A, PG);
	p_map("size_misaligned_0x1001", s.c, msz, RW, A, IOVA_A, PG + 1);
	p_map("size_misaligned_0x800", s.c, msz, RW, A, IOVA_A, 0x800);

	/* wrap and address limits */
	p_map("iova_wrap", s.c, msz, RW, A, 0xfffffffffffff000ULL, 2 * PG);
	p_map("iova_top_page", s.c, msz, RW, A, 0xfffffffffffff000ULL, PG);
	p_map("vaddr_wrap", s.c, msz, RW, 0xfffffffffffff000ULL, IOVA_A, 2 * PG);
	/* which check comes first: 6.19 checks the wrap before the flags and alignment */
	p_map("iova_wrap_flags_0", s.c, msz, 0, A, 0xfffffffffffff000ULL, 2 * PG);
	p_map("iova_wrap_misaligned", s.c, msz, RW, A, 0xfffffffffffff800ULL, 2 * PG);
	p_map("size_huge", s.c, msz, RW, A, IOVA_A, 0x8000000000000000ULL);
	p_map("iova_msi_window", s.c, msz, RW, A, 0xfee00000ULL, PG);
	p_map("iova_2p57", s.c, msz, RW, A, 1ULL << 57, PG);
	p_map("iova_2p48", s.c, msz, RW, A, 1ULL << 48, PG);
	p_map("iova_0", s.c, msz, RW, A, 0, PG);
	p_unmap_simple("iova_0.undo", s.c, 0, PG);

	/* bad user memory */
	p_map("vaddr_prot_none", s.c, msz, RW, (uintptr_t)none, IOVA_A, PG);
	p_map("vaddr_readonly_mem_rw", s.c, msz, RW, (uintptr_t)ro, IOVA_A, PG);
	p_map("vaddr_readonly_mem_read", s.c, msz, VFIO_DMA_MAP_FLAG_READ, (uintptr_t)ro, IOVA_A, PG);
	p_unmap_simple("vaddr_readonly.undo", s.c, IOVA_A, PG);
	p_map("vaddr_null", s.c, msz, RW, 0, IOVA_A, PG);
	/* the last page is PROT_NONE: pinning fails part way, nothing may stay mapped */
	part = buf_new("P", 8 * PG, PROT_READ | PROT_WRITE);
	mprotect(part + 7 * PG, PG, PROT_NONE);
	p_map("vaddr_partly_bad", s.c, msz, RW, (uintptr_t)part, IOVA_A, 8 * PG);
	p_unmap_simple("vaddr_partly_bad.verify", s.c, IOVA_A, 8 * PG);

	/* overlaps with [B, B+4 pages) */
	p_map("base", s.c, msz, RW, A, IOVA_B, 4 * PG);
	p_map("overlap_same", s.c, msz, RW, A, IOVA_B, 4 * PG);
	p_map("overlap_head", s.c, msz, RW, A, IOVA_B - PG, 2 * PG);
	p_map("overlap_tail", s.c, msz, RW, A, IOVA_B + 3 * PG, 2 * PG);
	p_map("overlap_inside", s.c, msz, RW, A, IOVA_B + PG, PG);
	p_map("overlap_covering", s.c, msz, RW, A, IOVA_B - PG, 6 * PG);
	p_map("adjacent_below", s.c, msz, RW, A, IOVA_B - PG, PG);
	p_map("adjacent_above", s.c, msz, RW, A, IOVA_B + 4 * PG, PG);
	p_map("same_vaddr_elsewhere", s.c, msz, RW, A, IOVA_C, 4 * PG);
	p_map("large_2m", s.c, msz, RW, A, IOVA_C + 0x200000, 0x100000);
	/* adjacent maps stay separate mappings: unmapping one leaves the others */
	p_unmap_simple("unmap_adjacent_below", s.c, IOVA_B - PG, PG);
	p_avail("avail", s.c);
	/* everything that reported success above, and nothing else, is still mapped */
	p_unmap_all("unmap_all", s.c);
	p_avail("avail_end", s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ unmap */

static void sec_unmap(void)
{
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	struct stage s;
	uint8_t *a;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);

	/* argument checks, on a mapped range so that a wrong success shows */
	p_map_rw("setup.map", s.c, a, IOVA_A, 4 * PG);
	p_unmap("argsz_0", s.c, 0, 0, IOVA_A, 4 * PG, NULL);
	p_unmap("argsz_minsz_minus_1", s.c, usz - 1, 0, IOVA_A, 4 * PG, NULL);
	p_unmap("flags_unknown_bit3", s.c, usz, 1u << 3, IOVA_A, 4 * PG, NULL);
	p_unmap("flags_unknown_bit31", s.c, usz, 1u << 31, IOVA_A, 4 * PG, NULL);
	p_unmap("size_0", s.c, usz, 0, IOVA_A, 0, NULL);
	p_unmap("iova_misaligned", s.c, usz, 0, IOVA_A + 1, 4 * PG, NULL);
	p_unmap("iova_misaligned_0x800", s.c, usz, 0, IOVA_A + 0x800, 4 * PG, NULL);
	p_unmap("size_misaligned", s.c, usz, 0, IOVA_A, 4 * PG + 1, NULL);
	p_unmap("size_misaligned_0x800", s.c, usz, 0, IOVA_A, 0x800, NULL);
	p_unmap("wrap", s.c, usz, 0, 0xfffffffffffff000ULL, 2 * PG, NULL);
	p_unmap("to_top", s.c, usz, 0, 0xfffffffffffff000ULL, PG, NULL);
	p_unmap("all_with_iova", s.c, usz, VFIO_DMA_UNMAP_FLAG_ALL, IOVA_A, 0, NULL);
	p_unmap("all_with_size", s.c, usz, VFIO_DMA_UNMAP_FLAG_ALL, 0, 4 * PG, NULL);
	p_unmap("all_with_both", s.c, usz, VFIO_DMA_UNMAP_FLAG_ALL, IOVA_A, 4 * PG, NULL);
	p_unmap("all_with_dirty", s.c, usz + 24, VFIO_DMA_UNMAP_FLAG_ALL |
		VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, 0, 0, NULL);
	p_unmap("argsz_larger", s.c, usz + 16, 0, IOVA_A, 4 * PG, NULL);
	p_map_rw("remap", s.c, a, IOVA_A, 4 * PG);

	/* empty ranges */
	p_unmap("empty", s.c, usz, 0, IOVA_C, 4 * PG, NULL);
	p_unmap("empty_between", s.c, usz, 0, IOVA_A + 4 * PG, 4 * PG, NULL);

	/* exact */
	p_unmap("exact", s.c, usz, 0, IOVA_A, 4 * PG, NULL);
	p_unmap("exact_again", s.c, usz, 0, IOVA_A, 4 * PG, NULL);

	/*
	 * A range ending exactly at 2^64 over a mapping: before 6.19 type1's
	 * search wraps and finds nothing (0, size 0, the mapping stays, as the
	 * verify shows); since 6.19 it is unmapped.
	 */
	p_map_rw("to_2_64.map", s.c, a, IOVA_A, 4 * PG);
	p_unmap("to_2_64", s.c, usz, 0, IOVA_A, 0 - IOVA_A, NULL);
	p_unmap("to_2_64.verify", s.c, usz, 0, IOVA_A, 4 * PG, NULL);

	/*
	 * Bisection.  v2: EINVAL and nothing unmapped (checked by the
	 * following whole unmap).  v1: a request starting inside a mapping
	 * unmaps nothing and succeeds with size 0; one covering the first
	 * page of a mapping removes the whole mapping.
	 */
	p_map_rw("b.map", s.c, a, IOVA_A, 4 * PG);
	p_unmap("b.inside", s.c, usz, 0, IOVA_A + PG, PG, NULL);
	p_unmap("b.tail", s.c, usz, 0, IOVA_A + 2 * PG, 2 * PG, NULL);
	p_unmap("b.past_end", s.c, usz, 0, IOVA_A + 2 * PG, 8 * PG, NULL);
	p_unmap("b.head", s.c, usz, 0, IOVA_A, PG, NULL);
	p_unmap("b.verify", s.c, usz, 0, IOVA_A, 4 * PG, NULL);
	p_map("b.remap_verify", s.c, sizeof(struct vfio_iommu_type1_dma_map), RW,
	      (uintptr_t)a, IOVA_A, 4 * PG);
	p_unmap("b.before_start", s.c, usz, 0, IOVA_A - PG, 2 * PG, NULL);
	p_unmap("b.verify2", s.c, usz, 0, IOVA_A, 4 * PG, NULL);

	/* several mappings in one request; one bisected at either end */
	p_map_rw("m.map1", s.c, a, IOVA_A, 2 * PG);
	p_map_rw("m.map2", s.c, a, IOVA_A + 4 * PG, 2 * PG);
	p_map_rw("m.map3", s.c, a, IOVA_A + 8 * PG, 2 * PG);
	p_unmap("m.bisect_last", s.c, usz, 0, IOVA_A, 9 * PG, NULL);
	p_unmap("m.bisect_first", s.c, usz, 0, IOVA_A + PG, 9 * PG, NULL);
	p_unmap("m.from_gap", s.c, usz, 0, IOVA_A + 3 * PG, 7 * PG, NULL);
	p_unmap("m.verify", s.c, usz, 0, IOVA_A, 16 * PG, NULL);

	/* v1: a request starting inside mapping 1 that also covers mapping 2 */
	p_map_rw("v.map1", s.c, a, IOVA_A, 4 * PG);
	p_map_rw("v.map2", s.c, a, IOVA_A + 4 * PG, 4 * PG);
	p_unmap("v.inside1_covering2", s.c, usz, 0, IOVA_A + 2 * PG, 6 * PG, NULL);
	p_unmap("v.head1_only", s.c, usz, 0, IOVA_A, PG, NULL);
	p_unmap("v.verify", s.c, usz, 0, IOVA_A, 8 * PG, NULL);

	/* a huge mapping, unmapped by a range covering just its first page */
	p_map_rw("h.map_2m", s.c, a, IOVA_B, 0x100000);
	p_unmap("h.first_page", s.c, usz, 0, IOVA_B, PG, NULL);
	p_unmap("h.verify", s.c, usz, 0, IOVA_B, 0x100000, NULL);

	/* UNMAP_ALL */
	p_unmap("all_empty", s.c, usz, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, NULL);
	p_map_rw("all.map1", s.c, a, IOVA_A, PG);
	p_map_rw("all.map2", s.c, a, IOVA_B, 2 * PG);
	p_map_rw("all.map3", s.c, a, IOVA_C, 3 * PG);
	p_unmap("all", s.c, usz, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, NULL);
	p_unmap("all_again", s.c, usz, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, NULL);

	/* the whole 64-bit space in one plain request (largest aligned size) */
	p_map_rw("w.map", s.c, a, IOVA_A, PG);
	p_unmap("w.everything", s.c, usz, 0, 0, 0xfffffffffffff000ULL, NULL);
	p_avail("avail_end", s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ dirty pages */

static void sec_dirty(void)
{
	const uint32_t F_START = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	const uint32_t F_STOP = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	const uint32_t F_GET = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	const uint32_t F_UD = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	const uint64_t B = IOVA_B;
	struct stage s;
	uint8_t *a;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);
	/* mappings at pages 0-3, 66-68 and 100-107 of a 128-page window at B */
	p_map_rw("setup.map1", s.c, a, B, 4 * PG);
	p_map_rw("setup.map2", s.c, a, B + 66 * PG, 3 * PG);

	dirty_flags("argsz_0", s.c, 0, F_START);
	dirty_flags("argsz_7", s.c, 7, F_START);
	dirty_flags("flags_0", s.c, 8, 0);
	dirty_flags("flags_unknown", s.c, 8, 1u << 3);
	dirty_flags("start_stop", s.c, 8, F_START | F_STOP);
	dirty_flags("start_get", s.c, 8, F_START | F_GET);
	dirty_get("get_before_start", s.c, 0, B, 128 * PG, PG, 16, 0, PAT);
	unmap_dirty("unmap_dirty_before_start", s.c, F_UD, B + 66 * PG, 3 * PG, PG, 8);
	dirty_flags("stop_before_start", s.c, 8, F_STOP);
	dirty_flags("start", s.c, 8, F_START);
	dirty_flags("start_again", s.c, 8, F_START);
	/* a mapping made while tracking is on */
	p_map_rw("map3_while_tracking", s.c, a, B + 100 * PG, 8 * PG);

	/*
	 * A zero-filled bitmap first (what QEMU passes), then a patterned one:
	 * type1 rewrites whole u64 words per mapping and ORs the full leftover
	 * word in when a mapping starts mid-word, and the kernel's per-mapping
	 * bitmap keeps those bits for the next query.
	 */
	dirty_get("get_all_zero_fill", s.c, 0, B, 128 * PG, PG, 16, 0, 0);
	dirty_get("get_all", s.c, 0, B, 128 * PG, PG, 16, 0, PAT);
	dirty_get("get_all_again", s.c, 0, B, 128 * PG, PG, 16, 0, PAT);
	dirty_get("get_all_zero_fill_again", s.c, 0, B, 128 * PG, PG, 16, 0, 0);
	dirty_get("get_map1", s.c, 0, B, 4 * PG, PG, 8, 0, PAT);
	dirty_get("get_window_around_map2", s.c, 0, B + 64 * PG, 8 * PG, PG, 8, 0, PAT);
	dirty_get("get_unmapped_window", s.c, 0, B + 8 * PG, 8 * PG, PG, 8, 0, PAT);
	dirty_get("get_bisect_head", s.c, 0, B + PG, 8 * PG, PG, 8, 0, PAT);
	dirty_get("get_bisect_tail", s.c, 0, B, 2 * PG, PG, 8, 0, PAT);
	dirty_get("get_argsz_short", s.c, -1, B, 4 * PG, PG, 8, 0, PAT);
	dirty_get("get_argsz_long", s.c, 8, B, 4 * PG, PG, 8, 0, PAT);
	dirty_get("get_pgsize_8k", s.c, 0, B, 4 * PG, 2 * PG, 8, 0, PAT);
	dirty_get("get_pgsize_2m", s.c, 0, B, 0x200000, 0x200000, 8, 0, PAT);
	dirty_get("get_iova_misaligned", s.c, 0, B + 0x800, 4 * PG, PG, 8, 0, PAT);
	dirty_get("get_size_0", s.c, 0, B, 0, PG, 8, 0, PAT);
	dirty_get("get_size_misaligned", s.c, 0, B, 4 * PG + 1, PG, 8, 0, PAT);
	dirty_get("get_wrap", s.c, 0, 0xfffffffffffff000ULL, 2 * PG, PG, 8, 0, PAT);
	/* a range ending exactly at 2^64: refused before 6.19 */
	dirty_get("get_to_2_64", s.c, 0, 0xfffffffffffff000ULL, PG, PG, 8, 0, PAT);
	dirty_get("get_bitmap_small", s.c, 0, B, 128 * PG, PG, 8, 0, PAT);
	dirty_get("get_bitmap_0", s.c, 0, B, 4 * PG, PG, 0, 0, PAT);
	dirty_get("get_data_null", s.c, 0, B, 4 * PG, PG, 8, 1, PAT);

	/* UNMAP with GET_DIRTY_BITMAP */
	unmap_dirty("unmap_dirty_pgsize_8k", s.c, F_UD, B + 66 * PG, 3 * PG, 2 * PG, 8);
	unmap_dirty("unmap_dirty_bitmap_0", s.c, F_UD, B + 66 * PG, 3 * PG, PG, 0);
	unmap_dirty("unmap_dirty_with_vaddr", s.c, F_UD | VFIO_DMA_UNMAP_FLAG_VADDR,
		    B + 66 * PG, 3 * PG, PG, 8);
	{
		/* argsz too short to hold the vfio_bitmap */
		uint64_t size;
		struct vt_res r = VT_DO(vt_dma_unmap(s.c, B, 4 * PG, F_UD, &size));

		out("unmap_dirty_argsz_short", "UNMAP_DMA(argsz=24,flags=0x1)", r, 0,
		    "size=0x%llx", (unsigned long long)size);
	}
	unmap_dirty("unmap_dirty_map2", s.c, F_UD, B + 66 * PG, 3 * PG, PG, 8);
	unmap_dirty("unmap_dirty_window", s.c, F_UD, B, 128 * PG, PG, 16);
	unmap_dirty("unmap_dirty_empty", s.c, F_UD, B, 128 * PG, PG, 16);

	p_map_rw("map4", s.c, a, B, 4 * PG);
	dirty_flags("stop", s.c, 8, F_STOP);
	dirty_flags("stop_again", s.c, 8, F_STOP);
	dirty_get("get_after_stop", s.c, 0, B, 4 * PG, PG, 8, 0, PAT);
	unmap_dirty("unmap_dirty_after_stop", s.c, F_UD, B, 4 * PG, PG, 8);
	p_unmap_all("unmap_all", s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ vaddr */

/*
 * The VADDR cases over mappings of a (1 MiB) and new vaddrs in a2; mfd >= 0
 * when both are mappings of that memfd (a fork child then maps it anew).
 */
static void vaddr_cases(int c, uint8_t *a, uint8_t *a2, int mfd)
{
	const uint32_t msz = sizeof(struct vfio_iommu_type1_dma_map);
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	const uint32_t MV = VFIO_DMA_MAP_FLAG_VADDR, UV = VFIO_DMA_UNMAP_FLAG_VADDR;
	uint64_t A = (uintptr_t)a, A2 = (uintptr_t)a2;
	pid_t pid;
	int st;

	p_ext("ext_update_vaddr", c, VFIO_UPDATE_VADDR);
	p_ext("ext_unmap_all", c, VFIO_UNMAP_ALL);
	p_map_rw("setup.map1", c, a, IOVA_A, 4 * PG);
	p_map_rw("setup.map2", c, a + 4 * PG, IOVA_A + 8 * PG, 4 * PG);

	p_map("map_vaddr_unmapped_iova", c, msz, MV, A2, IOVA_C, 4 * PG);
	p_map("map_vaddr_still_valid", c, msz, MV, A2, IOVA_A, 4 * PG);
	p_unmap("unmap_vaddr_bisect", c, usz, UV, IOVA_A + PG, PG, NULL);
	p_unmap("unmap_vaddr", c, usz, UV, IOVA_A, 4 * PG, NULL);
	p_unmap("unmap_vaddr_again", c, usz, UV, IOVA_A, 4 * PG, NULL);
	/* one valid, one already invalid in the same request: rolled back */
	p_unmap("unmap_vaddr_mixed", c, usz, UV, IOVA_A, 12 * PG, NULL);
	p_map("map_vaddr_size_mismatch", c, msz, MV, A2, IOVA_A, 2 * PG);
	p_map("map_vaddr_iova_mismatch", c, msz, MV, A2, IOVA_A + PG, 3 * PG);
	p_map("map_vaddr_with_read", c, msz, MV | VFIO_DMA_MAP_FLAG_READ, A2, IOVA_A, 4 * PG);
	p_map("map_vaddr_misaligned", c, msz, MV, A2 + 1, IOVA_A, 4 * PG);
	p_map("map_overlapping_invalid", c, msz, RW, A2, IOVA_A, 4 * PG);
	p_map("map_vaddr", c, msz, MV, A2, IOVA_A, 4 * PG);
	p_map("map_vaddr_again", c, msz, MV, A2, IOVA_A, 4 * PG);
	/* the valid one first, then the invalid one: the first is rolled back */
	p_unmap("unmap_vaddr_map2", c, usz, UV, IOVA_A + 8 * PG, 4 * PG, NULL);
	p_unmap("unmap_vaddr_mixed_rollback", c, usz, UV, IOVA_A, 12 * PG, NULL);
	p_map("map_vaddr_m1_still_valid", c, msz, MV, A2, IOVA_A, 4 * PG);
	p_map("map_vaddr_map2", c, msz, MV, A2 + 4 * PG, IOVA_A + 8 * PG, 4 * PG);
	p_unmap("unmap_vaddr_all_iova", c, usz, UV | VFIO_DMA_UNMAP_FLAG_ALL, IOVA_A, 0, NULL);
	p_unmap("unmap_vaddr_all_size", c, usz, UV | VFIO_DMA_UNMAP_FLAG_ALL, 0, PG, NULL);
	p_unmap("unmap_vaddr_all", c, usz, UV | VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, NULL);
	p_map("map_vaddr_m1", c, msz, MV, A, IOVA_A, 4 * PG);

	/* what else works while a vaddr (map2's) is invalid */
	p_avail("avail_while_invalid", c);
	p_info("info_while_invalid", c, 512, NULL);
	p_map_rw("map_new_while_invalid", c, a + 8 * PG, IOVA_C, 4 * PG);
	p_unmap_simple("unmap_new_while_invalid", c, IOVA_C, 4 * PG);
	p_unmap("unmap_vaddr_empty_range", c, usz, UV, IOVA_C, 4 * PG, NULL);

	/*
	 * Another process gives map2 its vaddr (cpr: the new QEMU), with its
	 * own mapping of the memory; then this one invalidates and gives it
	 * back (the old QEMU after a failed migration).
	 */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char parent[128];
		uint64_t v = A2 + 4 * PG;

		snprintf(parent, sizeof(parent), "%s", conf_get_prefix());
		conf_prefix("%s.child", parent);
		if (mfd >= 0)
			v = (uintptr_t)buf_map_memfd("C", mfd, 4 * PG, 4 * PG);
		p_ext("ext_update_vaddr", c, VFIO_UPDATE_VADDR);
		p_map("map_vaddr", c, msz, MV, v, IOVA_A + 8 * PG, 4 * PG);
		p_map("map_vaddr_again", c, msz, MV, v, IOVA_A + 8 * PG, 4 * PG);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	note("child_exit", "status=%d", exit_code(st));
	p_unmap("unmap_vaddr_after_child", c, usz, UV, IOVA_A + 8 * PG, 4 * PG, NULL);
	p_map("map_vaddr_after_child", c, msz, MV, A + 4 * PG, IOVA_A + 8 * PG, 4 * PG);
	p_unmap("unmap_vaddr_before_plain", c, usz, UV, IOVA_A + 8 * PG, 4 * PG, NULL);
	/* an invalidated vaddr still unmaps normally */
	p_unmap("unmap_invalid_plain", c, usz, 0, IOVA_A + 8 * PG, 4 * PG, NULL);
	p_unmap("unmap_vaddr_m1", c, usz, UV, IOVA_A, 4 * PG, NULL);
	p_unmap_all("unmap_all", c);
	p_map_rw("map_after_unmap_all", c, a, IOVA_A, 4 * PG);
	p_unmap_all("unmap_all_end", c);
}

static void sec_vaddr(void)
{
	struct stage s;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	vaddr_cases(s.c, buf_new("A", 0x100000, PROT_READ | PROT_WRITE),
		    buf_new("A2", 0x100000, PROT_READ | PROT_WRITE), -1);
	stage_down(&s);
}

/* The same over a memfd (what QEMU's cpr needs), a2 a second mapping of it. */
static void sec_vaddr_memfd(void)
{
	struct stage s;
	uint8_t *a, *a2;
	int mfd;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new_memfd("A", 0x100000, &mfd);
	a2 = buf_map_memfd("A2", mfd, 0x100000, 0);
	vaddr_cases(s.c, a, a2, mfd);
	close(mfd);
	stage_down(&s);
}

/* ------------------------------------------------------------------ dma_entry_limit */

static long entry_limit(void)
{
	const char *e = getenv("CONF_DMA_ENTRY_LIMIT");
	char buf[32] = { 0 };
	int fd;

	if (e && *e)
		return atol(e);
	fd = open("/sys/module/vfio_iommu_type1/parameters/dma_entry_limit", O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atol(buf);
}

static void sec_limit(void)
{
	long n = entry_limit();
	struct stage s;
	uint8_t *a, *none;
	long ok = 0, first_fail = -1;
	int first_err = 0;

	if (n <= 0 || n > 4096) {
		note("skipped", "dma_entry_limit=%ld (set CONF_DMA_ENTRY_LIMIT<=4096 and the module parameter)", n);
		return;
	}
	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x10000, PROT_READ | PROT_WRITE);
	none = buf_new("N", 0x10000, PROT_NONE);
	p_avail("avail_start", s.c);
	/* n single-page mappings one page apart (never adjacent), same vaddr */
	for (long i = 0; i < n; i++) {
		uint64_t iova = IOVA_A + (uint64_t)i * 2 * PG;
		struct vt_res r = VT_DO(vt_dma_map(s.c, iova, PG, a, RW));

		if (r.rc == 0) {
			ok++;
		} else if (first_fail < 0) {
			first_fail = i;
			first_err = r.err;
		}
	}
	note("fill", "MAP_DMA x%ld: ok=%ld first_fail=%ld %s", n, ok, first_fail,
	     errname(first_err));
	p_avail("avail_full", s.c);
	p_map_rw("one_more", s.c, a, IOVA_C, PG);
	p_map_rw("overlap_at_limit", s.c, a, IOVA_A, PG);
	p_unmap_simple("unmap_one", s.c, IOVA_A, PG);
	p_avail("avail_after_unmap", s.c);
	/* a map that fails late (bad vaddr) must give its entry back */
	p_map_rw("fail_efault", s.c, none, IOVA_C, PG);
	p_avail("avail_after_efault", s.c);
	p_map_rw("last", s.c, a, IOVA_C, PG);
	p_map_rw("one_more_again", s.c, a, IOVA_C + 2 * PG, PG);
	p_unmap_all("unmap_all", s.c);
	p_avail("avail_end", s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ memlock */

/* Both type1 and iommufd skip accounting for CAP_IPC_LOCK, and the guest
 * runs as root: drop the capability (this section runs in its own child). */

static int drop_ipc_lock(void)
{
	return conf_drop_cap(CAP_IPC_LOCK);
}

static void sec_memlock(void)
{
	const uint64_t lim = 0x100000;	/* 1 MiB = 256 pages */
	struct rlimit rl = { lim, lim };
	struct stage s;
	uint8_t *x, *y, *z;
	struct vt_res r;

	r = VT_DO(drop_ipc_lock());
	out("drop_cap_ipc_lock", "capset(-CAP_IPC_LOCK)", r, 0, NULL);
	r = VT_DO(setrlimit(RLIMIT_MEMLOCK, &rl));
	out("setrlimit", "setrlimit(MEMLOCK,1MiB)", r, 0, NULL);
	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	x = buf_new("X", 0x80000, PROT_READ | PROT_WRITE);
	y = buf_new("Y", 0x100000, PROT_READ | PROT_WRITE);
	z = buf_new("Z", 0x10000, PROT_READ | PROT_WRITE);
	p_map_rw("map_half", s.c, x, IOVA_A, 0x80000);
	p_map_rw("map_over", s.c, y, IOVA_B, 0x100000);
	p_avail("avail_after_enomem", s.c);
	/* the failed map must not have left anything pinned or mapped */
	p_unmap_simple("unmap_failed_range", s.c, IOVA_B, 0x100000);
	/* the same pages again at another IOVA: type1 accounts per mapping */
	p_map_rw("map_same_pages_again", s.c, x, IOVA_C, 0x80000);
	p_map_rw("map_one_page_over", s.c, z, IOVA_C + 0x100000, PG);
	p_unmap_simple("unmap_first", s.c, IOVA_A, 0x80000);
	p_map_rw("map_after_unmap", s.c, z, IOVA_C + 0x100000, PG);
	p_unmap_all("unmap_all", s.c);
	p_map_rw("map_full_limit", s.c, y, IOVA_B, 0x100000);
	p_unmap_all("unmap_all2", s.c);
	stage_down(&s);
}

/*
 * A vaddr update moves the pinned pages' charge to the updating process
 * (type1: vfio_change_dma_owner()): a fork child below its own limit gets
 * ENOMEM and the vaddr stays invalid; at the limit it takes the charge; the
 * parent takes it back. Once over anonymous memory, once over a memfd, each
 * in a container of its own.
 */
static void memlock_vaddr_run(const char *kind, int memfd)
{
	const uint32_t msz = sizeof(struct vfio_iommu_type1_dma_map);
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	const uint64_t lim = 0x100000, len = 0xc0000;
	char parent[128];
	struct stage s;
	uint8_t *b;
	pid_t pid;
	int st, mfd = -1;

	snprintf(parent, sizeof(parent), "%s", conf_get_prefix());
	conf_prefix("%s.%s", parent, kind);
	if (stage_up(&s, ST_IOMMU, cur_type))
		goto out;
	b = memfd ? buf_new_memfd("B", len, &mfd) : buf_new("B", len, PROT_READ | PROT_WRITE);
	p_map_rw("map_768k", s.c, b, IOVA_A, len);
	p_unmap("unmap_vaddr", s.c, usz, VFIO_DMA_UNMAP_FLAG_VADDR, IOVA_A, len, NULL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct rlimit half = { lim / 2, lim }, full = { lim, lim };
		uint64_t v = (uintptr_t)b;
		struct vt_res r;

		conf_prefix("%s.%s.child", parent, kind);
		if (mfd >= 0)
			v = (uintptr_t)buf_map_memfd("C", mfd, len, 0);
		r = VT_DO(setrlimit(RLIMIT_MEMLOCK, &half));
		out("setrlimit_512k", "setrlimit(MEMLOCK,512KiB)", r, 0, NULL);
		p_map("map_vaddr_over_limit", s.c, msz, VFIO_DMA_MAP_FLAG_VADDR, v, IOVA_A, len);
		r = VT_DO(setrlimit(RLIMIT_MEMLOCK, &full));
		out("setrlimit_1m", "setrlimit(MEMLOCK,1MiB)", r, 0, NULL);
		p_map("map_vaddr", s.c, msz, VFIO_DMA_MAP_FLAG_VADDR, v, IOVA_A, len);
		/* the charge is here now: 768 KiB more does not fit */
		p_map_rw("map_more", s.c, (void *)v, IOVA_B, len);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	note("child_exit", "status=%d", exit_code(st));
	p_unmap("unmap_vaddr_back", s.c, usz, VFIO_DMA_UNMAP_FLAG_VADDR, IOVA_A, len, NULL);
	p_map("map_vaddr_back", s.c, msz, VFIO_DMA_MAP_FLAG_VADDR, (uintptr_t)b, IOVA_A, len);
	p_unmap_all("unmap_all", s.c);
	if (mfd >= 0)
		close(mfd);
	stage_down(&s);
out:
	conf_prefix("%s", parent);
}

static void sec_memlock_vaddr(void)
{
	const uint64_t lim = 0x100000;
	struct rlimit rl = { lim, lim };
	struct vt_res r;

	r = VT_DO(drop_ipc_lock());
	out("drop_cap_ipc_lock", "capset(-CAP_IPC_LOCK)", r, 0, NULL);
	r = VT_DO(setrlimit(RLIMIT_MEMLOCK, &rl));
	out("setrlimit", "setrlimit(MEMLOCK,1MiB)", r, 0, NULL);
	memlock_vaddr_run("anon", 0);
	memlock_vaddr_run("memfd", 1);
}

/* One of the two processes of sec_memlock_users. */
static void memlock_proc(const char *who, int group, int wait_fd, int done_fd, int hold_fd,
			 int unpriv)
{
	const uint64_t lim = 0x100000;
	struct rlimit rl = { lim, lim };
	char pfx[160], tok;
	int c, g;
	uint8_t *b;

	snprintf(pfx, sizeof(pfx), "%s", conf_get_prefix());
	conf_prefix("%s.%s", pfx, who);
	drop_ipc_lock();
	/* an unprivileged process (QEMU under libvirt) cannot choose its accounting mode */
	if (unpriv)
		conf_drop_cap(CAP_SYS_RESOURCE);
	setrlimit(RLIMIT_MEMLOCK, &rl);
	b = buf_new("B", 0xc0000, PROT_READ | PROT_WRITE);
	/* wait for our turn: the two processes must not interleave their lines */
	if (wait_fd >= 0 && read(wait_fd, &tok, 1) != 1)
		_exit(1);
	c = open_container();
	g = open_group(group);
	p_set_container("set_container", g, c);
	p_set_iommu("set_iommu", c, cur_type);
	p_map_rw("map_768k", c, b, IOVA_A, 0xc0000);
	fflush(stdout);
	if (done_fd >= 0 && write(done_fd, "x", 1) != 1)
		_exit(1);
	/* keep the pages pinned until the parent says the other one is done */
	if (hold_fd >= 0 && read(hold_fd, &tok, 1) < 0)
		_exit(1);
	_exit(0);
}

/*
 * Two processes of the same user, each with its own container (edu, and
 * the second group) and a 1 MiB limit, each pinning 768 KiB at the same
 * time: type1 accounts per process (mm->locked_vm), so both fit.
 */
static void memlock_users(const char *flavour, int unpriv)
{
	int go[2], hold[2], st;
	char pfx[160];
	pid_t a, b;

	if (pipe(go) || pipe(hold))
		return;
	snprintf(pfx, sizeof(pfx), "%s", conf_get_prefix());
	conf_prefix("%s.%s", pfx, flavour);
	fflush(stdout);
	a = fork();
	if (a == 0) {
		close(go[0]);
		close(hold[1]);
		memlock_proc("proc_a", vt_edu_group(), -1, go[1], hold[0], unpriv);
	}
	b = fork();
	if (b == 0) {
		close(go[1]);
		close(hold[0]);
		close(hold[1]);
		memlock_proc("proc_b", vt_nic_group(), go[0], -1, -1, unpriv);
	}
	close(go[0]);
	close(go[1]);
	close(hold[0]);
	waitpid(b, &st, 0);
	note("proc_b_exit", "status=%d", exit_code(st));
	close(hold[1]);	/* EOF releases A */
	waitpid(a, &st, 0);
	note("proc_a_exit", "status=%d", exit_code(st));
	conf_prefix("%s", pfx);
}

static void sec_memlock_users(void)
{
	if (vt_nic_group() < 0) {
		note("skipped", "no second group (VM_NIC_GROUP)");
		return;
	}
	memlock_users("ipc", 0);
	memlock_users("unpriv", 1);
}

/* ------------------------------------------------------------------ lifecycle */

static void sec_lifecycle(void)
{
	struct stage s;
	struct vt_res r;
	uint8_t *a;
	int dev, c2, d;

	if (stage_up(&s, ST_GROUP, cur_type))
		return;
	a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);

	/* group ioctls on the container side of the contract */
	p_set_container("set_container_twice", s.g, s.c);
	r = VT_DO(vt_group_get_device_fd(s.g, vt_edu_bdf()));
	out("get_device_fd_before_set_iommu", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	if (r.rc >= 0)
		close(r.rc);
	if (p_set_iommu("set_iommu", s.c, cur_type).rc < 0)
		goto done;
	p_map_rw("map1", s.c, a, IOVA_A, 4 * PG);
	r = VT_DO(vt_group_get_device_fd(s.g, vt_edu_bdf()));
	out("get_device_fd", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	dev = r.rc;
	p_unset_container("unset_with_device_open", s.g);
	/* the failed UNSET must leave the container fully working */
	p_unmap_simple("unmap_after_failed_unset", s.c, IOVA_A, 4 * PG);
	p_map_rw("map1_again", s.c, a, IOVA_A, 4 * PG);
	if (dev >= 0)
		close(dev);

	/* the last group leaves: the container is deprivileged, mappings dropped */
	p_unset_container("unset_last_group", s.g);
	p_info("get_info_after_unset", s.c, 512, NULL);
	p_map_rw("map_after_unset", s.c, a, IOVA_B, PG);
	p_unmap_simple("unmap_after_unset", s.c, IOVA_A, 4 * PG);
	dirty_flags("dirty_after_unset", s.c, 8, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
	p_ext("ext_type_after_unset", s.c, cur_type);
	p_ext("ext_vaddr_after_unset", s.c, VFIO_UPDATE_VADDR);
	p_ext("ext_cc_after_unset", s.c, VFIO_DMA_CC_IOMMU);
	p_set_iommu("set_iommu_after_unset", s.c, cur_type);
	r = VT_DO(ioctl(s.c, _IO(VFIO_TYPE, VFIO_BASE + 50)));
	out("unknown_ioctl_after_unset", "ioctl(_IO(';',150))", r, 0, NULL);
	p_unset_container("unset_again", s.g);

	/* rejoin: a fresh type1 instance, nothing of the old mappings left */
	p_set_container("rejoin", s.g, s.c);
	p_map_rw("map_before_set_iommu", s.c, a, IOVA_A, 4 * PG);
	p_set_iommu("rejoin_set_iommu", s.c, cur_type);
	p_avail("rejoin_avail", s.c);
	p_unmap_simple("rejoin_old_mapping_gone", s.c, IOVA_A, 4 * PG);
	p_map_rw("rejoin_map1", s.c, a, IOVA_A, 4 * PG);

	/* closing the group fd detaches it, like UNSET */
	close(s.g);
	note("close_group", "close(group)");
	p_map_rw("map_after_group_close", s.c, a, IOVA_B, PG);
	r = VT_DO(s.g = open_group(vt_edu_group()));
	out("reopen_group", "open(group)", r, 1, NULL);
	p_set_container("reopen_set_container", s.g, s.c);
	p_set_iommu("reopen_set_iommu", s.c, cur_type);
	p_unmap_simple("reopen_old_mapping_gone", s.c, IOVA_A, 4 * PG);
	p_map_rw("reopen_map1", s.c, a, IOVA_A, 4 * PG);

	/* a dup of the container is the same container */
	r = VT_DO(d = dup(s.c));
	out("dup", "dup(container)", r, 1, NULL);
	p_avail("dup_avail", d);
	p_map_rw("dup_map", d, a, IOVA_B, PG);
	close(s.c);
	note("close_original", "close(container)");
	p_unmap_simple("dup_unmap_map1", d, IOVA_A, 4 * PG);
	p_avail("dup_avail_after", d);
	s.c = d;

	/*
	 * Closing the container while a group holds it: the group keeps it
	 * alive (still attached, mappings kept), so a new container cannot
	 * take the group until it is unset.
	 */
	close(s.c);
	note("close_container_group_attached", "close(container)");
	r = VT_DO(c2 = open_container());
	out("open_container2", "open(container)", r, 1, NULL);
	r = VT_DO(ioctl(c2, VFIO_GET_API_VERSION));
	out("container2_api", "GET_API_VERSION()", r, 0, NULL);
	p_set_container("container2_set_busy_group", s.g, c2);
	p_unset_container("unset_old_container", s.g);
	p_set_container("container2_set", s.g, c2);
	p_set_iommu("container2_set_iommu", c2, cur_type);
	p_avail("container2_avail", c2);
	p_unmap_all("container2_unmap_all", c2);
	s.c = c2;

	/* close and reopen with nothing attached */
	p_unset_container("unset_container2", s.g);
	close(s.c);
	r = VT_DO(s.c = open_container());
	out("reopen_container", "open(container)", r, 1, NULL);
	p_set_container("reopen_container_set", s.g, s.c);
	p_set_iommu("reopen_container_set_iommu", s.c, cur_type);
	p_map_rw("reopen_container_map", s.c, a, IOVA_A, 4 * PG);
	p_unmap_all("reopen_container_unmap_all", s.c);
done:
	stage_down(&s);
}

/* ------------------------------------------------------------------ group ioctls */

static void sec_group(void)
{
	struct stage s;
	struct vt_res r;
	int null_fd, bad = -1;

	if (stage_up(&s, ST_OPEN, cur_type))
		return;
	r = VT_DO(s.g = open_group(vt_edu_group()));
	out("open_group", "open(group)", r, 1, NULL);
	{
		struct vfio_group_status st = { .argsz = sizeof(st) };

		r = VT_DO(ioctl(s.g, VFIO_GROUP_GET_STATUS, &st));
		out("status_before", "GROUP_GET_STATUS()", r, 0, "flags=0x%x", st.flags);
	}
	p_unset_container("unset_not_set", s.g);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	r = VT_DO(ioctl(s.g, VFIO_GROUP_SET_CONTAINER, &null_fd));
	out("set_container_devnull", "GROUP_SET_CONTAINER(/dev/null)", r, 0, NULL);
	close(null_fd);
	r = VT_DO(ioctl(s.g, VFIO_GROUP_SET_CONTAINER, &bad));
	out("set_container_badfd", "GROUP_SET_CONTAINER(-1)", r, 0, NULL);
	p_set_container("set_container", s.g, s.c);
	{
		struct vfio_group_status st = { .argsz = sizeof(st) };

		r = VT_DO(ioctl(s.g, VFIO_GROUP_GET_STATUS, &st));
		out("status_after", "GROUP_GET_STATUS()", r, 0, "flags=0x%x", st.flags);
	}
	p_set_container("set_container_twice", s.g, s.c);
	{
		int c2 = open_container();

		p_set_container("set_container_other", s.g, c2);
		close(c2);
	}
	p_set_iommu("set_iommu", s.c, cur_type);
	p_unset_container("unset", s.g);
	{
		struct vfio_group_status st = { .argsz = sizeof(st) };

		r = VT_DO(ioctl(s.g, VFIO_GROUP_GET_STATUS, &st));
		out("status_unset", "GROUP_GET_STATUS()", r, 0, "flags=0x%x", st.flags);
	}
	stage_down(&s);
}

/* ------------------------------------------------------------------ group fd */

/* open(@path) of the edu group, printed; the fd stays open (returned). */
static int p_open_at(const char *name, int dirfd, const char *path)
{
	struct vt_res r = VT_DO(openat(dirfd, path, O_RDWR | O_CLOEXEC));

	out(name, "open(group spelling)", r, 1, NULL);
	return r.rc;
}

static void p_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* GET_DEVICE_FD(@dev), printed; the device fd is closed again. */
static void p_get_device(const char *name, int g, const char *dev)
{
	struct vt_res r = VT_DO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, dev));

	out(name, "GROUP_GET_DEVICE_FD(name)", r, 1, NULL);
	if (r.rc >= 0)
		close(r.rc);
}

/*
 * The group file's own rules: one open at a time (EBUSY) whatever the
 * spelling, held by dups and fork children, what readlink() reads, the
 * device names GET_DEVICE_FD accepts, GET_STATUS's argsz, other requests.
 */
static void sec_groupfd(void)
{
	char path[64], rel[16], proc[64], link[128], want[64], dev[64];
	int gno = vt_edu_group(), g, g2 = -1, d, dfd, c = -1, st_pipe[2];
	struct vfio_group_status st = { .argsz = 0 };
	struct vt_res r;
	ssize_t n;
	pid_t pid;

	snprintf(path, sizeof(path), "/dev/vfio/%d", gno);
	snprintf(rel, sizeof(rel), "%d", gno);
	g = p_open_at("open", AT_FDCWD, path);
	if (g < 0)
		return;
	g2 = p_open_at("open_again", AT_FDCWD, path);
	p_close(&g2);
	snprintf(proc, sizeof(proc), "/dev//vfio/./%d", gno);
	g2 = p_open_at("open_again_dots", AT_FDCWD, proc);
	p_close(&g2);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", g);
	g2 = p_open_at("open_again_proc_fd", AT_FDCWD, proc);
	p_close(&g2);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	snprintf(want, sizeof(want), "/dev/vfio/%d", gno);
	note("readlink", "link=%s", !strcmp(link, want) ? "/dev/vfio/<group>" : link);
	/* a dup keeps the file open after the first fd is closed */
	d = dup(g);
	p_close(&g);
	g2 = p_open_at("open_while_dup", AT_FDCWD, path);
	p_close(&g2);
	p_close(&d);
	/* relative to the cwd and to a directory fd */
	d = open("/dev/vfio", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g = p_open_at("open_openat_dirfd", d, rel);
	p_close(&g);
	if (!fchdir(d)) {
		g = p_open_at("open_relative_cwd", AT_FDCWD, rel);
		p_close(&g);
		if (chdir("/"))
			note("chdir", "failed");
	}
	p_close(&d);
	g = p_open_at("open_absent", AT_FDCWD, "/dev/vfio/4242");
	p_close(&g);
	/* a fork child holds the file until it exits */
	g = p_open_at("open_for_fork", AT_FDCWD, path);
	if (g >= 0 && !pipe(st_pipe)) {
		pid = fork();
		if (pid == 0) {
			char b;

			close(st_pipe[1]);
			(void)!read(st_pipe[0], &b, 1);
			_exit(0);
		}
		close(st_pipe[0]);
		p_close(&g);
		g2 = p_open_at("open_while_child_holds", AT_FDCWD, path);
		p_close(&g2);
		close(st_pipe[1]);
		waitpid(pid, NULL, 0);
		g = p_open_at("open_after_child", AT_FDCWD, path);
	}
	if (g < 0)
		return;
	/* GET_STATUS's argsz, a request the group does not know */
	r = VT_DO(ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	out("status_argsz_0", "GROUP_GET_STATUS(argsz=0)", r, 0, NULL);
	r = VT_DO(ioctl(g, VFIO_GROUP_GET_STATUS, NULL));
	out("status_null", "GROUP_GET_STATUS(NULL)", r, 0, NULL);
	r = VT_DO(ioctl(g, VFIO_GET_API_VERSION));
	out("api_version", "ioctl(group, VFIO_GET_API_VERSION)", r, 0, NULL);
	r = VT_DO(ioctl(g, VFIO_DEVICE_GET_INFO, NULL));
	out("device_get_info", "ioctl(group, VFIO_DEVICE_GET_INFO)", r, 0, NULL);
	/* device names, before and after the container has its driver */
	p_get_device("device_no_container", g, vt_edu_bdf());
	p_get_device("device_unknown_no_container", g, "0000:ff:1f.7");
	c = open_container();
	p_set_container("set_container", g, c);
	p_get_device("device_no_iommu", g, vt_edu_bdf());
	p_set_iommu("set_iommu", c, VFIO_TYPE1v2_IOMMU);
	p_get_device("device_unknown", g, "0000:ff:1f.7");
	p_get_device("device_empty", g, "");
	p_get_device("device_prefix", g, "0000:00");
	snprintf(dev, sizeof(dev), "%s ", vt_edu_bdf());
	p_get_device("device_trailing_space", g, dev);
	snprintf(dev, sizeof(dev), "%sx", vt_edu_bdf());
	p_get_device("device_trailing_char", g, dev);
	snprintf(dev, sizeof(dev), "%s vf_token=00000000-0000-0000-0000-000000000000", vt_edu_bdf());
	p_get_device("device_vf_token", g, dev);
	snprintf(dev, sizeof(dev), "%s bogus", vt_edu_bdf());
	p_get_device("device_option", g, dev);
	r = VT_DO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, (char *)8));
	out("device_bad_pointer", "GROUP_GET_DEVICE_FD(bad pointer)", r, 1, NULL);
	/* the same device twice: both fds work */
	r = VT_DO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, vt_edu_bdf()));
	out("device_first", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	dfd = r.rc;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	note("device_readlink", "link=%s", link);
	{
		struct stat sb;

		note("group_fstat", "chr=%d", !fstat(g, &sb) && S_ISCHR(sb.st_mode));
		note("group_getfl", "flags=0x%x", (unsigned int)fcntl(g, F_GETFL));
	}
	r = VT_DO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, vt_edu_bdf()));
	out("device_second", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	d = r.rc;
	{
		struct vfio_device_info info = { .argsz = sizeof(info) };

		r = VT_DO(ioctl(d, VFIO_DEVICE_GET_INFO, &info));
		out("device_second_info", "DEVICE_GET_INFO", r, 0, "flags=0x%x regions=%u irqs=%u",
		    info.flags, info.num_regions, info.num_irqs);
	}
	p_close(&d);
	/* a device open keeps the group in its container */
	p_unset_container("unset_with_device", g);
	p_close(&dfd);
	p_unset_container("unset", g);
	p_unset_container("unset_again", g);
	p_close(&g);
	p_close(&c);
	g = p_open_at("open_after_all", AT_FDCWD, path);
	p_close(&g);
}

/* ------------------------------------------------------------------ multi-group */

static void sec_multi(void)
{
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	struct stage s;
	struct vt_res r;
	uint8_t *a;
	int g2, c2;

	if (vt_nic_group() < 0) {
		note("skipped", "no second group (VM_NIC_GROUP)");
		return;
	}
	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);
	p_map_rw("map1", s.c, a, IOVA_A, 4 * PG);
	r = VT_DO(g2 = open_group(vt_nic_group()));
	out("open_group2", "open(group2)", r, 1, NULL);
	p_set_container("set_container2", g2, s.c);
	p_ext("ext_cc_two_groups", s.c, VFIO_DMA_CC_IOMMU);
	p_info("get_info_two_groups", s.c, 512, NULL);
	p_map_rw("map2", s.c, a, IOVA_B, 4 * PG);
	c2 = open_container();
	p_set_container("set_container2_elsewhere", g2, c2);
	close(c2);
	p_unset_container("unset_group1", s.g);
	/* a group remains: the container keeps its driver and mappings */
	p_avail("avail_one_left", s.c);
	p_unmap_simple("unmap1_one_left", s.c, IOVA_A, 4 * PG);
	p_set_container("rejoin_group1", s.g, s.c);
	p_unset_container("unset_group2", g2);
	p_unset_container("unset_group1_last", s.g);
	p_avail("avail_no_group", s.c);

	/* attaching a group while a vaddr is invalidated */
	p_set_container("v.set_container1", s.g, s.c);
	p_set_iommu("v.set_iommu", s.c, cur_type);
	p_map_rw("v.map1", s.c, a, IOVA_A, 4 * PG);
	p_unmap("v.unmap_vaddr", s.c, usz, VFIO_DMA_UNMAP_FLAG_VADDR, IOVA_A, 4 * PG, NULL);
	p_set_container("v.set_container2_vaddr_invalid", g2, s.c);
	p_map("v.map_vaddr", s.c, sizeof(struct vfio_iommu_type1_dma_map),
	      VFIO_DMA_MAP_FLAG_VADDR, (uintptr_t)a, IOVA_A, 4 * PG);
	p_set_container("v.set_container2", g2, s.c);
	p_unmap_all("v.unmap_all", s.c);
	p_unset_container("v.unset2", g2);
	close(g2);
	stage_down(&s);
}

/* ------------------------------------------------------------------ fork */

static void sec_fork(void)
{
	struct stage s;
	uint8_t *a;
	pid_t pid;
	int st;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);
	p_map_rw("parent_map1", s.c, a, IOVA_A, 0x10000);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char parent[128];

		/* the prefix buffer cannot be both source and destination */
		snprintf(parent, sizeof(parent), "%s", conf_get_prefix());
		conf_prefix("%s.child", parent);
		p_avail("avail", s.c);
		p_info("info", s.c, 512, NULL);
		p_ext("ext", s.c, cur_type);
		p_unmap_simple("unmap_part_pre", s.c, IOVA_A + 0x1000, 0x1000);
		p_map_rw("map2", s.c, a + 0x10000, IOVA_B, 0x10000);
		p_map_rw("map1_exists", s.c, a, IOVA_A, 0x10000);
		p_unmap_simple("unmap1", s.c, IOVA_A, 0x10000);
		p_avail("avail_end", s.c);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	note("child_exit", "status=%d", exit_code(st));
	/* the container is shared: the child's map and unmap are visible here */
	p_avail("parent_avail", s.c);
	p_unmap_simple("parent_unmap1_gone", s.c, IOVA_A, 0x10000);
	p_unmap_simple("parent_unmap2_child_made", s.c, IOVA_B, 0x10000);
	p_map_rw("parent_map3", s.c, a, IOVA_C, 0x10000);

	/* a child that closes its copy must not affect the parent */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(s.c);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	note("child2_exit", "status=%d", exit_code(st));
	p_avail("parent_avail_after_child_close", s.c);
	p_unmap_all("parent_unmap_all", s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ exec, SCM_RIGHTS */

/*
 * What a process that did not open the container does with it: a child
 * after exec (the fd survived it) or a process that received the fd over
 * a unix socket (DPDK secondary processes).  Same calls in both.
 */
static void foreign_ops(int c, int type)
{
	uint8_t *b = buf_new("F", 0x10000, PROT_READ | PROT_WRITE);

	p_avail("avail", c);
	/* page sizes and iova ranges as the container's opener sees them */
	p_info("info", c, 512, NULL);
	p_ext("ext", c, type);
	p_ext("ext_vaddr", c, VFIO_UPDATE_VADDR);
	/* part of a mapping made before: v2 refuses it, v1 unmaps nothing */
	p_unmap_simple("unmap_part_pre", c, IOVA_A + 0x1000, 0x1000);
	p_map_rw("map2", c, b, IOVA_B, 0x10000);
	p_map_rw("map1_exists", c, b, IOVA_A, 0x10000);
	p_unmap_simple("unmap1", c, IOVA_A, 0x10000);
	p_avail("avail_end", c);
}

static void parent_checks(int c)
{
	p_avail("parent_avail", c);
	p_unmap_simple("parent_unmap1_gone", c, IOVA_A, 0x10000);
	p_unmap_simple("parent_unmap2_child_made", c, IOVA_B, 0x10000);
	p_avail("parent_avail_end", c);
}

static void sec_exec(void)
{
	char fdstr[16], typestr[16], pfx[160];
	struct stage s;
	uint8_t *a;
	pid_t pid;
	int st;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);
	p_map_rw("parent_map1", s.c, a, IOVA_A, 0x10000);
	/* the container must survive exec; the group fd need not */
	fcntl(s.c, F_SETFD, 0);
	snprintf(fdstr, sizeof(fdstr), "%d", s.c);
	snprintf(typestr, sizeof(typestr), "%d", cur_type);
	snprintf(pfx, sizeof(pfx), "%s.child", conf_get_prefix());
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "type1_conf", "-X", fdstr, typestr, pfx, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	note("child_exit", "status=%d", exit_code(st));
	parent_checks(s.c);
	stage_down(&s);
}

static int exec_child(const char *fdstr, const char *typestr, const char *pfx)
{
	conf_prefix("%s", pfx);
	foreign_ops(atoi(fdstr), atoi(typestr));
	fflush(stdout);
	return 0;
}

/*
 * cpr-exec: this process invalidates every vaddr of its memfd mappings and
 * execs itself; the new image (same pid, new address space) maps the memfd
 * anew and gives each mapping its vaddr on the container it inherited.
 */
static void sec_vaddr_exec(void)
{
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	char cfd[16], mfdstr[16], typestr[16], pfx[160];
	struct stage s;
	uint8_t *a;
	int mfd;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new_memfd("A", 0x100000, &mfd);
	p_map_rw("map1", s.c, a, IOVA_A, 4 * PG);
	p_map_rw("map2", s.c, a + 4 * PG, IOVA_A + 8 * PG, 4 * PG);
	p_unmap("unmap_vaddr_all", s.c, usz, VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL,
		0, 0, NULL);
	/* QEMU keeps every VFIO fd across cpr-exec: the group too */
	fcntl(s.c, F_SETFD, 0);
	fcntl(s.g, F_SETFD, 0);
	fcntl(mfd, F_SETFD, 0);
	snprintf(cfd, sizeof(cfd), "%d", s.c);
	snprintf(mfdstr, sizeof(mfdstr), "%d", mfd);
	snprintf(typestr, sizeof(typestr), "%d", cur_type);
	snprintf(pfx, sizeof(pfx), "%s.image", conf_get_prefix());
	fflush(stdout);
	execl("/proc/self/exe", "type1_conf", "-V", cfd, mfdstr, typestr, pfx, (char *)NULL);
	note("exec", "failed");
	stage_down(&s);
}

static int vaddr_exec_image(int c, int mfd, int type, const char *pfx)
{
	const uint32_t msz = sizeof(struct vfio_iommu_type1_dma_map);
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	const uint32_t MV = VFIO_DMA_MAP_FLAG_VADDR;
	uint64_t B;

	conf_prefix("%s", pfx);
	B = (uintptr_t)buf_map_memfd("B", mfd, 0x100000, 0);
	p_ext("ext_update_vaddr", c, VFIO_UPDATE_VADDR);
	p_ext("ext_type", c, (unsigned long)type);
	p_avail("avail", c);
	p_map("map_vaddr1", c, msz, MV, B, IOVA_A, 4 * PG);
	p_map("map_vaddr2", c, msz, MV, B + 4 * PG, IOVA_A + 8 * PG, 4 * PG);
	p_map("map_vaddr2_again", c, msz, MV, B + 4 * PG, IOVA_A + 8 * PG, 4 * PG);
	p_unmap("unmap_vaddr1", c, usz, VFIO_DMA_UNMAP_FLAG_VADDR, IOVA_A, 4 * PG, NULL);
	p_map("map_vaddr1_back", c, msz, MV, B, IOVA_A, 4 * PG);
	p_map_rw("map3", c, (void *)(uintptr_t)(B + 8 * PG), IOVA_B, 4 * PG);
	p_unmap_all("unmap_all", c);
	fflush(stdout);
	return 0;
}

static void sec_scm(void)
{
	struct stage s;
	uint8_t *a;
	pid_t pid;
	int sv[2], st;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		note("skipped", "socketpair failed");
		return;
	}
	fflush(stdout);
	/* the receiver exists before the container does: it knows nothing of it */
	pid = fork();
	if (pid == 0) {
		char parent[128];
		int c;

		close(sv[0]);
		c = vt_recv_fd(sv[1]);
		snprintf(parent, sizeof(parent), "%s", conf_get_prefix());
		conf_prefix("%s.child", parent);
		note("received", "fd=%s", c >= 0 ? "yes" : "no");
		if (c >= 0)
			foreign_ops(c, cur_type);
		fflush(stdout);
		_exit(0);
	}
	close(sv[1]);
	if (stage_up(&s, ST_IOMMU, cur_type) == 0) {
		a = buf_new("A", 0x100000, PROT_READ | PROT_WRITE);
		p_map_rw("parent_map1", s.c, a, IOVA_A, 0x10000);
		if (vt_send_fd(sv[0], s.c))
			note("sendmsg", "failed");
	}
	close(sv[0]);
	waitpid(pid, &st, 0);
	note("child_exit", "status=%d", exit_code(st));
	if (s.c >= 0)
		parent_checks(s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ threads */

#define NTHREADS 4
#define ROUNDS 200

struct worker {
	int c, idx;
	uint8_t *buf;
	int map_fail, unmap_fail, size_wrong;
};

/* map/unmap a private IOVA range over and over; type1 serialises on its lock */
static void worker_rounds(struct worker *w, int rounds)
{
	uint64_t iova = IOVA_A + (uint64_t)w->idx * 0x100000;

	for (int i = 0; i < rounds; i++) {
		uint64_t sz = PG * (1 + (uint64_t)(i % 4)), done;

		if (vt_dma_map(w->c, iova, sz, w->buf, RW))
			w->map_fail++;
		if (vt_dma_unmap(w->c, iova, sz, 0, &done))
			w->unmap_fail++;
		else if (done != sz)
			w->size_wrong++;
	}
}

static void *worker_fn(void *p)
{
	worker_rounds(p, ROUNDS);
	return NULL;
}

static void sec_threads(void)
{
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct stage s;
	uint8_t *a;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x10000, PROT_READ | PROT_WRITE);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .c = s.c, .idx = i, .buf = a };
		pthread_create(&t[i], NULL, worker_fn, &w[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		char n[32];

		pthread_join(t[i], NULL);
		snprintf(n, sizeof(n), "worker%d", i);
		note(n, "MAP_DMA+UNMAP_DMA x%d: map_fail=%d unmap_fail=%d size_wrong=%d",
		     ROUNDS, w[i].map_fail, w[i].unmap_fail, w[i].size_wrong);
	}
	p_avail("avail_end", s.c);
	p_unmap_all("unmap_all", s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ two processes */

#define PROC_ROUNDS 300

/*
 * Two live processes holding one container (a fork child and its parent)
 * map and unmap their own IOVA ranges at the same time; then each leaves
 * mappings the other unmaps. type1 serialises them on its lock.
 */
static void sec_procs(void)
{
	struct worker w = { 0 };
	struct stage s;
	uint8_t *a;
	pid_t pid;
	int go[2], st;
	char c;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x10000, PROT_READ | PROT_WRITE);
	p_map_rw("parent_map_before", s.c, a, IOVA_A + 0x800000, 0x4000);
	if (pipe(go)) {
		note("skipped", "pipe failed");
		stage_down(&s);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char parent[128];

		close(go[1]);
		snprintf(parent, sizeof(parent), "%s", conf_get_prefix());
		conf_prefix("%s.child", parent);
		/* both start together */
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		w = (struct worker){ .c = s.c, .idx = 1, .buf = a };
		worker_rounds(&w, PROC_ROUNDS);
		note("worker", "MAP_DMA+UNMAP_DMA x%d: map_fail=%d unmap_fail=%d size_wrong=%d",
		     PROC_ROUNDS, w.map_fail, w.unmap_fail, w.size_wrong);
		p_map_rw("map_left", s.c, a, IOVA_A + 0x900000, 0x2000);
		p_unmap_simple("unmap_parents", s.c, IOVA_A + 0x800000, 0x4000);
		fflush(stdout);
		_exit(0);
	}
	close(go[0]);
	w = (struct worker){ .c = s.c, .idx = 2, .buf = a };
	if (write(go[1], "g", 1) != 1)
		note("pipe", "write failed");
	worker_rounds(&w, PROC_ROUNDS);
	close(go[1]);
	waitpid(pid, &st, 0);
	note("child_exit", "status=%d", exit_code(st));
	note("worker", "MAP_DMA+UNMAP_DMA x%d: map_fail=%d unmap_fail=%d size_wrong=%d",
	     PROC_ROUNDS, w.map_fail, w.unmap_fail, w.size_wrong);
	p_avail("avail_end", s.c);
	p_unmap_simple("unmap_parents_gone", s.c, IOVA_A + 0x800000, 0x4000);
	p_unmap_simple("unmap_childs", s.c, IOVA_A + 0x900000, 0x2000);
	p_avail("avail_empty", s.c);
	stage_down(&s);
}

/* ------------------------------------------------------------------ bad pointers */

/*
 * Arguments the kernel cannot read or write: NULL, a low address, an
 * unmapped page, a read-only struct (type1 reads it, then fails the write
 * back: EFAULT, with the unmap already done), and a struct whose tail lies
 * on a PROT_NONE page. The shim must answer as type1, never crash.
 */
static void sec_badptr(void)
{
	const long pg = sysconf(_SC_PAGESIZE);
	struct stage s;
	uint8_t *a, *two, *ro;
	void *none;
	struct vfio_iommu_type1_dma_map *mtail;
	struct vfio_iommu_type1_dma_unmap *u;
	struct vfio_iommu_type1_info *itail;
	static const struct {
		const char *name;
		unsigned long req;
	} reqs[] = {
		{ "get_info", VFIO_IOMMU_GET_INFO },
		{ "map", VFIO_IOMMU_MAP_DMA },
		{ "unmap", VFIO_IOMMU_UNMAP_DMA },
		{ "dirty", VFIO_IOMMU_DIRTY_PAGES },
	};
	size_t i;

	if (stage_up(&s, ST_IOMMU, cur_type))
		return;
	a = buf_new("A", 0x10000, PROT_READ | PROT_WRITE);
	none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	mprotect(two + pg, pg, PROT_NONE);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s_null", reqs[i].name);
		out(name, "ioctl(NULL)", VT_DO(ioctl(s.c, reqs[i].req, NULL)), 0, "%s", "");
		snprintf(name, sizeof(name), "%s_addr_1", reqs[i].name);
		out(name, "ioctl(0x1)", VT_DO(ioctl(s.c, reqs[i].req, (void *)1)), 0, "%s", "");
		snprintf(name, sizeof(name), "%s_unmapped", reqs[i].name);
		out(name, "ioctl(PROT_NONE page)",
		    VT_DO(ioctl(s.c, reqs[i].req, none)), 0, "%s", "");
	}
	/* a MAP_DMA struct whose last 16 bytes are on a PROT_NONE page */
	mtail = (void *)(two + pg - 16);
	mtail->argsz = 32;
	mtail->flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	mtail->vaddr = (uintptr_t)a;
	out("map_struct_crosses_into_prot_none", "MAP_DMA(argsz=32 at page end - 16)",
	    VT_DO(ioctl(s.c, VFIO_IOMMU_MAP_DMA, mtail)), 0, "%s", "");
	/* GET_INFO: the header fits before the PROT_NONE page, the caps do not */
	itail = (void *)(two + pg - 24);
	memset(itail, 0, 24);
	itail->argsz = 512;
	out("get_info_caps_cross_into_prot_none", "GET_INFO(argsz=512 at page end - 24)",
	    VT_DO(ioctl(s.c, VFIO_IOMMU_GET_INFO, itail)), 0, "argsz_after=%u",
	    itail->argsz);
	/* read-only structs: read fine, the write back fails */
	p_map_rw("setup.map", s.c, a, IOVA_A, 0x10000);
	memset(ro, 0, pg);
	((struct vfio_iommu_type1_info *)ro)->argsz = 256;
	mprotect(ro, pg, PROT_READ);
	out("get_info_read_only", "GET_INFO(read-only, argsz=256)",
	    VT_DO(ioctl(s.c, VFIO_IOMMU_GET_INFO, ro)), 0, "%s", "");
	mprotect(ro, pg, PROT_READ | PROT_WRITE);
	{
		struct vfio_iommu_type1_dma_map *m = (void *)ro;

		memset(ro, 0, pg);
		m->argsz = sizeof(*m);
		m->flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
		m->vaddr = (uintptr_t)a;
		m->iova = IOVA_B;
		m->size = 0x10000;
		mprotect(ro, pg, PROT_READ);
		out("map_read_only", "MAP_DMA(read-only struct)",
		    VT_DO(ioctl(s.c, VFIO_IOMMU_MAP_DMA, ro)), 0, "%s", "");
		mprotect(ro, pg, PROT_READ | PROT_WRITE);
	}
	u = (void *)ro;
	memset(ro, 0, pg);
	u->argsz = sizeof(*u);
	u->iova = IOVA_A;
	u->size = 0x10000;
	mprotect(ro, pg, PROT_READ);
	out("unmap_read_only", "UNMAP_DMA(read-only struct)",
	    VT_DO(ioctl(s.c, VFIO_IOMMU_UNMAP_DMA, ro)), 0, "%s", "");
	mprotect(ro, pg, PROT_READ | PROT_WRITE);
	/* was it unmapped before the failed write back? */
	p_unmap_simple("after_unmap_read_only", s.c, IOVA_A, 0x10000);
	p_unmap_simple("after_map_read_only", s.c, IOVA_B, 0x10000);
	munmap(none, pg);
	munmap(two, 2 * pg);
	munmap(ro, pg);
	stage_down(&s);
}

/* ------------------------------------------------------------------ unknown ioctls */

struct uioc {
	const char *name;
	unsigned long req;
};

static const struct uioc uiocs[] = {
	{ "vfio_base_minus_1", _IO(VFIO_TYPE, VFIO_BASE - 1) },
	{ "group_get_status", VFIO_GROUP_GET_STATUS },
	{ "device_get_info", VFIO_DEVICE_GET_INFO },
	{ "spapr_enable", VFIO_IOMMU_ENABLE },
	{ "spapr_disable", VFIO_IOMMU_DISABLE },
	{ "vfio_base_18", _IO(VFIO_TYPE, VFIO_BASE + 18) },
	{ "vfio_base_50", _IO(VFIO_TYPE, VFIO_BASE + 50) },
	{ "iommufd_destroy", IOMMU_DESTROY },
	{ "iommufd_ioas_alloc", IOMMU_IOAS_ALLOC },
	{ "iommufd_vfio_ioas", IOMMU_VFIO_IOAS },
	{ "iommufd_option", IOMMU_OPTION },
	{ "non_vfio_type_x", _IO('x', 1) },
	{ "fionread", FIONREAD },
};

static void uioc_sweep(const char *phase, int c)
{
	for (size_t i = 0; i < sizeof(uiocs) / sizeof(uiocs[0]); i++) {
		/*
		 * The argument is a zeroed struct whose leading size field is
		 * valid for an iommufd command and whose object id (0xfffffff0)
		 * exists nowhere, so a wrongly forwarded call cannot do harm;
		 * which bytes came back is part of the line.
		 */
		uint32_t arg[16], before[16];
		char n[96], call[96], wr[128];
		struct vt_res r;

		memset(arg, 0, sizeof(arg));
		arg[0] = 24;
		arg[1] = 0xfffffff0;
		memcpy(before, arg, sizeof(arg));
		r = VT_DO(ioctl(c, uiocs[i].req, arg));
		diff_ranges(before, arg, sizeof(arg), wr, sizeof(wr));
		snprintf(n, sizeof(n), "%s.%s", phase, uiocs[i].name);
		snprintf(call, sizeof(call), "ioctl(0x%lx)", uiocs[i].req);
		out(n, call, r, 0, "wr=%s", wr);
	}
}

static void sec_ioctl(void)
{
	struct stage s;
	struct vt_res r;
	int flag = 0;

	if (stage_up(&s, ST_OPEN, cur_type))
		return;
	uioc_sweep("no_group", s.c);
	r = VT_DO(s.g = open_group(vt_edu_group()));
	out("open_group", "open(group)", r, 1, NULL);
	p_set_container("set_container", s.g, s.c);
	uioc_sweep("group", s.c);
	p_set_iommu("set_iommu", s.c, cur_type);
	uioc_sweep("iommu", s.c);
	/* generic ioctls the VFS answers itself */
	r = VT_DO(ioctl(s.c, FIONBIO, &flag));
	out("fionbio", "ioctl(FIONBIO,0)", r, 0, NULL);
	r = VT_DO(ioctl(s.c, FIOCLEX));
	out("fioclex", "ioctl(FIOCLEX)", r, 0, NULL);
	stage_down(&s);
}

/* ------------------------------------------------------------------ driver */

struct section {
	const char *name;
	void (*fn)(void);
	int per_type;
};

static const struct section sections[] = {
	{ "api", sec_api, 1 },
	{ "ext", sec_ext, 1 },
	{ "setiommu", sec_setiommu, 1 },
	{ "nesting", sec_nesting, 0 },
	{ "group", sec_group, 1 },
	{ "groupfd", sec_groupfd, 0 },
	{ "info", sec_info, 1 },
	{ "map", sec_map, 1 },
	{ "unmap", sec_unmap, 1 },
	{ "dirty", sec_dirty, 1 },
	{ "vaddr", sec_vaddr, 1 },
	{ "vaddr_memfd", sec_vaddr_memfd, 1 },
	{ "vaddr_exec", sec_vaddr_exec, 1 },
	{ "limit", sec_limit, 1 },
	{ "memlock", sec_memlock, 1 },
	{ "memlock_users", sec_memlock_users, 1 },
	{ "memlock_vaddr", sec_memlock_vaddr, 1 },
	{ "lifecycle", sec_lifecycle, 1 },
	{ "multi", sec_multi, 1 },
	{ "fork", sec_fork, 1 },
	{ "exec", sec_exec, 1 },
	{ "scm", sec_scm, 1 },
	{ "threads", sec_threads, 1 },
	{ "procs", sec_procs, 1 },
	{ "ioctl", sec_ioctl, 1 },
	{ "badptr", sec_badptr, 1 },
};

static int wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!list)
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

/* Run one section in a child: its own container, its own failures. */
static void run_section(const struct section *sec, int type)
{
	pid_t pid;
	int st;

	conf_prefix("%s.%s", tname(type), sec->name);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		note("exit", "fork failed");
		return;
	}
	if (pid == 0) {
		cur_type = type;
		buf_forget_all();
		alarm(120);	/* a hang must not stall the whole run */
		sec->fn();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		note("exit", "child killed by signal %s", sigabbrev_np(WTERMSIG(st)) ?: "?");
	else if (WEXITSTATUS(st))
		note("exit", "child exit status %d", WEXITSTATUS(st));
}

int main(int argc, char **argv)
{
	const char *only = NULL, *types = "1,3";
	int opt;

	/* re-executed by the exec section: act on the inherited container */
	if (argc == 5 && !strcmp(argv[1], "-X"))
		return exec_child(argv[2], argv[3], argv[4]);
	/* re-executed by the vaddr_exec section */
	if (argc == 6 && !strcmp(argv[1], "-V"))
		return vaddr_exec_image(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5]);
	while ((opt = getopt(argc, argv, "s:t:l")) != -1) {
		switch (opt) {
		case 's':
			only = optarg;
			break;
		case 't':
			types = optarg;
			break;
		case 'l':
			for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
				printf("%s%s\n", sections[i].name, sections[i].per_type ? "" : " (once)");
			return 0;
		default:
			fprintf(stderr, "usage: %s [-s SECTION,...] [-t 1|3|1,3] [-l]\n", argv[0]);
			return 2;
		}
	}
	if (vt_edu_group() < 0) {
		fprintf(stderr, "type1_conf: set VM_EDU_GROUP or VM_EDU_BDF\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		const struct section *sec = &sections[i];

		if (!wanted(only, sec->name))
			continue;
		if (!sec->per_type) {
			run_section(sec, 0);
			continue;
		}
		if (strchr(types, '1'))
			run_section(sec, VFIO_TYPE1_IOMMU);
		if (strchr(types, '3'))
			run_section(sec, VFIO_TYPE1v2_IOMMU);
	}
	/* a truncated run (crash of the whole program) shows as a missing case */
	conf_prefix("end");
	note("complete", "sections done");
	return 0;
}
