// SPDX-License-Identifier: MIT
/*
 * The library's own checks, with no kernel: the GET_INFO cap walk over
 * made-up replies (a well-formed chain, a loop, a cap past the end, no
 * CAPS flag, a chain longer than VT_INFO_MAX_CAPS) and the ioctl routing.
 */
#include <stdlib.h>

#include "vfiotest.h"

#define LEN 256

static uint8_t reply[LEN];

/* A reply with the CAPS flag (or not) and its chain starting at @first. */
static void reply_init(int caps, uint32_t first)
{
	struct vfio_iommu_type1_info *h = (void *)reply;

	memset(reply, 0, sizeof(reply));
	h->argsz = LEN;
	h->flags = VFIO_IOMMU_INFO_PGSIZES | (caps ? VFIO_IOMMU_INFO_CAPS : 0);
	h->cap_offset = first;
}

static void cap_at(uint32_t off, uint16_t id, uint32_t next)
{
	struct vfio_info_cap_header h = {.id = id, .version = 1, .next = next};

	memcpy(reply + off, &h, sizeof(h));
}

/* The ids the walk visits, as "1,3,2". */
static const char *walk(void)
{
	static char s[64];
	struct vt_caps it;
	size_t n = 0;

	s[0] = 0;
	for (vt_caps_init(&it, reply, LEN); vt_caps_next(&it);)
		n += snprintf(s + n, sizeof(s) - n, "%s%u", n ? "," : "",
			      it.id);
	return s;
}

static long fake_ioctl(int fd, unsigned long req, void *arg)
{
	if (req == VFIO_GET_API_VERSION)
		return VFIO_API_VERSION;
	if (req == VFIO_IOMMU_MAP_DMA) {
		const struct vfio_iommu_type1_dma_map *m = arg;

		return m->argsz == sizeof(*m) && m->iova == 0x1000 ? 0
								   : -EINVAL;
	}
	return -ENOTTY;
}

int main(void)
{
	const uint16_t range = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
		       mig = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
		       avail = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	char buf[8];
	struct vt_res r;

	/* type1's own order: IOVA_RANGE, MIGRATION, DMA_AVAIL */
	reply_init(1, 24);
	cap_at(24, range, 64);
	cap_at(64, mig, 96);
	cap_at(96, avail, 0);
	VT_CHECK(!strcmp(walk(), "1,2,3"), "chain walked in order: %s", walk());
	VT_CHECK(vt_info_cap_find(reply, LEN, avail, 16) == 96,
		 "DMA_AVAIL found at 96");
	VT_CHECK(vt_info_cap_find(reply, 100, avail, 16) == 0,
		 "DMA_AVAIL whose body does not fit: not found");
	VT_CHECK(vt_info_cap_find(reply, LEN, 99, 8) == 0, "absent id: 0");

	reply_init(0, 24);
	cap_at(24, range, 0);
	VT_CHECK(!strcmp(walk(), ""), "no CAPS flag: no caps");

	reply_init(1, 8);
	cap_at(8, range, 0);
	VT_CHECK(!strcmp(walk(), ""), "a chain into the header: no caps");

	reply_init(1, 24);
	cap_at(24, range, 64);
	cap_at(64, mig, 24);
	VT_CHECK(!strcmp(walk(), "1,2"), "a loop ends the walk: %s", walk());

	reply_init(1, 24);
	cap_at(24, range, LEN - 4);
	VT_CHECK(!strcmp(walk(), "1"), "a cap past the end ends the walk: %s",
		 walk());

	reply_init(1, 24);
	for (uint32_t off = 24; off < 24 + 10 * 8; off += 8)
		cap_at(off, avail, off + 8);
	VT_CHECK(!strcmp(walk(), "3,3,3,3,3,3,3,3"),
		 "at most VT_INFO_MAX_CAPS caps: %s", walk());

	/* routing: the helpers' -1/errno over a ">= 0 or -errno" function */
	vt_route_ioctl(fake_ioctl);
	VT_CHECK(vt_get_api_version(-1) == VFIO_API_VERSION,
		 "routed GET_API_VERSION");
	VT_CHECK(vt_dma_map(-1, 0x1000, 0x1000, buf, VT_RW) == 0,
		 "routed MAP_DMA with a full argsz");
	r = VT_DO(vt_dma_map(-1, 0x2000, 0x1000, buf, VT_RW));
	VT_CHECK(r.rc == -1 && r.err == EINVAL,
		 "routed -EINVAL: -1 and EINVAL");
	VT_CHECK(VT_NEG(vt_set_iommu(-1, VFIO_TYPE1v2_IOMMU)) == -ENOTTY,
		 "VT_NEG: -ENOTTY");
	vt_route_ioctl(NULL);
	r = VT_DO(vt_get_api_version(-1));
	VT_CHECK(r.rc == -1 && r.err == EBADF,
		 "unrouted: ioctl(2) on fd -1: EBADF");
	return vt_failures ? 1 : 0;
}
