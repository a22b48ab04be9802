// SPDX-License-Identifier: MIT
/* The capability chain of a VFIO_IOMMU_GET_INFO reply (vfiotest.h). */
#include "vfiotest.h"

/* the chain starts past the header (struct vfio_iommu_type1_info) */
#define INFO_HDR 24

void vt_caps_init(struct vt_caps *it, const void *info, size_t len)
{
	const uint8_t *b = info;

	it->buf = b;
	it->len = len;
	it->n = 0;
	it->off = it->next = 0;
	it->id = it->version = 0;
	if (len >= INFO_HDR && (vt_rd32(b + 4) & VFIO_IOMMU_INFO_CAPS))
		it->next = vt_rd32(b + 16);
}

int vt_caps_next(struct vt_caps *it)
{
	uint32_t off = it->next;

	/* a chain must move forward: a loop in a bad reply ends the walk */
	if (!off || off < INFO_HDR || (it->n && off <= it->off) ||
	    (size_t)off + sizeof(struct vfio_info_cap_header) > it->len ||
	    it->n >= VT_INFO_MAX_CAPS) {
		it->next = 0;
		return 0;
	}
	it->off = off;
	it->id = vt_rd16(it->buf + off);
	it->version = vt_rd16(it->buf + off + 2);
	it->next = vt_rd32(it->buf + off + 4);
	it->n++;
	return 1;
}

uint32_t vt_info_cap_find(const void *info, size_t len, uint16_t id,
			  size_t size)
{
	struct vt_caps it;

	for (vt_caps_init(&it, info, len); vt_caps_next(&it);)
		if (it.id == id)
			return it.off + size <= len ? it.off : 0;
	return 0;
}
