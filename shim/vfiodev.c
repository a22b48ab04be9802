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

int vfiodev_group_number(int group_fd)
{
	char path[64], link[128];
	const char *p;
	ssize_t n;
	char *end;
	long no;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", group_fd);
	n = real.readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	p = strrchr(link, '/');
	if (!p || strncmp(link, "/dev/vfio/", 10))
		return -EINVAL;
	p++;
	if (!strncmp(p, "noiommu-", 8))
		p += 8;
	no = strtol(p, &end, 10);
	if (*end || end == p || no < 0 || no > 0x7fffffff)
		return -EINVAL;
	return (int)no;
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
