/* SPDX-License-Identifier: MIT */
/*
 * Groups joined to one of our containers, and the device fds opened from
 * them. Only the group ioctls type1 answers differently are handled here
 * (SET/UNSET_CONTAINER, GET_DEVICE_FD); the rest go straight to the kernel.
 *
 * Who answers for the group itself is the group's backend: the kernel's
 * /dev/vfio/N (group.c), or, on a kernel without VFIO groups, the shim
 * over the device cdevs /dev/vfio/devices/vfioX (group_cdev.c).
 */
#ifndef SHIM_GROUP_H
#define SHIM_GROUP_H

#include <stdbool.h>

#include "fdtable.h"

struct container;
struct group;

/* The kernel's part of each group operation; >= 0 or -errno. */
struct group_backend {
	const char *name;	/* "kernel" or "cdev", for the log */
	/*
	 * The group fd is the backend's own file (not the kernel's group):
	 * the object lives as long as the fd, container or not, and every
	 * group ioctl on it is answered by group_ioctl().
	 */
	bool owns_fd;
	/*
	 * Join or leave the container. For a backend that owns its fd,
	 * set_container makes every check of type1's (cfd valid, the group
	 * free, cfd one of our containers, the group viable).
	 */
	int (*set_container)(struct group *g, int group_fd, int cfd);
	int (*unset_container)(struct group *g, int group_fd);
	/* A device fd for the caller, type1's checks and errnos. */
	int (*get_device_fd)(struct group *g, int group_fd, const char *name);
	/* Open one device of the group for the shim (see group_attach()). */
	int (*open_any_device)(struct group *g, int group_fd);
	/* 1: no process holds the group any more, 0: one does, or -errno. */
	int (*released)(struct group *g);
	/* VFIO_GROUP_GET_STATUS's flags; NULL: the kernel answers. */
	int (*status_flags)(struct group *g);
	/* The group's last fd went away for good (free the backend's state). */
	void (*release)(struct group *g);
};

struct group {
	struct shim_obj obj;
	const struct group_backend *be;
	struct container *c;	/* NULL once it left */
	int no;			/* /dev/vfio/<no> */
	int ndevices;		/* caller's device objects still open */
	int attach_fd;		/* our device fd holding the domain, or -1 */
	void *priv;		/* the backend's */
};

/* VFIO_GROUP_SET_CONTAINER naming our container cfd; group_fd may be unknown. */
int group_set_container(int group_fd, struct container *c, int cfd);
int group_unset_container(struct group *g, int group_fd);
int group_get_device_fd(struct group *g, int group_fd, const char *name);

/*
 * A group request (VFIO_GROUP_*) on one of our group fds: >= 0 or -errno,
 * or GROUP_PASS when the kernel's group answers it itself.
 */
#define GROUP_PASS (-4096)
long group_ioctl(struct group *g, int group_fd, unsigned int cmd, void *arg);

/* A new group object of the given backend (one reference, no fd bound yet). */
struct group *group_new(const struct group_backend *be, int no);

/* Joined to a container that has its iommu driver (devices may open). */
bool group_ready(const struct group *g);

/* Attach the group's domain the way type1 does at SET_IOMMU (opens attach_fd). */
int group_attach(struct group *g);
void group_detach(struct group *g);

/* The container's iommufd fd and IOAS, for a backend that binds devices. */
int group_container_iommufd(struct group *g, unsigned int *ioas_id);

#endif /* SHIM_GROUP_H */
