// SPDX-License-Identifier: MIT
/* The container ioctls, one helper each, through vt_ioctl() (vfiotest.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "vfiotest.h"

static vt_ioctl_fn routed;

void vt_route_ioctl(vt_ioctl_fn fn)
{
	routed = fn;
}

int vt_ioctl(int fd, unsigned long req, void *arg)
{
	long rc;

	if (!routed)
		return ioctl(fd, req, arg);
	rc = routed(fd, req, arg);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return (int)rc;
}

const char *vt_container_path(const char *var)
{
	const char *p = getenv(var);

	return p && *p ? p : "/dev/vfio/vfio";
}

int vt_open_container(const char *path, int flags)
{
	return open(path, flags);
}

int vt_open_group(int group, int flags)
{
	char p[64];

	snprintf(p, sizeof(p), "/dev/vfio/%d", group);
	return open(p, flags);
}

int vt_group_set_container(int group_fd, int container)
{
	return vt_ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container);
}

int vt_group_unset_container(int group_fd)
{
	return vt_ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
}

int vt_group_get_status(int group_fd, uint32_t *flags)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	int rc = vt_ioctl(group_fd, VFIO_GROUP_GET_STATUS, &st);

	*flags = rc ? 0 : st.flags;
	return rc;
}

int vt_group_get_device_fd(int group_fd, const char *bdf)
{
	return vt_ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD,
			(void *)(bdf ? bdf : ""));
}

int vt_get_api_version(int container)
{
	return vt_ioctl(container, VFIO_GET_API_VERSION, NULL);
}

int vt_check_extension(int container, unsigned long ext)
{
	return vt_ioctl(container, VFIO_CHECK_EXTENSION, (void *)ext);
}

int vt_set_iommu(int container, unsigned long type)
{
	return vt_ioctl(container, VFIO_SET_IOMMU, (void *)type);
}

int vt_dma_map(int container, uint64_t iova, uint64_t size, const void *vaddr,
	       uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uint64_t)(uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return vt_ioctl(container, VFIO_IOMMU_MAP_DMA, &m);
}

int vt_dma_unmap(int container, uint64_t iova, uint64_t size, uint32_t flags,
		 uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int rc = vt_ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u);

	if (unmapped)
		*unmapped = u.size;
	return rc;
}

int vt_iommu_get_info(int container, void *buf, uint32_t argsz)
{
	struct vfio_iommu_type1_info *info = buf;

	memset(buf, 0, argsz);
	info->argsz = argsz;
	return vt_ioctl(container, VFIO_IOMMU_GET_INFO, info);
}

uint64_t vt_iommu_pgsizes(int container)
{
	union {
		struct vfio_iommu_type1_info i;
		uint8_t raw[512];
	} info;

	return vt_iommu_get_info(container, &info, sizeof(info))
		       ? 0
		       : info.i.iova_pgsizes;
}
