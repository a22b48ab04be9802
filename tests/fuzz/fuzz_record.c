// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the shared container record as another process of the
 * user may leave it. A container is made and mapped over the fake kernel;
 * then the input rewrites its record file: patches of arbitrary bytes
 * anywhere in the header and the node array (optionally with the header's
 * identity and checksum made right again, so the checks behind them are
 * reached), a cut of the file (the holder that has it mapped meets its
 * SIGBUS guard), a lock left by a dead holder with any
 * journal. Then a new holder opens it (refuses it or trusts it), and both
 * holders make requests, the first of them recovering a dead holder's
 * record. Nothing may crash, hang or draw a sanitizer report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "config.h"
#include "container.h"
#include "fake_kernel.h"
#include "group.h"
#include "record.h"

#define GFD (FAKE_GROUP_FD_BASE + 3)
#define PG 4096ull

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

static uint32_t u32(struct input *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | u8(in);
	return v;
}

static uint64_t u64(struct input *in)
{
	return (uint64_t)u32(in) << 32 | u32(in);
}

static uint8_t mem[64 * PG] __attribute__((aligned(4096)));

static long map_on(struct container *h, int fd, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)mem,
		.iova = iova,
		.size = size,
	};

	return container_ioctl(h, fd, VFIO_IOMMU_MAP_DMA, &m);
}

static long unmap_on(struct container *h, int fd, uint64_t iova, uint64_t size,
		     uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = size,
	};

	return container_ioctl(h, fd, VFIO_IOMMU_UNMAP_DMA, &u);
}

/* The header's checksum as the library computes it: FNV-1a up to csum. */
static uint32_t hdr_csum(const struct record_hdr *h)
{
	const unsigned char *p = (const unsigned char *)h;
	uint32_t x = 2166136261u;

	for (size_t i = 0; i < offsetof(struct record_hdr, csum); i++)
		x = (x ^ p[i]) * 16777619u;
	return x;
}

/* Where a patch lands: mostly the header and the first nodes. */
static uint32_t where(struct input *in, uint64_t used)
{
	uint8_t b = u8(in);

	if (b < 0x80)
		return (uint32_t)(b & 0x7f) * 8 % sizeof(struct record_hdr);
	if (b < 0xf0)
		return RECORD_NODES_OFF + u32(in) % (uint32_t)(used + 1);
	return u32(in);
}

/* Some requests from holder h: maps, unmaps of every kind, GET_INFO. */
static void requests(struct container *h, int fd, struct input *in)
{
	uint64_t buf[64];

	for (int i = 0; i < 8 && in->n; i++) {
		uint64_t iova = (uint64_t)(u8(in) & 0x3f) * PG;
		uint64_t size = (uint64_t)((u8(in) & 7) + 1) * PG;

		switch (u8(in) % 5) {
		case 0:
			map_on(h, fd, iova, size);
			break;
		case 1:
			unmap_on(h, fd, iova, size, 0);
			break;
		case 2:
			unmap_on(h, fd, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL);
			break;
		case 3:
			memset(buf, 0, sizeof(buf));
			((struct vfio_iommu_type1_info *)buf)->argsz =
				sizeof(buf);
			container_ioctl(h, fd, VFIO_IOMMU_GET_INFO, buf);
			break;
		case 4:
			unmap_on(h, fd, iova, size * 4, 0);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct input in = {data, size};
	struct container *c, *a = NULL;
	struct record_hdr *h;
	uint8_t flags, npatch;
	uint64_t used;
	int cfd, i;

	if (!init) {
		fdtable_init();
		init = true;
	}
	fake_reset();
	shim_config.dma_entry_limit = 65535;
	shim_lock();
	cfd = container_open(O_RDWR, &c);
	if (cfd < 0) {
		shim_unlock();
		return 0;
	}
	c->obj.refs = 1;
	fdtable_add(cfd, &c->obj);
	obj_put(&c->obj);
	group_set_container(GFD, c, cfd);
	container_ioctl(c, cfd, VFIO_SET_IOMMU,
			(void *)(uintptr_t)(u8(&in) & 1 ? VFIO_TYPE1v2_IOMMU
							: VFIO_TYPE1_IOMMU));
	/* a tree of a few mappings, some freed nodes */
	for (i = 0; i < 12; i++)
		map_on(c, cfd, (uint64_t)i * 4 * PG,
		       (uint64_t)(i % 3 + 1) * PG);
	for (i = 0; i < 12; i += 4)
		unmap_on(c, cfd, (uint64_t)i * 4 * PG,
			 (uint64_t)(i % 3 + 1) * PG, 0);

	/* the damage */
	h = c->rec.h;
	used = (uint64_t)h->st.maps.used * sizeof(struct mapping);
	flags = u8(&in);
	npatch = u8(&in) % 16;
	for (i = 0; i < npatch && in.n; i++) {
		uint32_t off = where(&in, used);
		uint8_t len = u8(&in) % 16 + 1, buf[16];

		for (int j = 0; j < len; j++)
			buf[j] = u8(&in);
		if (pwrite(c->rec.fd, buf, len, off) < 0)
			break;
	}
	if (flags & 1) {
		/* the identity made right again: the checks behind it run */
		h->magic = 0x64726f6365726676ull;
		h->version = 1;
		h->hdr_size = sizeof(*h);
		h->key = c->rec.key;
		h->uid = (uint32_t)getuid();
		h->csum = hdr_csum(h);
	}
	if (flags & 4)
		/* a holder died holding the lock: slot 4000's, nobody's */
		atomic_store(&h->lock, 4001);
	if (flags & 2) {
		/* cut; the new holder meets the short file */
		off_t len = (off_t)(u32(&in) %
				    (uint32_t)(RECORD_NODES_OFF + used + 64));

		if (ftruncate(c->rec.fd, len))
			abort();
	}

	/* a new holder: refuses the record, or trusts it and uses it */
	if (flags & 8 && !container_adopt(cfd, &a))
		requests(a, cfd, &in);
	/* the first holder has it mapped, cut or not (the SIGBUS guard) */
	requests(c, cfd, &in);
	if (a) {
		a->obj.refs = 1;
		obj_put(&a->obj);
	}
	{
		int fd;

		fake.released = 1;
		while ((fd = fdtable_next(0, SHIM_NONE)) >= 0)
			fdtable_remove(fd);
	}
	shim_unlock();
	return 0;
}
