// SPDX-License-Identifier: MIT
/*
 * The type1 reference table, row by row, against the container code over
 * the fake kernel. Each test names the behaviour; the expected values are
 * type1's (drivers/vfio/vfio_iommu_type1.c, 6.12), confirmed on the real
 * kernel by tests/conformance.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "config.h"
#include "container.h"
#include "container_priv.h"
#include "failalloc.h"
#include "fake_kernel.h"
#include "fdlife.h"
#include "filemap.h"
#include "group.h"
#include "record.h"
#include "vfiodev.h"
#include "vfiotest.h"

#define GFD (FAKE_GROUP_FD_BASE + 3)
#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
/* A number in VFIO's container range that no request has */
#define UNKNOWN_REQUEST _IO(VFIO_TYPE, VFIO_BASE + 30)

static struct container *c;
static int cfd;
/* The running fixture variant: TYPE1 or TYPE1v2, and whose type1 (kernel). */
static unsigned long fixture_type;
static uint16_t fixture_kver = TYPE1_KVER(6, 19);
static char mem[16 * 4096] __attribute__((aligned(4096)));
#define VA ((uint64_t)(uintptr_t)mem)

static void setup(void)
{
	fake_reset();
	shim_config.dma_entry_limit = 65535;
	shim_config.type1_kver = fixture_kver;
	ck_assert_int_eq(fdtable_init(), 0);
	shim_lock();
	cfd = container_open(O_RDWR, &c);
	ck_assert_int_ge(cfd, 0);
	c->obj.refs = 1;
	ck_assert_int_eq(fdtable_add(cfd, &c->obj), 0);
	obj_put(&c->obj);
}

static void teardown(void)
{
	shim_unlock();
}

/* One fixture per IOMMU type and kernel whose type1 is answered as. */
#define FIXTURE(name, type, major, minor)                \
	static void name(void)                           \
	{                                                \
		fixture_type = (type);                   \
		fixture_kver = TYPE1_KVER(major, minor); \
		setup();                                 \
	}
FIXTURE(setup_6_12, 0, 6, 12)
FIXTURE(setup_6_19, 0, 6, 19)
FIXTURE(setup_type1_6_12, VFIO_TYPE1_IOMMU, 6, 12)
FIXTURE(setup_type1_6_19, VFIO_TYPE1_IOMMU, 6, 19)
FIXTURE(setup_type1v2_6_12, VFIO_TYPE1v2_IOMMU, 6, 12)
FIXTURE(setup_type1v2_6_19, VFIO_TYPE1v2_IOMMU, 6, 19)

/* type1's answer for the running variant: since 6.19 where it changed */
static long expect(long before_6_19, long since_6_19)
{
	return type1_since(6, 19) ? since_6_19 : before_6_19;
}

static long ioc(unsigned long req, void *arg)
{
	return container_ioctl(c, cfd, req, arg);
}

static long ioc_val(unsigned long req, unsigned long v)
{
	return container_ioctl(c, cfd, req, (void *)v);
}

static void join(void)
{
	ck_assert_int_eq(group_set_container(GFD, c, cfd), 0);
}

static void set_type(unsigned long type)
{
	join();
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, type), 0);
}

/* The fixture variant's type: v1 and v2 answer these alike. */
static void set_iommu(void)
{
	set_type(fixture_type);
}

/* The kernel calls a step made, by name ("" for none): see fake_kernel.h. */
#define ck_assert_calls(mark, expected) \
	ck_assert_str_eq(fake_calls_since(mark), expected)

static long map(uint64_t iova, uint64_t size, uint64_t vaddr, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = vaddr,
		.iova = iova,
		.size = size,
	};

	return ioc(VFIO_IOMMU_MAP_DMA, &m);
}

static long map_rw(uint64_t iova, uint64_t size)
{
	return map(iova, size, VA, VFIO_DMA_MAP_FLAG_READ |
					   VFIO_DMA_MAP_FLAG_WRITE);
}

static long unmap(uint64_t iova, uint64_t size, uint32_t flags,
		  uint64_t *out)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	long rc = ioc(VFIO_IOMMU_UNMAP_DMA, &u);

	if (out)
		*out = u.size;
	return rc;
}

/* ---- container core ------------------------------------------------- */

START_TEST(test_open_sets_compat_ioas)
{
	ck_assert_uint_eq(fake.compat_ioas, c->ioas_id);
	ck_assert_uint_eq(fake.rlimit_mode, 1);
}
END_TEST

/*
 * Only an iommufd carrying a container's mark (one a process with the shim
 * opened) is adopted; one the program opened itself stays the kernel's.
 */
START_TEST(test_adopt_only_marked)
{
	struct container *a = NULL;
	int fd = iommufd_open(O_RDWR);

	ck_assert_int_ge(fd, 0);
	fake.foreign_iommufd = fd;
	ck_assert_int_eq(container_adopt(fd, &a), -ENOENT);
	ck_assert_ptr_null(a);
	fake.foreign_iommufd = 0;
	ck_assert_int_eq(container_adopt(fd, &a), 0);
	ck_assert_ptr_nonnull(a);
	ck_assert(a->s->adopted);
	a->obj.refs = 1;
	obj_put(&a->obj);
}
END_TEST

START_TEST(test_get_api_version)
{
	ck_assert_int_eq(ioc_val(VFIO_GET_API_VERSION, 0), VFIO_API_VERSION);
}
END_TEST

/* CHECK_EXTENSION, by id: before SET_IOMMU, after it */
static const struct {
	unsigned long ext;
	int before, after;
} ext_rows[] = {
	{ 0, 0, 0 },	/* no such extension */
	{ VFIO_TYPE1_IOMMU, 1, 1 },
	{ VFIO_SPAPR_TCE_IOMMU, 0, 0 },
	{ VFIO_TYPE1v2_IOMMU, 1, 1 },
	{ VFIO_DMA_CC_IOMMU, 0, 1 },
	{ VFIO_EEH, 0, 0 },
	{ SHIM_TYPE1_NESTING_IOMMU, -1, -1 },	/* 1 before 6.13, 0 since */
	{ VFIO_SPAPR_TCE_v2_IOMMU, 0, 0 },
	{ VFIO_NOIOMMU_IOMMU, 0, 0 },
	{ VFIO_UNMAP_ALL, 1, 1 },
	{ VFIO_UPDATE_VADDR, 0, 0 },	/* listed: not supported */
};

START_TEST(test_check_extension_table)
{
	int nesting = !type1_since(6, 13);
	size_t i;

	for (i = 0; i < sizeof(ext_rows) / sizeof(ext_rows[0]); i++)
		ck_assert_msg(ioc_val(VFIO_CHECK_EXTENSION, ext_rows[i].ext) ==
				      (ext_rows[i].before < 0 ? nesting :
								ext_rows[i].before),
			      "before SET_IOMMU: extension %lu",
			      ext_rows[i].ext);
	set_iommu();
	for (i = 0; i < sizeof(ext_rows) / sizeof(ext_rows[0]); i++)
		ck_assert_msg(ioc_val(VFIO_CHECK_EXTENSION, ext_rows[i].ext) ==
				      (ext_rows[i].after < 0 ? nesting :
							       ext_rows[i].after),
			      "after SET_IOMMU: extension %lu",
			      ext_rows[i].ext);
}
END_TEST

START_TEST(test_set_iommu_needs_group)
{
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL);
}
END_TEST

START_TEST(test_set_iommu_once)
{
	set_iommu();
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL);
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), -EINVAL);
}
END_TEST

static const struct {
	unsigned long type;
	long rc, rc_6_13;	/* the latter where type1 changed in 6.13 */
} set_iommu_rows[] = {
	{ VFIO_TYPE1_IOMMU, 0, 0 },	 { VFIO_TYPE1v2_IOMMU, 0, 0 },
	{ VFIO_SPAPR_TCE_IOMMU, -ENODEV, 0 }, { VFIO_DMA_CC_IOMMU, -ENODEV, 0 },
	/* its attach fails on x86 until 6.13; then no driver takes it */
	{ SHIM_TYPE1_NESTING_IOMMU, -EINVAL, -ENODEV },
	{ VFIO_NOIOMMU_IOMMU, -ENODEV, 0 }, { VFIO_UNMAP_ALL, -EINVAL, 0 },
	{ VFIO_UPDATE_VADDR, -ENODEV, 0 },	 { 0x1234, -ENODEV, 0 },
};

START_TEST(test_set_iommu_types)
{
	long rc = set_iommu_rows[_i].rc;

	if (set_iommu_rows[_i].rc_6_13 && type1_since(6, 13))
		rc = set_iommu_rows[_i].rc_6_13;
	join();
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, set_iommu_rows[_i].type), rc);
	/* success attaches the domain, as type1 does at SET_IOMMU */
	ck_assert_int_eq(fake.domain, rc == 0);
}
END_TEST

START_TEST(test_set_iommu_attach_failure_is_errno)
{
	join();
	fake.attach_errno = EPERM;
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, fixture_type), -EPERM);
	ck_assert_int_eq(ioc_val(VFIO_IOMMU_MAP_DMA, 0), -EINVAL);
}
END_TEST

START_TEST(test_ioctls_before_set_iommu_einval)
{
	static const unsigned long reqs[] = {
		VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
		VFIO_IOMMU_DIRTY_PAGES, UNKNOWN_REQUEST,
	};
	unsigned int mark;
	size_t i;


	join();
	mark = fake.calls;
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		ck_assert_int_eq(ioc(reqs[i], mem), -EINVAL);
	ck_assert_calls(mark, "");
}
END_TEST

START_TEST(test_unknown_ioctl_enotty)
{
	unsigned int mark;

	set_iommu();
	mark = fake.calls;
	ck_assert_int_eq(ioc(UNKNOWN_REQUEST, mem), -ENOTTY);
	/* an iommufd request on the container is not the caller's to make */
	ck_assert_int_eq(ioc(_IO(VFIO_TYPE, 0x81), mem), -ENOTTY);
	/* MAP_DMA's number with another size is another request */
	ck_assert_int_eq(
		ioc(_IOW(VFIO_TYPE, _IOC_NR(VFIO_IOMMU_MAP_DMA), int), mem),
		-ENOTTY);
	ck_assert_calls(mark, "");
}
END_TEST

/* ---- GET_INFO ------------------------------------------------------- */

/*
 * The cap of that id in info's chain, walked as every test walks it
 * (tests/lib: forward only, within argsz), each cap 8-byte aligned as type1
 * lays them out; NULL if absent.
 */
static const void *find_cap(const struct vfio_iommu_type1_info *info,
			    uint16_t id, size_t size)
{
	uint32_t off = vt_info_cap_find(info, info->argsz, id, size);

	if (!off)
		return NULL;
	ck_assert_uint_eq(off % 8, 0);
	return (const char *)info + off;
}

/* The ids along info's chain, in order. */
static int cap_ids(const struct vfio_iommu_type1_info *info, uint16_t *ids,
		   int max)
{
	struct vt_caps it;
	int n = 0;

	for (vt_caps_init(&it, info, info->argsz); n < max && vt_caps_next(&it);) {
		ck_assert_uint_eq(it.off % 8, 0);
		ids[n++] = it.id;
	}
	return n;
}

START_TEST(test_get_info_layout)
{
	uint64_t buf[32];
	struct vfio_iommu_type1_info *info = (void *)buf;
	const struct vfio_iommu_type1_info_cap_migration *mig;
	const struct vfio_iommu_type1_info_dma_avail *avail;
	const struct vfio_iommu_type1_info_cap_iova_range *r;
	uint16_t ids[4];
	size_t end;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	memset(buf, 0xa5, sizeof(buf));
	info->argsz = sizeof(buf);
	ck_assert_int_eq(ioc(VFIO_IOMMU_GET_INFO, info), 0);
	ck_assert_uint_eq(info->argsz, sizeof(buf));
	ck_assert_uint_eq(info->flags,
			  VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
	ck_assert_uint_eq(info->iova_pgsizes, 0x40201000);
	/* the caps follow the struct, in type1's order */
	ck_assert_uint_eq(info->cap_offset, sizeof(*info));
	ck_assert_int_eq(cap_ids(info, ids, 4), 3);
	ck_assert_uint_eq(ids[0], VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	ck_assert_uint_eq(ids[1], VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ck_assert_uint_eq(ids[2], VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	mig = find_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, sizeof(*mig));
	ck_assert_ptr_nonnull(mig);
	ck_assert_uint_eq(mig->header.version, 1);
	ck_assert_uint_eq(mig->pgsize_bitmap, 4096);
	avail = find_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, sizeof(*avail));
	ck_assert_ptr_nonnull(avail);
	ck_assert_uint_eq(avail->avail, 65534);
	r = find_cap(info, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->header.next, 0);
	ck_assert_uint_eq(r->nr_iovas, 2);
	ck_assert_uint_eq(r->iova_ranges[0].start, 0);
	ck_assert_uint_eq(r->iova_ranges[0].end, 0xfedfffff);
	ck_assert_uint_eq(r->iova_ranges[1].start, 0xfef00000);
	ck_assert_uint_eq(r->iova_ranges[1].end, 0x7fffffffff);
	/* the last cap ends where the 6.12 guest's type1 ends (120 bytes), and
	 * nothing after it was written */
	end = (size_t)((const char *)&r->iova_ranges[2] - (const char *)buf);
	ck_assert_uint_eq(end, 120);
	ck_assert_uint_eq(((uint8_t *)buf)[end], 0xa5);
}
END_TEST

START_TEST(test_get_info_small_argsz)
{
	uint64_t buf[8];
	struct vfio_iommu_type1_info *info = (void *)buf;

	set_iommu();
	memset(buf, 0xa5, sizeof(buf));
	info->argsz = 16;
	ck_assert_int_eq(ioc(VFIO_IOMMU_GET_INFO, info), 0);
	ck_assert_uint_eq(info->argsz, 120);
	ck_assert_uint_eq(info->flags, 3);
	/* only argsz bytes were written back, no caps */
	ck_assert_uint_eq(((uint8_t *)buf)[16], 0xa5);
	info->argsz = 15;
	ck_assert_int_eq(ioc(VFIO_IOMMU_GET_INFO, info), -EINVAL);
	info->argsz = 64;
	ck_assert_int_eq(ioc(VFIO_IOMMU_GET_INFO, info), 0);
	ck_assert_uint_eq(info->argsz, 120);
	ck_assert_uint_eq(info->cap_offset, 0);
	ck_assert_uint_eq(((uint8_t *)buf)[24], 0xa5);
}
END_TEST

START_TEST(test_get_info_bad_pointer_efault)
{
	set_iommu();
	ck_assert_int_eq(ioc(VFIO_IOMMU_GET_INFO, NULL), -EFAULT);
	ck_assert_int_eq(ioc(VFIO_IOMMU_GET_INFO, (void *)16), -EFAULT);
}
END_TEST

/* ---- MAP_DMA -------------------------------------------------------- */

static const struct {
	const char *name;
	uint64_t iova, size, vaddr_off;
	uint32_t flags;
	long rc;
	long rc_6_19;	/* where type1 changed in 6.19 */
} map_rows[] = {
	{ "ok", 0x100000, SZ_4K, 0, 3, 0, 0 },
	{ "read only", 0x100000, SZ_4K, 0, VFIO_DMA_MAP_FLAG_READ, 0, 0 },
	{ "flags 0", 0x100000, SZ_4K, 0, 0, -EINVAL, 0 },
	{ "unknown flag", 0x100000, SZ_4K, 0, 3 | 8, -EINVAL, 0 },
	{ "vaddr flag (listed)", 0x100000, SZ_4K, 0, VFIO_DMA_MAP_FLAG_VADDR,
	  -EINVAL, 0 },
	{ "size 0", 0x100000, 0, 0, 3, -EINVAL, 0 },
	{ "iova misaligned", 0x100800, SZ_4K, 0, 3, -EINVAL, 0 },
	{ "vaddr misaligned", 0x100000, SZ_4K, 0x800, 3, -EINVAL, 0 },
	{ "size misaligned", 0x100000, 0x1800, 0, 3, -EINVAL, 0 },
	{ "iova wraps", 0xfffffffffffff000ull, 0x2000, 0, 3, -EINVAL,
	  -EOVERFLOW },
	/* 6.19 checks the wrap first */
	{ "iova wraps, flags 0", 0xfffffffffffff000ull, 0x2000, 0, 0, -EINVAL,
	  -EOVERFLOW },
	{ "iova wraps, misaligned", 0xfffffffffffff800ull, 0x2000, 0, 3,
	  -EINVAL, -EOVERFLOW },
	{ "ends at 2^64", 0xfffffffffffff000ull, SZ_4K, 0, 3, -EINVAL, 0 },
	{ "msi window", 0xfee00000, SZ_4K, 0, 3, -EINVAL, 0 },
	{ "beyond aperture", 1ull << 48, SZ_4K, 0, 3, -EINVAL, 0 },
};

START_TEST(test_map_rows)
{
	long rc = map_rows[_i].rc_6_19 ?
			  expect(map_rows[_i].rc, map_rows[_i].rc_6_19) :
			  map_rows[_i].rc;
	unsigned int mark;

	set_iommu();
	mark = fake.calls;
	ck_assert_msg(map(map_rows[_i].iova, map_rows[_i].size,
			  VA + map_rows[_i].vaddr_off, map_rows[_i].flags) == rc,
		      "%s", map_rows[_i].name);
	/* one kernel call for a mapping; a refused one never reaches it */
	ck_assert_calls(mark, rc == 0 ? "compat MAP_DMA" : "");
	ck_assert_uint_eq(maptree_count(&c->maps), rc == 0);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id),
			  rc == 0 ? map_rows[_i].size : 0);
}
END_TEST

START_TEST(test_map_argsz_too_small)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = 31, .flags = 3, .vaddr = VA, .iova = 0, .size = SZ_4K
	};

	set_iommu();
	ck_assert_int_eq(ioc(VFIO_IOMMU_MAP_DMA, &m), -EINVAL);
}
END_TEST

START_TEST(test_map_overlap_eexist)
{
	unsigned int mark;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 0x3000), 0);
	/* the record overlaps: the kernel confirms (another process may unmap) */
	mark = fake.calls;
	ck_assert_int_eq(map_rw(0x102000, 0x2000), -EEXIST);
	ck_assert_calls(mark, "compat MAP_DMA");
	ck_assert_int_eq(map_rw(0x0ff000, 0x2000), -EEXIST);
	ck_assert_int_eq(map_rw(0x103000, 0x1000), 0);
}
END_TEST

START_TEST(test_map_entry_limit_enospc)
{
	uint64_t buf[32];
	struct vfio_iommu_type1_info *info = (void *)buf;
	const struct vfio_iommu_type1_info_dma_avail *avail;
	unsigned int mark;
	int i;

	shim_config.dma_entry_limit = 8;
	set_iommu();
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(map_rw(0x100000 + i * SZ_4K, SZ_4K), 0);
	mark = fake.calls;
	ck_assert_int_eq(map_rw(0x200000, SZ_4K), -ENOSPC);
	ck_assert_calls(mark, "");
	/* overlap is reported before the limit, as type1 orders its checks */
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), -EEXIST);
	info->argsz = sizeof(buf);
	ck_assert_int_eq(ioc(VFIO_IOMMU_GET_INFO, info), 0);
	avail = find_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, sizeof(*avail));
	ck_assert_ptr_nonnull(avail);
	ck_assert_uint_eq(avail->avail, 0);
	ck_assert_int_eq(unmap(0x100000, SZ_4K, 0, NULL), 0);
	ck_assert_int_eq(map_rw(0x200000, SZ_4K), 0);
}
END_TEST

START_TEST(test_map_memlock_enomem_keeps_record)
{
	set_iommu();
	fake.pinned_limit = 2 * SZ_4K;
	ck_assert_int_eq(map_rw(0x100000, 2 * SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x200000, SZ_4K), -ENOMEM);
	ck_assert_uint_eq(maptree_count(&c->maps), 1);
}
END_TEST

/* ---- UNMAP_DMA ------------------------------------------------------ */

START_TEST(test_unmap_empty_is_success)
{
	uint64_t size = 1;

	set_iommu();
	ck_assert_int_eq(unmap(0x100000, SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 0);
}
END_TEST

START_TEST(test_unmap_v2_bisect_einval_nothing_unmapped)
{
	uint64_t size;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x101000, 0x2000), 0);
	/* covers the first mapping, cuts the second: nothing may go, and
	 * the caller's struct is not written (size stays as requested) */
	ck_assert_int_eq(unmap(0x100000, 0x2000, 0, &size), -EINVAL);
	ck_assert_uint_eq(size, 0x2000);
	ck_assert_uint_eq(maptree_count(&c->maps), 2);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0x3000);
	ck_assert_int_eq(unmap(0x101000, SZ_4K, 0, &size), -EINVAL);
	ck_assert_int_eq(unmap(0x100000, 0x3000, 0, &size), 0);
	ck_assert_uint_eq(size, 0x3000);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
}
END_TEST

START_TEST(test_unmap_v1_whole_mappings)
{
	uint64_t size;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 0x4000), 0);
	/* start inside a mapping: nothing, size 0 */
	ck_assert_int_eq(unmap(0x101000, SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0x4000);
	/* covering its first page removes all of it */
	ck_assert_int_eq(unmap(0x100000, SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 0x4000);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
}
END_TEST

START_TEST(test_unmap_v1_straddle_stops_walk)
{
	uint64_t size;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 0x2000), 0);
	ck_assert_int_eq(map_rw(0x102000, 0x2000), 0);
	ck_assert_int_eq(unmap(0x101000, 0x3000, 0, &size), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_uint_eq(maptree_count(&c->maps), 2);
}
END_TEST

START_TEST(test_unmap_many_one_kernel_call)
{
	uint64_t size;
	unsigned int before;
	int i;

	set_iommu();
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(map_rw(0x100000 + i * SZ_4K, SZ_4K), 0);
	before = fake.calls;
	ck_assert_int_eq(unmap(0x100000, 10 * SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 10 * SZ_4K);
	ck_assert_calls(before, "IOAS_UNMAP");
	/* an empty range is asked of the kernel too (another process may have
	 * mapped there), still one call */
	before = fake.calls;
	ck_assert_int_eq(unmap(0x100000, 10 * SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_calls(before, "IOAS_UNMAP");
}
END_TEST

static const struct {
	const char *name;
	uint64_t iova, size;
	uint32_t flags;
	long rc;
	long rc_6_19;	/* where type1 changed in 6.19 */
} unmap_rows[] = {
	{ "size 0", 0x100000, 0, 0, -EINVAL, 0 },
	{ "iova misaligned", 0x100800, SZ_4K, 0, -EINVAL, 0 },
	{ "size misaligned", 0x100000, 0x800, 0, -EINVAL, 0 },
	{ "wraps", 0xfffffffffffff000ull, 0x2000, 0, -EINVAL, -EOVERFLOW },
	{ "unknown flag", 0x100000, SZ_4K, 1u << 31, -EINVAL, 0 },
	{ "all with iova", 0x100000, 0, VFIO_DMA_UNMAP_FLAG_ALL, -EINVAL, 0 },
	{ "all with size", 0, SZ_4K, VFIO_DMA_UNMAP_FLAG_ALL, -EINVAL, 0 },
	{ "vaddr (listed)", 0x100000, SZ_4K, VFIO_DMA_UNMAP_FLAG_VADDR,
	  -EINVAL, 0 },
	{ "dirty bitmap with all", 0, 0,
	  VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
	  -EINVAL, 0 },
};

START_TEST(test_unmap_rows)
{
	unsigned int mark;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	mark = fake.calls;
	ck_assert_msg(unmap(unmap_rows[_i].iova, unmap_rows[_i].size,
			    unmap_rows[_i].flags, NULL) ==
			      (unmap_rows[_i].rc_6_19 ?
				       expect(unmap_rows[_i].rc,
					      unmap_rows[_i].rc_6_19) :
				       unmap_rows[_i].rc),
		      "%s", unmap_rows[_i].name);
	ck_assert_calls(mark, "");
	ck_assert_uint_eq(maptree_count(&c->maps), 1);
}
END_TEST

/*
 * A range ending exactly at 2^64 over a mapping: before 6.19 type1's search
 * wraps and finds nothing (0, size 0, the mapping stays, nothing asked of
 * the kernel); since, it is unmapped like any other range.
 */
START_TEST(test_unmap_range_ending_at_2_64)
{
	uint64_t size = 0x5a5a, iova = 0x100000;
	unsigned int mark;

	set_iommu();
	ck_assert_int_eq(map_rw(iova, SZ_4K), 0);
	mark = fake.calls;
	ck_assert_int_eq(unmap(iova, 0 - iova, 0, &size), 0);
	if (type1_since(6, 19)) {
		ck_assert_uint_eq(size, SZ_4K);
		ck_assert_calls(mark, "IOAS_UNMAP");
		ck_assert_uint_eq(maptree_count(&c->maps), 0);
		ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
	} else {
		ck_assert_uint_eq(size, 0);
		ck_assert_calls(mark, "");
		ck_assert_uint_eq(maptree_count(&c->maps), 1);
		ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), SZ_4K);
	}
}
END_TEST

START_TEST(test_unmap_all)
{
	uint64_t size;

	set_iommu();
	ck_assert_int_eq(unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x200000, SZ_2M), 0);
	ck_assert_int_eq(unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size), 0);
	ck_assert_uint_eq(size, SZ_4K + SZ_2M);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
}
END_TEST

/* ---- DIRTY_PAGES ---------------------------------------------------- */

static long dirty(uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = sizeof(d),
						   .flags = flags };

	return ioc(VFIO_IOMMU_DIRTY_PAGES, &d);
}

static long get_bitmap(uint64_t iova, uint64_t size, uint64_t pgsize,
		       uint64_t *bits, uint64_t bytes)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get g;
	} a = {
		.d = { .argsz = sizeof(a),
		       .flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP },
		.g = { .iova = iova,
		       .size = size,
		       .bitmap = { .pgsize = pgsize,
				   .size = bytes,
				   .data = (__u64 *)bits } },
	};

	return ioc(VFIO_IOMMU_DIRTY_PAGES, &a);
}

START_TEST(test_dirty_v1_eacces)
{
	set_iommu();
	ck_assert_int_eq(dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), -EACCES);
}
END_TEST

START_TEST(test_dirty_flags)
{
	set_iommu();
	ck_assert_int_eq(dirty(0), -EINVAL);
	ck_assert_int_eq(dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
			       VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP),
			 -EINVAL);
	ck_assert_int_eq(dirty(8), -EINVAL);
	ck_assert_int_eq(dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	ck_assert_int_eq(dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
}
END_TEST

START_TEST(test_dirty_bitmap_all_mapped_pages)
{
	uint64_t bits[2];

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 3 * SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x105000, SZ_4K), 0);
	memset(bits, 0xff, sizeof(bits));
	/* tracking off: EINVAL */
	ck_assert_int_eq(get_bitmap(0x100000, 64 * SZ_4K, SZ_4K, bits, 8),
			 -EINVAL);
	ck_assert_int_eq(dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	ck_assert_int_eq(get_bitmap(0x100000, 64 * SZ_4K, SZ_2M, bits, 8),
			 -EINVAL);
	ck_assert_int_eq(get_bitmap(0x100000, 64 * SZ_4K, SZ_4K, bits, 8), 0);
	/* pages 0-2 and 5 set; the rest of the touched word cleared */
	ck_assert_uint_eq(bits[0], 0x27);
	ck_assert_uint_eq(bits[1], ~0ull);
	/* bisecting range */
	ck_assert_int_eq(get_bitmap(0x101000, SZ_4K, SZ_4K, bits, 8), -EINVAL);
}
END_TEST

START_TEST(test_unmap_get_dirty_bitmap)
{
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} a;
	uint64_t bits = 0;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 2 * SZ_4K), 0);
	memset(&a, 0, sizeof(a));
	a.u.argsz = sizeof(a);
	a.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	a.u.iova = 0x100000;
	a.u.size = 2 * SZ_4K;
	a.b.pgsize = SZ_4K;
	a.b.size = 8;
	a.b.data = (__u64 *)&bits;
	/* not tracking */
	ck_assert_int_eq(ioc(VFIO_IOMMU_UNMAP_DMA, &a), -EINVAL);
	ck_assert_int_eq(dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	ck_assert_int_eq(ioc(VFIO_IOMMU_UNMAP_DMA, &a), 0);
	ck_assert_uint_eq(bits, 3);
	ck_assert_uint_eq(a.u.size, 2 * SZ_4K);
}
END_TEST

/* ---- groups --------------------------------------------------------- */

START_TEST(test_get_device_fd_before_set_iommu_einval)
{
	struct group *g;

	join();
	g = (struct group *)fdtable_lookup(GFD);
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(group_get_device_fd(g, GFD, "0000:00:03.0"), -EINVAL);
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, fixture_type), 0);
	ck_assert_int_ge(group_get_device_fd(g, GFD, "0000:00:03.0"), 0);
}
END_TEST

START_TEST(test_unset_with_device_open_ebusy)
{
	struct group *g;
	int dfd;

	set_iommu();
	g = (struct group *)fdtable_lookup(GFD);
	dfd = group_get_device_fd(g, GFD, "0000:00:03.0");
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(group_unset_container(g, GFD), -EBUSY);
	fdtable_remove(dfd);
	ck_assert_int_eq(group_unset_container(g, GFD), 0);
}
END_TEST

START_TEST(test_last_group_leaving_drops_everything)
{
	struct group *g;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	g = (struct group *)fdtable_lookup(GFD);
	ck_assert_int_eq(group_unset_container(g, GFD), 0);
	ck_assert_ptr_null(fdtable_lookup(GFD));
	ck_assert_int_eq(fake.domain, 0);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), -EINVAL);
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL);
	/* and the container can be used again, with either type */
	set_type(fixture_type == VFIO_TYPE1_IOMMU ? VFIO_TYPE1v2_IOMMU :
						    VFIO_TYPE1_IOMMU);
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
}
END_TEST

START_TEST(test_group_close_released_leaves)
{
	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	fake.released = 1;
	fdtable_remove(GFD);
	ck_assert_int_eq(map_rw(0x200000, SZ_4K), -EINVAL);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
}
END_TEST

START_TEST(test_group_close_held_elsewhere_keeps)
{
	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	fake.released = 0;
	fdtable_remove(GFD);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), SZ_4K);
}
END_TEST

/*
 * A group whose backend owns its fd (as the shim's own groups over the
 * device cdevs do, group_cdev.c): every group request answered by
 * group_ioctl(), type1's answers. The kernel side is the fake's.
 */
static int owned_set_container(struct group *g, int group_fd, int to)
{
	(void)group_fd;
	if (g->c)
		return -EINVAL;
	return fdtable_kind(to) == SHIM_CONTAINER ? 0 : -EBADFD;
}

static int owned_unset_container(struct group *g, int group_fd)
{
	(void)group_fd;
	return g->c ? 0 : -EINVAL;
}

static int owned_get_device_fd(struct group *g, int group_fd, const char *name)
{
	if (!group_ready(g))
		return -EINVAL;
	return vfiodev_group_get_device_fd(group_fd, name);
}

static int owned_open_any_device(struct group *g, int group_fd)
{
	return vfiodev_open_any_device(group_fd, g->no);
}

static int owned_released(struct group *g)
{
	(void)g;
	return fake.released;
}

static int owned_status_flags(struct group *g)
{
	(void)g;
	return VFIO_GROUP_FLAGS_VIABLE;
}

static const struct group_backend owned_backend = {
	.name = "owned",
	.owns_fd = true,
	.set_container = owned_set_container,
	.unset_container = owned_unset_container,
	.get_device_fd = owned_get_device_fd,
	.open_any_device = owned_open_any_device,
	.released = owned_released,
	.status_flags = owned_status_flags,
};

#define OFD (FAKE_GROUP_FD_BASE + 5)

static struct group *owned_group(void)
{
	struct group *g = group_new(&owned_backend, 5);

	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(fdtable_add(OFD, &g->obj), 0);
	obj_put(&g->obj);
	return g;
}

static uint32_t owned_status(struct group *g, long want)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_GET_STATUS, &st), want);
	return st.flags;
}

START_TEST(test_owned_group_requests)
{
	struct vfio_group_status small = { .argsz = 4 };
	struct group *g = owned_group();
	char dev[] = "dev";
	int other = -1, dfd;

	ck_assert_uint_eq(owned_status(g, 0), VFIO_GROUP_FLAGS_VIABLE);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_GET_STATUS, &small),
			 -EINVAL);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_GET_STATUS, NULL),
			 -EFAULT);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_UNSET_CONTAINER, NULL),
			 -EINVAL);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_SET_CONTAINER, &other),
			 -EBADFD);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_SET_CONTAINER, NULL),
			 -EFAULT);
	/* anything else: the group file's ENOTTY, not the kernel's answer */
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GET_API_VERSION, NULL),
			 -ENOTTY);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_SET_CONTAINER, &cfd), 0);
	ck_assert_uint_eq(owned_status(g, 0),
			  VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_SET_CONTAINER, &cfd),
			 -EINVAL);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_GET_DEVICE_FD, dev),
			 -EINVAL);
	/* SET_IOMMU attaches through the backend's device */
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, fixture_type), 0);
	ck_assert_int_eq(fake.domain, 1);
	dfd = (int)group_ioctl(g, OFD, VFIO_GROUP_GET_DEVICE_FD, dev);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(fdtable_kind(dfd), SHIM_DEVICE);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_UNSET_CONTAINER, NULL),
			 -EBUSY);
	fdtable_remove(dfd);
	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_UNSET_CONTAINER, NULL),
			 0);
	/* the last group left: the container is reset, the fd is still ours */
	ck_assert_int_eq(fake.domain, 0);
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, fixture_type), -EINVAL);
	ck_assert_ptr_eq(fdtable_lookup(OFD), &g->obj);
	ck_assert_uint_eq(owned_status(g, 0), VFIO_GROUP_FLAGS_VIABLE);
	fdtable_remove(OFD);
}
END_TEST

START_TEST(test_owned_group_last_close_leaves)
{
	struct group *g = owned_group();

	ck_assert_int_eq(group_ioctl(g, OFD, VFIO_GROUP_SET_CONTAINER, &cfd), 0);
	ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, fixture_type), 0);
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	fake.released = 1;
	fdtable_remove(OFD);
	ck_assert_int_eq(fake.domain, 0);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), -EINVAL);
}
END_TEST

/* ---- a container shared with another process (fork, SCM_RIGHTS) ---- */

START_TEST(test_shared_unmap_reaches_other_process_mappings)
{
	struct vfio_iommu_type1_dma_map other = {
		.argsz = sizeof(other),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = VA,
		.iova = 0x700000,
		.size = 0x10000,
	};
	uint64_t size, gone;

	set_iommu();
	/* the other process mapped 0x700000 and unmapped our 0x100000 */
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	ck_assert_int_eq(iommufd_compat_map_dma(cfd, &other), 0);
	ck_assert_int_eq(iommufd_ioas_unmap(cfd, c->ioas_id, 0x100000, SZ_4K,
					    &gone), 0);
	ck_assert_int_eq(unmap(0x700000, 0x10000, 0, &size), 0);
	ck_assert_uint_eq(size, 0x10000);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 0);
	/* our stale record entry does not make a new map fail EEXIST */
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	ck_assert_int_eq(unmap(0x100000, SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, SZ_4K);
	ck_assert_int_eq(unmap(0x100000, SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 0);
}
END_TEST

/* ---- faults: the record always equals the kernel ------------------- */

START_TEST(test_fail_nth_record_matches_kernel)
{
	static const int errs[] = { ENOMEM, EAGAIN, EFAULT, EINVAL, EBUSY };
	unsigned int n, base;
	size_t e;
	int i;

	for (e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
		for (n = 1; n < 40; n++) {
			teardown();
			setup();
			set_iommu();
			base = fake.calls;
			fake.fail_nth = base + n;
			fake.fail_errno = errs[e];
			for (i = 0; i < 6; i++)
				map_rw(0x100000 + i * SZ_4K, SZ_4K);
			unmap(0x101000, 2 * SZ_4K, 0, NULL);
			map_rw(0x200000, SZ_2M);
			unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL);
			map_rw(0x300000, SZ_4K);
			ck_assert_msg(record_bytes(&c->maps) ==
					      fake_mapped_bytes(c->ioas_id),
				      "err %d n %u: record %llu kernel %llu",
				      errs[e], n,
				      (unsigned long long)record_bytes(&c->maps),
				      (unsigned long long)fake_mapped_bytes(
					      c->ioas_id));
		}
	}
}
END_TEST

/*
 * Allocation failures, each allocation in turn: every call answers as
 * without the failure or -ENOMEM (what type1 answers when it cannot
 * allocate), and afterwards the record equals the kernel and the container
 * still works.
 */
#define FA_MAPS 1030 /* the record grows on the way */
#define FA_OPS (FA_MAPS + 7)

static void fa_sequence(long *rc)
{
	uint64_t bits[16] = { 0 }, size;
	uint64_t info[64] = { 0 };
	int i, k = 0;

	/* the capability chain is built in an allocated buffer */
	info[0] = sizeof(info);
	rc[k++] = ioc(VFIO_IOMMU_GET_INFO, info);
	for (i = 0; i < FA_MAPS; i++)
		rc[k++] = map_rw(0x100000 + (uint64_t)i * SZ_4K, SZ_4K);
	rc[k++] = dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
	rc[k++] = get_bitmap(0x100000, 64 * SZ_4K, SZ_4K, bits, sizeof(bits));
	rc[k++] = dirty(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
	rc[k++] = unmap(0x101000, 2 * SZ_4K, 0, &size);
	rc[k++] = map_rw(0x101000, SZ_4K);
	rc[k++] = unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size);
}

START_TEST(test_fail_nth_allocation)
{
	static long want[FA_OPS], got[FA_OPS];
	unsigned int n, calls;
	long rc;
	int i;

	set_iommu();
	fa_sequence(want);
	for (n = 1;; n++) {
		teardown();
		setup();
		join();
		/* SET_IOMMU itself: ENOMEM leaves it unset, and it can be redone */
		failalloc_arm(n);
		rc = ioc_val(VFIO_SET_IOMMU, fixture_type);
		failalloc_arm(0);
		ck_assert_msg(rc == 0 || rc == -ENOMEM, "n %u: SET_IOMMU %ld", n,
			      rc);
		if (rc)
			ck_assert_int_eq(ioc_val(VFIO_SET_IOMMU, fixture_type),
					 0);
		failalloc_arm(n);
		fa_sequence(got);
		calls = failalloc_calls;
		failalloc_arm(0);
		for (i = 0; i < FA_OPS; i++)
			ck_assert_msg(got[i] == want[i] || got[i] == -ENOMEM,
				      "n %u: call %d answered %ld, not %ld or "
				      "ENOMEM",
				      n, i, got[i], want[i]);
		ck_assert_msg(record_bytes(&c->maps) ==
				      fake_mapped_bytes(c->ioas_id),
			      "n %u: record %llu kernel %llu", n,
			      (unsigned long long)record_bytes(&c->maps),
			      (unsigned long long)fake_mapped_bytes(c->ioas_id));
		ck_assert_int_eq(map_rw(0x900000, SZ_4K), 0);
		ck_assert_int_eq(unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL), 0);
		ck_assert_int_eq(fake_mapped_bytes(c->ioas_id), 0);
		/* the sequence made fewer allocations than n: every one was failed */
		if (calls < n)
			break;
	}
	/* at least one allocation was there to fail (GET_INFO's, the dirty
	 * bitmaps'); the record itself grows in its shared file, not the heap */
	ck_assert_uint_gt(n, 1);
}
END_TEST

/* ---- one record for every holder (fork, exec, SCM_RIGHTS) ---------- */

/*
 * Another holder's view of the container: what an exec'd image or an
 * SCM_RIGHTS receiver does with the only thing it has, the fd.
 */
static struct container *other_holder(void)
{
	struct container *a = NULL;

	ck_assert_int_eq(container_adopt(cfd, &a), 0);
	ck_assert_ptr_nonnull(a);
	return a;
}

static long ioc_on(struct container *h, unsigned long req, void *arg)
{
	return container_ioctl(h, cfd, req, arg);
}

static uint32_t avail_on(struct container *h)
{
	uint64_t buf[64];
	struct vfio_iommu_type1_info *info = (void *)buf;
	const struct vfio_iommu_type1_info_dma_avail *avail;

	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	ck_assert_int_eq(ioc_on(h, VFIO_IOMMU_GET_INFO, info), 0);
	avail = find_cap(info, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, sizeof(*avail));
	ck_assert_ptr_nonnull(avail);
	ck_assert_ptr_nonnull(find_cap(info,
				       VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
				       sizeof(struct vfio_iommu_type1_info_cap_iova_range)));
	ck_assert_uint_eq(info->iova_pgsizes, c->s->pgsizes);
	return avail->avail;
}

static long unmap_on(struct container *h, uint64_t iova, uint64_t size,
		     uint64_t *out)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};
	long rc = ioc_on(h, VFIO_IOMMU_UNMAP_DMA, &u);

	*out = u.size;
	return rc;
}

static long map_on(struct container *h, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = VA, .iova = iova, .size = size,
	};

	return ioc_on(h, VFIO_IOMMU_MAP_DMA, &m);
}

/* The holder that found the record answers as type1 from the first call. */
START_TEST(test_record_other_holder_answers_as_type1)
{
	struct container *a;
	uint64_t size;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 4 * SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x200000, SZ_4K), 0);
	a = other_holder();
	ck_assert(!a->s->adopted);
	ck_assert_int_eq(a->s->type, (int)fixture_type);
	ck_assert_uint_eq(avail_on(a), 65535 - 2);
	/* part of a mapping made before: v2 refuses, v1 unmaps nothing */
	ck_assert_int_eq(unmap_on(a, 0x101000, SZ_4K, &size),
			 fixture_type == VFIO_TYPE1v2_IOMMU ? -EINVAL : 0);
	ck_assert_uint_eq(maptree_count(&a->maps), 2);
	/* each holder's maps and unmaps are the other's */
	ck_assert_int_eq(map_on(a, 0x300000, SZ_4K), 0);
	ck_assert_uint_eq(avail_on(c), 65535 - 3);
	ck_assert_int_eq(map_rw(0x300000, SZ_4K), -EEXIST);
	ck_assert_int_eq(unmap(0x300000, SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, SZ_4K);
	ck_assert_int_eq(unmap_on(a, 0x300000, SZ_4K, &size), 0);
	ck_assert_uint_eq(size, 0);
	/* and so is dirty tracking (v2 only) */
	if (fixture_type == VFIO_TYPE1v2_IOMMU) {
		struct vfio_iommu_type1_dirty_bitmap d = {
			.argsz = sizeof(d),
			.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
		};

		ck_assert_int_eq(ioc_on(a, VFIO_IOMMU_DIRTY_PAGES, &d), 0);
		ck_assert(c->s->dirty_tracking);
	}
	a->obj.refs = 1;
	obj_put(&a->obj);
	/* the holder going away leaves the record to the others */
	ck_assert_uint_eq(maptree_count(&c->maps), 2);
	ck_assert_uint_eq(avail_on(c), 65535 - 2);
}
END_TEST

/* A fork child's calls are the parent's record too. */
START_TEST(test_record_fork_child_shares)
{
	pid_t pid;
	int st;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		record_atfork_child();
		_exit(map_rw(0x200000, SZ_4K) || map_rw(0x100000, SZ_4K) != -EEXIST ||
		      avail_on(c) != 65535 - 2);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_eq(maptree_count(&c->maps), 2);
	ck_assert_ptr_nonnull(maptree_at(&c->maps, 0x200000));
	ck_assert_uint_eq(avail_on(c), 65535 - 2);
}
END_TEST

#define BUSY_ROUNDS 100000

/* Map and unmap one's own pages over and over; leave 8 mapped. */
static int busy_holder(struct container *h, uint64_t base)
{
	uint64_t size;
	int i, bad = 0;

	for (i = 0; i < BUSY_ROUNDS; i++) {
		uint64_t iova = base + (uint64_t)(i % 16) * 2 * SZ_4K;

		bad += map_on(h, iova, SZ_4K) != 0;
		bad += unmap_on(h, iova, SZ_4K, &size) != 0 || size != SZ_4K;
	}
	for (i = 0; i < 8; i++)
		bad += map_on(h, base + (uint64_t)i * 2 * SZ_4K, SZ_4K) != 0;
	return bad;
}

/*
 * Two processes mapping and unmapping at once, on interleaved pages (the
 * same subtrees, the same free nodes): serialized, one record.
 */
START_TEST(test_record_two_processes_at_once)
{
	int go[2], st, bad;
	pid_t pid;
	char g;

	set_iommu();
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		record_atfork_child();
		/* both start together */
		if (read(go[0], &g, 1) != 1)
			_exit(2);
		_exit(busy_holder(c, 0x40001000) ? 1 : 0);
	}
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	bad = busy_holder(c, 0x40000000);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(record_lock(&c->rec), 0);
	ck_assert_int_eq(maptree_check(&c->maps), 0);
	record_unlock(&c->rec);
	ck_assert_uint_eq(maptree_count(&c->maps), 16);
	ck_assert_uint_eq(c->s->mapped_bytes, 16 * SZ_4K);
	ck_assert_ptr_nonnull(maptree_at(&c->maps, 0x40000000));
	ck_assert_ptr_nonnull(maptree_at(&c->maps, 0x40001000));
}
END_TEST

/*
 * The lock alone: two processes add to a shared counter by read, wait,
 * write inside it. Without exclusion updates are lost.
 */
START_TEST(test_record_lock_excludes_processes)
{
	volatile uint64_t *ctr;
	int go[2], st, i;
	pid_t pid;
	char g;

	ctr = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne((void *)ctr, MAP_FAILED);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		record_atfork_child();
		if (read(go[0], &g, 1) != 1)
			_exit(2);
	} else {
		ck_assert_int_eq(write(go[1], "g", 1), 1);
	}
	for (i = 0; i < 20000; i++) {
		uint64_t v;
		int k;

		if (record_lock(&c->rec))
			_exit(3);
		v = *ctr;
		for (k = 0; k < 2000; k++)
			__asm__ volatile("" ::: "memory");
		*ctr = v + 1;
		record_unlock(&c->rec);
	}
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_eq(*ctr, 40000);
}
END_TEST

/*
 * A holder killed in the middle of an update, the lock held: its tree half
 * relinked, its kernel call in flight. The next holder is not blocked, and
 * finds the record consistent and equal to the kernel.
 */
enum { DIE_MID_MAP, DIE_MID_UNMAP };

static void die_mid_update(int how)
{
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		record_atfork_child();
		if (record_lock(&c->rec))
			_exit(2);
		if (how == DIE_MID_MAP) {
			/* inserted and journaled, the kernel asked, the
			 * tree's links cut short by death */
			record_intent_map(&c->rec, 0x300000);
			maptree_insert(&c->maps, 0x300000, SZ_4K, VA, 3);
			c->s->maps.root = 0;
		} else {
			record_intent(&c->rec, RECORD_OP_UNMAP, 0x100000);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the dead holder's lock is still taken */
	ck_assert_uint_ne(atomic_load(&c->rec.h->lock), 0);
}

START_TEST(test_record_holder_dies_mid_map)
{
	unsigned int mark;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x200000, SZ_4K), 0);
	die_mid_update(DIE_MID_MAP);
	mark = fake.calls;
	/* the next call recovers: the interrupted map is undone */
	ck_assert_uint_eq(avail_on(c), 65535 - 2);
	ck_assert_str_eq(fake_calls_since(mark),
			 "IOAS_UNMAP, compat GET_INFO, IOAS_IOVA_RANGES");
	ck_assert_int_eq(maptree_check(&c->maps), 0);
	ck_assert_uint_eq(maptree_count(&c->maps), 2);
	ck_assert_ptr_null(maptree_at(&c->maps, 0x300000));
	ck_assert_uint_eq(c->s->mapped_bytes, 2 * SZ_4K);
	ck_assert_uint_eq(c->s->intent.word, RECORD_OP_NONE);
	ck_assert_int_eq(map_rw(0x300000, SZ_4K), 0);
	ck_assert_uint_eq(record_bytes(&c->maps), fake_mapped_bytes(c->ioas_id));
}
END_TEST

START_TEST(test_record_holder_dies_mid_unmap)
{
	uint64_t size;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x200000, SZ_4K), 0);
	die_mid_update(DIE_MID_UNMAP);
	/* the interrupted unmap is finished: kernel and record */
	ck_assert_int_eq(unmap(0x100000, SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(maptree_check(&c->maps), 0);
	ck_assert_uint_eq(maptree_count(&c->maps), 1);
	ck_assert_uint_eq(c->s->mapped_bytes, SZ_4K);
	ck_assert_uint_eq(record_bytes(&c->maps), fake_mapped_bytes(c->ioas_id));
}
END_TEST

/*
 * A process that comes after a holder died holding the lock never takes
 * the dead holder's slot: the waiters would see it alive and wait on.
 */
START_TEST(test_record_dead_holders_slot_not_reused)
{
	int p[2], st;
	uint32_t dead, me2 = 0;
	pid_t pid;

	set_iommu();
	die_mid_update(DIE_MID_UNMAP);
	dead = atomic_load(&c->rec.h->lock) & ~RECORD_WAITERS;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		record_atfork_child();
		if (record_register(&c->rec) ||
		    write(p[1], &c->rec.me, sizeof(c->rec.me)) !=
			    sizeof(c->rec.me))
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &me2, sizeof(me2)), sizeof(me2));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_uint_ne(me2, 0);
	ck_assert_uint_ne(me2, dead);
	/* and the dead holder's lock is taken over */
	ck_assert_int_eq(record_lock(&c->rec), 1);
	record_unlock(&c->rec);
}
END_TEST

/* A record that fails validation is not trusted: a new, empty one serves. */
START_TEST(test_record_damaged_is_replaced)
{
	struct container *a;

	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	c->rec.h->magic ^= 1;
	a = other_holder();
	ck_assert(a->s->adopted);
	ck_assert_uint_eq(maptree_count(&a->maps), 0);
	ck_assert_uint_ne(a->rec.key, c->rec.key);
	/* the fd now holds the new record's key */
	{
		uint64_t key;

		ck_assert_int_eq(iommufd_key_get(cfd, &key), 0);
		ck_assert_uint_eq(key, a->rec.key);
	}
	c->rec.h->magic ^= 1;
}
END_TEST

/* The record's file: the user's alone; a dead container's goes at the next open. */
START_TEST(test_record_file_and_sweep)
{
	struct flock slot = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET,
		.l_start = (1ll << 40) + 7, .l_len = 1,
	};
	char name[300], stale[300], held[300];
	struct container *c2;
	struct stat st;
	int fd, fd2;

	snprintf(name, sizeof(name), "%s/vfiocompat-%u-%016llx", record_dir,
		 (unsigned int)getuid(), (unsigned long long)c->rec.key);
	ck_assert_int_eq(stat(name, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	snprintf(stale, sizeof(stale), "%s/vfiocompat-%u-%016llx", record_dir,
		 (unsigned int)getuid(), 0x2000000000000123ull);
	fd = open(stale, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* one whose key no fd holds, but a live holder has a slot in it */
	snprintf(held, sizeof(held), "%s/vfiocompat-%u-%016llx", record_dir,
		 (unsigned int)getuid(), 0x2000000000000456ull);
	fd = open(held, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &slot), 0);
	fd2 = container_open(O_RDWR, &c2);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_ne(stat(stale, &st), 0);
	ck_assert_int_eq(stat(held, &st), 0);
	close(fd);
	/* the live containers' files stay */
	ck_assert_int_eq(stat(name, &st), 0);
	c2->obj.refs = 1;
	obj_put(&c2->obj);
}
END_TEST

/* ---- VFIO_UPDATE_VADDR (6.13+: IOAS_MAP_FILE, IOAS_CHANGE_PROCESS) -- */

#define MEMFD 77	/* the program's memfd in the fake (fileid.h) */

static const struct mapping *at(uint64_t iova)
{
	return maptree_at(&c->maps, iova);
}

static bool invalid(uint64_t iova)
{
	return at(iova)->bits & MAPPING_VADDR_INVALID;
}

/* A kernel without CHANGE_PROCESS keeps the listed refusal (the rows above). */
START_TEST(test_vaddr_extension_follows_kernel)
{
	fake.change_process = true;
	ck_assert_int_eq(ioc_val(VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0);
	set_iommu();
	ck_assert_int_eq(ioc_val(VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 1);
	ck_assert_int_eq(ioc_val(VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1);
}
END_TEST

/*
 * Invalidate, then give the vaddr: the record alone changes (the kernel keeps
 * the pages pinned), and each update asks CHANGE_PROCESS for this process.
 */
START_TEST(test_vaddr_invalidate_then_update)
{
	uint64_t size = 0;
	unsigned int mark;

	fake.change_process = true;
	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 2 * SZ_4K), 0);
	mark = fake.calls;
	ck_assert_int_eq(unmap(0x100000, 2 * SZ_4K, VFIO_DMA_UNMAP_FLAG_VADDR,
			       &size), 0);
	ck_assert_uint_eq(size, 2 * SZ_4K);
	ck_assert_calls(mark, "");
	ck_assert(invalid(0x100000));
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 2 * SZ_4K);
	mark = fake.calls;
	ck_assert_int_eq(map(0x100000, 2 * SZ_4K, VA + SZ_4K,
			     VFIO_DMA_MAP_FLAG_VADDR), 0);
	/* anonymous memory: the kernel cannot move it (listed), the update stands */
	ck_assert_calls(mark, "IOAS_CHANGE_PROCESS");
	ck_assert_int_eq(fake.change_processes, 0);
	ck_assert(!invalid(0x100000));
	ck_assert_uint_eq(at(0x100000)->vaddr, VA + SZ_4K);
	ck_assert_int_eq(map(0x100000, 2 * SZ_4K, VA, VFIO_DMA_MAP_FLAG_VADDR),
			 -EINVAL);
}
END_TEST

/* type1's vfio_dma_do_map() with set_vaddr, and its unmap walk. */
START_TEST(test_vaddr_rows)
{
	const uint32_t MV = VFIO_DMA_MAP_FLAG_VADDR;
	const uint32_t UV = VFIO_DMA_UNMAP_FLAG_VADDR;
	uint64_t size = 0x5a5a;

	fake.change_process = true;
	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, 4 * SZ_4K), 0);
	ck_assert_int_eq(map_rw(0x200000, 4 * SZ_4K), 0);
	ck_assert_int_eq(map(0x300000, 4 * SZ_4K, VA, MV), -ENOENT);
	ck_assert_int_eq(map(0x100000, 4 * SZ_4K, VA, MV), -EINVAL);
	ck_assert_int_eq(map(0x100000, 4 * SZ_4K, VA, MV | 1), -EINVAL);
	ck_assert_int_eq(map(0x100000, 4 * SZ_4K, VA + 1, MV), -EINVAL);
	ck_assert_int_eq(unmap(0x200000, 4 * SZ_4K, UV, &size), 0);
	/* the valid one is marked, then the invalid one undoes it */
	ck_assert_int_eq(unmap(0x100000, 0x200000, UV, &size), -EINVAL);
	/* an error leaves the caller's size */
	ck_assert_uint_eq(size, 0x200000);
	ck_assert(!invalid(0x100000));
	ck_assert(invalid(0x200000));
	ck_assert_int_eq(map(0x200000, 2 * SZ_4K, VA, MV), -EINVAL);
	ck_assert_int_eq(map(0x201000, 3 * SZ_4K, VA, MV), -EINVAL);
	/* a new mapping over an invalid one is EEXIST; elsewhere it maps */
	ck_assert_int_eq(map_rw(0x200000, 4 * SZ_4K), -EEXIST);
	ck_assert_int_eq(map_rw(0x400000, SZ_4K), 0);
	/* no group may attach while a vaddr is invalid */
	ck_assert_int_eq(map(0x200000, 4 * SZ_4K, VA, MV), 0);
	ck_assert_int_eq(unmap(0, 0, UV | VFIO_DMA_UNMAP_FLAG_ALL, &size), 0);
	ck_assert_uint_eq(size, 9 * SZ_4K);
	ck_assert_int_eq(unmap(0x100000, 0, UV | VFIO_DMA_UNMAP_FLAG_ALL, NULL),
			 -EINVAL);
	/* an invalid vaddr unmaps the ordinary way */
	ck_assert_int_eq(unmap(0x200000, 4 * SZ_4K, 0, &size), 0);
	ck_assert_uint_eq(size, 4 * SZ_4K);
	ck_assert_uint_eq(fake_mapped_bytes(c->ioas_id), 5 * SZ_4K);
}
END_TEST

/* A shared memfd mmap maps as the file's pages, which CHANGE_PROCESS moves. */
START_TEST(test_vaddr_memfd_maps_file_and_moves)
{
	uint64_t size;
	unsigned int mark;

	fake.change_process = true;
	fake.shmem_fd = MEMFD;
	shim_unlock();
	filemap_note_mmap(mem, sizeof(mem), PROT_READ | PROT_WRITE, MEMFD,
			  0x10000);
	shim_lock();
	set_iommu();
	mark = fake.calls;
	ck_assert_int_eq(map_rw(0x100000, 4 * SZ_4K), 0);
	ck_assert_calls(mark, "IOAS_MAP_FILE");
	ck_assert_uint_eq(fake_ioas(c->ioas_id)->area[0].vaddr, 0x10000);
	/* write-only, or past the mmap's end: the ordinary way */
	mark = fake.calls;
	ck_assert_int_eq(map(0x200000, SZ_4K, VA, VFIO_DMA_MAP_FLAG_WRITE), 0);
	ck_assert_int_eq(unmap(0x200000, SZ_4K, 0, NULL), 0);
	ck_assert_int_eq(map(0x200000, sizeof(mem) + SZ_4K, VA, 3), 0);
	ck_assert_int_eq(unmap(0x200000, sizeof(mem) + SZ_4K, 0, NULL), 0);
	ck_assert_calls(mark, "compat MAP_DMA, compat UNMAP_DMA, compat MAP_DMA, compat UNMAP_DMA");
	ck_assert_int_eq(unmap(0x100000, 4 * SZ_4K, VFIO_DMA_UNMAP_FLAG_VADDR,
			       &size), 0);
	ck_assert_int_eq(map(0x100000, 4 * SZ_4K, VA + SZ_4K,
			     VFIO_DMA_MAP_FLAG_VADDR), 0);
	ck_assert_int_eq(fake.change_processes, 1);
	/* over the new process's limit: type1's ENOMEM, the vaddr stays invalid */
	ck_assert_int_eq(unmap(0x100000, 4 * SZ_4K, VFIO_DMA_UNMAP_FLAG_VADDR,
			       &size), 0);
	fake.change_process_errno = ENOMEM;
	ck_assert_int_eq(map(0x100000, 4 * SZ_4K, VA, VFIO_DMA_MAP_FLAG_VADDR),
			 -ENOMEM);
	ck_assert(invalid(0x100000));
	/* the memfd closed (not the same file any more): the ordinary way */
	fake.shmem_fd = 0;
	mark = fake.calls;
	ck_assert_int_eq(map_rw(0x300000, SZ_4K), 0);
	ck_assert_calls(mark, "compat MAP_DMA");
	shim_unlock();
	filemap_note_munmap(mem, sizeof(mem));
	shim_lock();
}
END_TEST

/* The notes follow the VMAs: a munmap or MAP_FIXED cuts them. */
START_TEST(test_filemap_notes_cut)
{
	uintptr_t m = (uintptr_t)mem;
	uint64_t off;
	int fd;

	fake.shmem_fd = MEMFD;
	shim_unlock();
	/* another fd (not tmpfs): nothing noted */
	filemap_note_mmap(mem, 16 * SZ_4K, PROT_READ, MEMFD + 1, 0);
	ck_assert_uint_eq(atomic_load(&filemap_nmmaps), 0);
	filemap_note_mmap(mem, 16 * SZ_4K, PROT_READ | PROT_WRITE, MEMFD,
			  0x100000);
	filemap_note_munmap(mem + 4 * SZ_4K, SZ_4K);
	shim_lock();
	ck_assert_int_eq(filemap_lookup(m, 4 * SZ_4K, true, &fd, &off), 0);
	ck_assert_int_eq(fd, MEMFD);
	ck_assert_uint_eq(off, 0x100000);
	ck_assert_int_eq(filemap_lookup(m, 5 * SZ_4K, true, &fd, &off),
			 -ENOENT);
	ck_assert_int_eq(filemap_lookup(m + 4 * SZ_4K, SZ_4K, false, &fd, &off),
			 -ENOENT);
	ck_assert_int_eq(filemap_lookup(m + 5 * SZ_4K, 11 * SZ_4K, true, &fd,
					&off),
			 0);
	ck_assert_uint_eq(off, 0x105000);
	/* MAP_FIXED of something else over part of it (fd -1: not a file) */
	shim_unlock();
	filemap_note_mmap(mem + 8 * SZ_4K, SZ_4K, PROT_READ, -1, 0);
	shim_lock();
	ck_assert_int_eq(filemap_lookup(m + 5 * SZ_4K, 11 * SZ_4K, false, &fd,
					&off),
			 -ENOENT);
	ck_assert_int_eq(filemap_lookup(m + 9 * SZ_4K, 7 * SZ_4K, false, &fd,
					&off),
			 0);
	ck_assert_uint_eq(off, 0x109000);
	/* a read-only mmap serves a device read, not a write */
	shim_unlock();
	filemap_note_munmap(mem, sizeof(mem));
	filemap_note_mmap(mem, SZ_4K, PROT_READ, MEMFD, 0);
	shim_lock();
	ck_assert_int_eq(filemap_lookup(m, SZ_4K, false, &fd, &off), 0);
	ck_assert_int_eq(filemap_lookup(m, SZ_4K, true, &fd, &off), -ENOENT);
	shim_unlock();
	filemap_note_munmap(mem, sizeof(mem));
	shim_lock();
	ck_assert_uint_eq(atomic_load(&filemap_nmmaps), 0);
}
END_TEST

/* A memfd is marked in the fd table (its mmaps get noted) until closed. */
START_TEST(test_filemap_memfd_marked)
{
	shim_unlock();
	filemap_memfd_created(MEMFD);
	ck_assert_int_eq(fdtable_kind(MEMFD), SHIM_MEMFD);
	fdlife_dup(MEMFD, MEMFD + 1);
	ck_assert_int_eq(fdtable_kind(MEMFD + 1), SHIM_MEMFD);
	shim_lock();
	fdlife_closed(MEMFD);
	fdlife_closed(MEMFD + 1);
	ck_assert_int_eq(fdtable_kind(MEMFD), SHIM_NONE);
	ck_assert_int_eq(fdtable_kind(MEMFD + 1), SHIM_NONE);
}
END_TEST

/* type1 refuses to attach a group while a vaddr is invalid. */
START_TEST(test_vaddr_invalid_blocks_attach)
{
	fake.change_process = true;
	set_iommu();
	ck_assert_int_eq(map_rw(0x100000, SZ_4K), 0);
	ck_assert_int_eq(unmap(0x100000, SZ_4K, VFIO_DMA_UNMAP_FLAG_VADDR, NULL),
			 0);
	ck_assert(vaddr_any_invalid(c));
	ck_assert_int_eq(map(0x100000, SZ_4K, VA, VFIO_DMA_MAP_FLAG_VADDR), 0);
	ck_assert(!vaddr_any_invalid(c));
}
END_TEST

#define ROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Rows type1 answers alike for TYPE1 and TYPE1v2: run under both. */
static void add_both_types(TCase *t)
{
	tcase_add_test(t, test_check_extension_table);
	tcase_add_test(t, test_set_iommu_once);
	tcase_add_test(t, test_set_iommu_attach_failure_is_errno);
	tcase_add_test(t, test_unknown_ioctl_enotty);
	tcase_add_test(t, test_get_info_layout);
	tcase_add_test(t, test_get_info_small_argsz);
	tcase_add_test(t, test_get_info_bad_pointer_efault);
	tcase_add_loop_test(t, test_map_rows, 0, ROWS(map_rows));
	tcase_add_test(t, test_map_argsz_too_small);
	tcase_add_test(t, test_map_overlap_eexist);
	tcase_add_test(t, test_map_entry_limit_enospc);
	tcase_add_test(t, test_map_memlock_enomem_keeps_record);
	tcase_add_test(t, test_unmap_empty_is_success);
	tcase_add_test(t, test_unmap_many_one_kernel_call);
	tcase_add_loop_test(t, test_unmap_rows, 0, ROWS(unmap_rows));
	tcase_add_test(t, test_unmap_range_ending_at_2_64);
	tcase_add_test(t, test_unmap_all);
	tcase_add_test(t, test_get_device_fd_before_set_iommu_einval);
	tcase_add_test(t, test_unset_with_device_open_ebusy);
	tcase_add_test(t, test_last_group_leaving_drops_everything);
	tcase_add_test(t, test_group_close_released_leaves);
	tcase_add_test(t, test_group_close_held_elsewhere_keeps);
	tcase_add_test(t, test_owned_group_requests);
	tcase_add_test(t, test_owned_group_last_close_leaves);
	tcase_add_test(t, test_shared_unmap_reaches_other_process_mappings);
	tcase_add_test(t, test_fail_nth_record_matches_kernel);
	tcase_add_test(t, test_fail_nth_allocation);
	tcase_add_test(t, test_record_other_holder_answers_as_type1);
	tcase_add_test(t, test_record_fork_child_shares);
	tcase_add_test(t, test_record_two_processes_at_once);
	tcase_add_test(t, test_record_lock_excludes_processes);
	tcase_add_test(t, test_record_holder_dies_mid_map);
	tcase_add_test(t, test_record_holder_dies_mid_unmap);
	tcase_add_test(t, test_record_dead_holders_slot_not_reused);
	tcase_add_test(t, test_record_damaged_is_replaced);
	tcase_add_test(t, test_record_file_and_sweep);
	tcase_add_test(t, test_vaddr_extension_follows_kernel);
	tcase_add_test(t, test_vaddr_invalidate_then_update);
	tcase_add_test(t, test_vaddr_rows);
	tcase_add_test(t, test_vaddr_memfd_maps_file_and_moves);
	tcase_add_test(t, test_vaddr_invalid_blocks_attach);
	tcase_add_test(t, test_filemap_notes_cut);
	tcase_add_test(t, test_filemap_memfd_marked);
	tcase_set_timeout(t, 120);
}

Suite *container_suite(void);

Suite *container_suite(void)
{
	Suite *s = suite_create("container");
	TCase *t;
	int k;

	/* before any type is set; each variant twice: whose type1 (kernel) */
	for (k = 0; k < 2; k++) {
		t = tcase_create(k ? "no iommu yet 6.19" : "no iommu yet 6.12");
		tcase_add_checked_fixture(t, k ? setup_6_19 : setup_6_12,
					  teardown);
		tcase_add_test(t, test_open_sets_compat_ioas);
		tcase_add_test(t, test_get_api_version);
		tcase_add_test(t, test_adopt_only_marked);
		tcase_add_test(t, test_set_iommu_needs_group);
		tcase_add_loop_test(t, test_set_iommu_types, 0,
				    ROWS(set_iommu_rows));
		tcase_add_test(t, test_ioctls_before_set_iommu_einval);
		suite_add_tcase(s, t);

		t = tcase_create(k ? "TYPE1 6.19" : "TYPE1 6.12");
		tcase_add_checked_fixture(
			t, k ? setup_type1_6_19 : setup_type1_6_12, teardown);
		add_both_types(t);
		/* where v1 differs */
		tcase_add_test(t, test_unmap_v1_whole_mappings);
		tcase_add_test(t, test_unmap_v1_straddle_stops_walk);
		tcase_add_test(t, test_dirty_v1_eacces);
		suite_add_tcase(s, t);

		t = tcase_create(k ? "TYPE1v2 6.19" : "TYPE1v2 6.12");
		tcase_add_checked_fixture(
			t, k ? setup_type1v2_6_19 : setup_type1v2_6_12,
			teardown);
		add_both_types(t);
		/* where v2 differs */
		tcase_add_test(t, test_unmap_v2_bisect_einval_nothing_unmapped);
		tcase_add_test(t, test_dirty_flags);
		tcase_add_test(t, test_dirty_bitmap_all_mapped_pages);
		tcase_add_test(t, test_unmap_get_dirty_bitmap);
		suite_add_tcase(s, t);
	}
	return s;
}
