// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: arbitrary sequences of container and group calls, with
 * arbitrary request numbers, argsz/flags/fields, bad pointers and injected
 * kernel failures, against the in-memory fake kernel. After every call the
 * shim's mapping record must equal what the fake kernel holds, and nothing
 * may crash or leak (ASan + UBSan).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>

#include "config.h"
#include "container.h"
#include "fake_kernel.h"
#include "group.h"

#define GFD (FAKE_GROUP_FD_BASE + 3)

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t u64(struct input *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | u8(in);
	return v;
}

/* Mostly page-aligned values in a small window, so mappings collide. */
static uint64_t iova_of(struct input *in)
{
	uint8_t b = u8(in);

	if (b == 0xff)
		return u64(in);
	return (uint64_t)(b & 0x3f) << 12;
}

static uint64_t size_of(struct input *in)
{
	uint8_t b = u8(in);

	if (b == 0xff)
		return u64(in);
	return (uint64_t)((b & 7) + 1) << 12;
}

static uint8_t mem[128 * 4096] __attribute__((aligned(4096)));
static uint64_t bitmap[64];

/* A pointer the shim must survive: good, NULL, unmapped, or too short. */
static void *ptr_of(struct input *in, void *good)
{
	switch (u8(in) & 7) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)16;
	case 2:
		return (void *)(uintptr_t)0xffff800000000000ull;
	default:
		return good;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct input in = { data, size };
	struct container *c;
	uint8_t buf[512];
	int cfd, steps = 0;

	if (!init) {
		fdtable_init();
		init = true;
	}
	fake_reset();
	shim_config.dma_entry_limit = 1 + u8(&in) % 32;
	shim_lock();
	cfd = container_open(O_RDWR, &c);
	if (cfd < 0) {
		shim_unlock();
		return 0;
	}
	c->obj.refs = 1;
	fdtable_add(cfd, &c->obj);
	obj_put(&c->obj);

	while (in.n && steps++ < 64) {
		uint8_t op = u8(&in);
		struct shim_obj *g = fdtable_lookup(GFD);

		memset(buf, 0, sizeof(buf));
		switch (op % 12) {
		case 0: { /* MAP_DMA */
			struct vfio_iommu_type1_dma_map *m = (void *)buf;

			m->argsz = u8(&in) < 0xf0 ? sizeof(*m) : u8(&in);
			m->flags = u8(&in) < 0xf0 ? 3 : u8(&in);
			m->iova = iova_of(&in);
			m->size = size_of(&in);
			m->vaddr = (uintptr_t)mem + (u8(&in) & 0x3f) * 4096ull;
			container_ioctl(c, cfd, VFIO_IOMMU_MAP_DMA,
					ptr_of(&in, m));
			break;
		}
		case 1: { /* UNMAP_DMA, maybe with a dirty bitmap */
			struct {
				struct vfio_iommu_type1_dma_unmap u;
				struct vfio_bitmap b;
			} *u = (void *)buf;

			u->u.argsz = u8(&in) < 0xf0 ? sizeof(u->u) : u8(&in);
			u->u.flags = u8(&in) < 0xe0 ? 0 : u8(&in) & 7;
			u->u.iova = iova_of(&in);
			u->u.size = size_of(&in);
			u->b.pgsize = 4096;
			u->b.size = sizeof(bitmap);
			u->b.data = (__u64 *)ptr_of(&in, bitmap);
			container_ioctl(c, cfd, VFIO_IOMMU_UNMAP_DMA,
					ptr_of(&in, u));
			break;
		}
		case 2: { /* GET_INFO with any argsz */
			struct vfio_iommu_type1_info *i = (void *)buf;

			i->argsz = u8(&in) * 2;
			container_ioctl(c, cfd, VFIO_IOMMU_GET_INFO,
					ptr_of(&in, i));
			break;
		}
		case 3:
			container_ioctl(c, cfd, VFIO_CHECK_EXTENSION,
					(void *)(uintptr_t)u8(&in));
			break;
		case 4:
			container_ioctl(c, cfd, VFIO_SET_IOMMU,
					(void *)(uintptr_t)(u8(&in) & 0xf));
			break;
		case 5: { /* DIRTY_PAGES, any flags */
			struct {
				struct vfio_iommu_type1_dirty_bitmap d;
				struct vfio_iommu_type1_dirty_bitmap_get g;
			} *d = (void *)buf;

			d->d.argsz = u8(&in) < 0xf0 ? sizeof(*d) : u8(&in);
			d->d.flags = u8(&in) & 0xf;
			d->g.iova = iova_of(&in);
			d->g.size = size_of(&in) * (1 + (u8(&in) & 15));
			d->g.bitmap.pgsize = u8(&in) < 0xf0 ? 4096 : u64(&in);
			d->g.bitmap.size = u8(&in) < 0xf0 ? sizeof(bitmap) :
							    u64(&in);
			d->g.bitmap.data = (__u64 *)ptr_of(&in, bitmap);
			container_ioctl(c, cfd, VFIO_IOMMU_DIRTY_PAGES,
					ptr_of(&in, d));
			break;
		}
		case 6: /* group joins */
			if (!g)
				group_set_container(GFD, c, cfd);
			break;
		case 7: /* group leaves, explicitly or by close */
			if (g && (u8(&in) & 1))
				group_unset_container((struct group *)g, GFD);
			else if (g)
				fdtable_remove(GFD);
			break;
		case 8: /* a device fd comes and goes */
			if (g) {
				int dfd = group_get_device_fd(
					(struct group *)g, GFD, "0000:00:03.0");

				if (dfd >= 0 && (u8(&in) & 1))
					fdtable_remove(dfd);
			}
			break;
		case 9: /* the next kernel calls may fail */
			fake.fail_nth = fake.calls + 1 + (u8(&in) & 7);
			fake.fail_errno = (int[]){ ENOMEM, EFAULT, EINVAL,
						   EBUSY }[u8(&in) & 3];
			break;
		case 10: /* any request number at all */
			container_ioctl(c, cfd,
					(unsigned long)u8(&in) << 8 | u8(&in),
					ptr_of(&in, buf));
			break;
		case 11:
			fake.released = u8(&in) & 1;
			fake.pinned_limit = (uint64_t)(u8(&in) & 15) << 12;
			break;
		}
		if (record_bytes(&c->maps) != fake_mapped_bytes(c->ioas_id)) {
			fprintf(stderr, "record %llu != kernel %llu after op %u\n",
				(unsigned long long)record_bytes(&c->maps),
				(unsigned long long)fake_mapped_bytes(c->ioas_id),
				op % 12);
			abort();
		}
	}
	/* tear down: every fd of ours goes, and with it every object */
	{
		int fd;

		fake.fail_nth = 0;
		fake.released = 1;
		while ((fd = fdtable_next(0, SHIM_NONE)) >= 0)
			fdtable_remove(fd);
	}
	shim_unlock();
	return 0;
}
