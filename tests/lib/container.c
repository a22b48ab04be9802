// SPDX-License-Identifier: MIT
/*
 * A container set up as a legacy program does it, in the order of the VFIO
 * documentation's example: open the container, check the API version, open
 * the group, check it is viable, join it, pick the IOMMU type.
 */
#include <unistd.h>

#include "vfiotest.h"

static int failed(struct vt_container *v, const char *step)
{
	int e = errno;

	v->failed = step;
	errno = e;
	return -1;
}

int vt_container_init(struct vt_container *v, const char *path, int flags)
{
	v->group = v->device = -1;
	v->flags = flags;
	v->failed = NULL;
	v->container = vt_open_container(path, flags);
	if (v->container < 0)
		return failed(v, path);
	if (vt_get_api_version(v->container) != VFIO_API_VERSION)
		return failed(v, "VFIO_GET_API_VERSION");
	return 0;
}

int vt_container_attach(struct vt_container *v, int group, unsigned long type)
{
	uint32_t status;

	v->group = vt_open_group(group, v->flags);
	if (v->group < 0)
		return failed(v, "open group");
	if (vt_group_get_status(v->group, &status))
		return failed(v, "VFIO_GROUP_GET_STATUS");
	if (!(status & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EPERM;
		return failed(v, "group not viable");
	}
	if (vt_group_set_container(v->group, v->container))
		return failed(v, "VFIO_GROUP_SET_CONTAINER");
	if (vt_set_iommu(v->container, type))
		return failed(v, "VFIO_SET_IOMMU");
	return 0;
}

int vt_container_setup(struct vt_container *v, const char *path, int flags,
		       int group, unsigned long type)
{
	if (vt_container_init(v, path, flags))
		return -1;
	return vt_container_attach(v, group, type);
}

int vt_container_open_device(struct vt_container *v, const char *bdf)
{
	v->device = vt_group_get_device_fd(v->group, bdf);
	return v->device < 0 ? failed(v, "VFIO_GROUP_GET_DEVICE_FD") : 0;
}

void vt_container_close(struct vt_container *v)
{
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0) {
		vt_group_unset_container(v->group);
		close(v->group);
	}
	if (v->container >= 0)
		close(v->container);
	v->container = v->group = v->device = -1;
}
