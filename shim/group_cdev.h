/* SPDX-License-Identifier: MIT */
/*
 * VFIO groups the shim serves itself, over the device cdevs, where the
 * kernel has none (CONFIG_VFIO_GROUP=n) or VFIOCOMPAT_GROUPS=cdev asks for
 * it. The group's ioctls go through group.c (group_ioctl()); this is only
 * the way in. Lock held.
 */
#ifndef SHIM_GROUP_CDEV_H
#define SHIM_GROUP_CDEV_H

#include <stdbool.h>

struct group;

/*
 * Whether open("/dev/vfio/N") is the shim's: VFIOCOMPAT_GROUPS, or on
 * "auto" a kernel without /dev/vfio/vfio that has /dev/vfio/devices.
 * Decided (and logged) once.
 */
bool group_cdev_serves(void);

/* open("/dev/vfio/N"): the shim's group fd, bound in the fd table, or -errno. */
int group_cdev_open(int no, int flags);

/*
 * A group request on an fd the process did not open through us (exec,
 * SCM_RIGHTS): the shim's group object for it if it is one of our group
 * files, else NULL.
 */
struct group *group_cdev_adopt(int fd);

#endif /* SHIM_GROUP_CDEV_H */
