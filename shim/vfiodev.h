/* SPDX-License-Identifier: MIT */
/*
 * Kernel calls the shim makes itself on VFIO group and device fds: nothing of
 * the caller's is changed by them. Like iommufd.h, each returns >= 0 or
 * -errno, and the unit tests link a fake of this interface.
 */
#ifndef SHIM_VFIODEV_H
#define SHIM_VFIODEV_H

#include <stddef.h>
#include <stdint.h>

/*
 * N, for an fd whose /proc/self/fd link reads DIR/N (or DIR/noiommu-N):
 * N or -errno (-EINVAL for any other link).
 */
int vfiodev_fd_link_number(int fd, const char *dir);

/* The group number of a group fd, from its /dev/vfio/N path. */
int vfiodev_group_number(int group_fd);

/*
 * Open a device of the group (the first of /sys/kernel/iommu_groups/N/devices
 * that VFIO_GROUP_GET_DEVICE_FD accepts) and return its fd: on the iommufd
 * group path, the device's first open is what attaches the group to the
 * compat IOAS, where type1 attached at VFIO_SET_IOMMU.
 */
int vfiodev_open_any_device(int group_fd, int group_no);

/* VFIO_GROUP_GET_DEVICE_FD for the caller: the device fd or -errno. */
int vfiodev_group_get_device_fd(int group_fd, const char *name);

/* Pass VFIO_GROUP_SET_CONTAINER / UNSET_CONTAINER to the kernel. */
int vfiodev_group_set_container(int group_fd, int container_fd);
int vfiodev_group_unset_container(int group_fd);

/*
 * Whether no process holds group N open any more: the group node admits one
 * open at a time (EBUSY otherwise), so a probe open that succeeds proves it.
 * 1 released, 0 held elsewhere, or -errno.
 */
int vfiodev_group_released(int group_no);

/*
 * The BAR (index 0-5) of a device holding [offset, offset + len) of its fd's
 * file offsets: its index and the offset inside it, or -ENOENT.
 */
int vfiodev_bar_at(int device_fd, uint64_t offset, uint64_t len,
		   uint32_t *index, uint64_t *bar_offset);

/*
 * VFIO_DEVICE_FEATURE GET DMA_BUF (6.19): a new dma-buf fd (O_CLOEXEC) for
 * [offset, offset + len) of BAR index, or -errno (-ENOTTY before 6.19).
 */
int vfiodev_feature_dma_buf(int device_fd, uint32_t index, uint64_t offset,
			    uint64_t len);

/* Close an fd the shim opened. */
void vfiodev_close(int fd);

#endif /* SHIM_VFIODEV_H */
