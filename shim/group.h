/* SPDX-License-Identifier: MIT */
/*
 * Groups joined to one of our containers, and the device fds opened from
 * them. Only the group ioctls type1 answers differently are handled here
 * (SET/UNSET_CONTAINER, GET_DEVICE_FD); the rest go straight to the kernel.
 */
#ifndef SHIM_GROUP_H
#define SHIM_GROUP_H

#include <stdbool.h>

#include "fdtable.h"

struct container;

struct group {
	struct shim_obj obj;
	struct container *c;	/* NULL once it left */
	int no;			/* /dev/vfio/<no> */
	int ndevices;		/* caller's device objects still open */
	int attach_fd;		/* our device fd holding the domain, or -1 */
};

/* VFIO_GROUP_SET_CONTAINER naming our container cfd; group_fd may be unknown. */
int group_set_container(int group_fd, struct container *c, int cfd);
int group_unset_container(struct group *g, int group_fd);
int group_get_device_fd(struct group *g, int group_fd, const char *name);

/* Attach the group's domain the way type1 does at SET_IOMMU (opens attach_fd). */
int group_attach(struct group *g);
void group_detach(struct group *g);

#endif /* SHIM_GROUP_H */
