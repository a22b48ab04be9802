// SPDX-License-Identifier: MIT
/* VFIO group/device calls made by the shim itself; see vfiodev.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>

#include "libc.h"
#include "log.h"
#include "vfiodev.h"

int vfiodev_fd_link_number(int fd, const char *dir)
{
	char path[64], link[128];
	size_t len = strlen(dir);
	const char *p;
	ssize_t n;
	char *end;
	long no;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = real.readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (strncmp(link, dir, len) || link[len] != '/')
		return -EINVAL;
	p = link + len + 1;
	if (!strncmp(p, "noiommu-", 8))
		p += 8;
	no = strtol(p, &end, 10);
	if (*end || end == p || no < 0 || no > 0x7fffffff)
		return -EINVAL;
	return (int)no;
}

int vfiodev_group_number(int group_fd)
{
	return vfiodev_fd_link_number(group_fd, "/dev/vfio");
}

int vfiodev_open_any_device(int group_fd, int group_no)
{
	char path[64];
	struct dirent *de;
	int fd = -ENODEV;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices",
		 group_no);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		fd = real.ioctl(group_fd, tagged(VFIO_GROUP_GET_DEVICE_FD), de->d_name);
		if (fd >= 0) {
			shim_dbg(SHIM_CAT_FD, "group %d: attached through %s",
				 group_no, de->d_name);
			break;
		}
		fd = -errno;
	}
	closedir(dir);
	return fd;
}

int vfiodev_group_get_device_fd(int group_fd, const char *name)
{
	int fd = real.ioctl(group_fd, tagged(VFIO_GROUP_GET_DEVICE_FD), name);

	return fd < 0 ? -errno : fd;
}

int vfiodev_group_set_container(int group_fd, int container_fd)
{
	int rc = real.ioctl(group_fd, tagged(VFIO_GROUP_SET_CONTAINER), &container_fd);

	return rc < 0 ? -errno : rc;
}

int vfiodev_group_unset_container(int group_fd)
{
	int rc = real.ioctl(group_fd, tagged(VFIO_GROUP_UNSET_CONTAINER));

	return rc < 0 ? -errno : rc;
}

int vfiodev_group_released(int group_no)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_no);
	fd = real.openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == EBUSY ? 0 : -errno;
	real.close(fd);
	return 1;
}

void vfiodev_close(int fd)
{
	real.close(fd);
}

/*
 * The region of a device holding [offset, offset + len) of the device fd, as
 * an mmap of it would see it: BARs only (indexes 0-5), which is all a
 * dma-buf can export. Asked of GET_REGION_INFO rather than assumed from
 * vfio-pci's offset layout.
 */
int vfiodev_bar_at(int device_fd, uint64_t offset, uint64_t len,
		   uint32_t *index, uint64_t *bar_offset)
{
	struct vfio_region_info info;
	uint32_t i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX;
	     i++) {
		info = (struct vfio_region_info){ .argsz = sizeof(info),
						  .index = i };
		if (real.ioctl(device_fd, tagged(VFIO_DEVICE_GET_REGION_INFO),
			       &info) < 0)
			return -errno;
		if (offset < info.offset || offset - info.offset >= info.size ||
		    len > info.size - (offset - info.offset))
			continue;
		*index = i;
		*bar_offset = offset - info.offset;
		return 0;
	}
	return -ENOENT;
}

/*
 * VFIO_DEVICE_FEATURE_DMA_BUF (6.19, GET only): the uAPI, spelled here
 * because the build's headers may predate it.
 */
#define SHIM_FEATURE_DMA_BUF 11

struct feature_dma_buf {
	struct vfio_device_feature hdr;
	uint32_t region_index;
	uint32_t open_flags;
	uint32_t flags;
	uint32_t nr_ranges;
	struct {
		uint64_t offset;
		uint64_t length;
	} range;
};
_Static_assert(sizeof(struct feature_dma_buf) == 8 + 16 + 16, "dma_buf layout");

int vfiodev_feature_dma_buf(int device_fd, uint32_t index, uint64_t offset,
			    uint64_t len)
{
	struct feature_dma_buf req = {
		.hdr = { .argsz = sizeof(req),
			 .flags = VFIO_DEVICE_FEATURE_GET |
				  SHIM_FEATURE_DMA_BUF },
		.region_index = index,
		.open_flags = O_RDWR | O_CLOEXEC,
		.nr_ranges = 1,
		.range = { .offset = offset, .length = len },
	};
	int fd = real.ioctl(device_fd, tagged(VFIO_DEVICE_FEATURE), &req);

	return fd < 0 ? -errno : fd;
}
