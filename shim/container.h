/* SPDX-License-Identifier: MIT */
/*
 * A VFIO type1 container served by an iommufd IOAS. Every answer is type1's
 * (drivers/vfio/container.c + vfio_iommu_type1.c are the oracle); the
 * container's own record of mappings decides errors before the kernel is
 * asked, so a refused request changes nothing. Called with the shim lock held.
 */
#ifndef SHIM_CONTAINER_H
#define SHIM_CONTAINER_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>

#include "fdtable.h"
#include "iommufd.h"
#include "maptree.h"
#include "record.h"

struct group;

/*
 * The type1 IOMMU type 6: VFIO_TYPE1_NESTING_IOMMU in headers before 6.13,
 * __VFIO_RESERVED_TYPE1_NESTING_IOMMU since (6.13 dropped the driver).
 * Answered as type1 >= 6.13 does: not claimed, SET_IOMMU ENODEV.
 */
#define SHIM_TYPE1_NESTING_IOMMU 6

/* The per-process words of a dirty bitmap, by node (see container_dirty.c). */
struct dirty_words {
	uint32_t serial;	/* the node's use they belong to */
	uint64_t *words;
};

struct container {
	struct shim_obj obj;
	uint32_t ioas_id;
	/*
	 * type1's state and the mappings, in the record every holder of the
	 * container shares (record.h): s points into it, maps views its tree.
	 */
	struct record rec;
	struct record_state *s;
	struct maptree maps;
	/* this process's own */
	struct dirty_words *dirty;	/* by node index */
	uint32_t dirty_len;
	uint32_t dirty_epoch;		/* of s->dirty_epoch they are from */
	struct group **groups;	/* joined groups, oldest first; the container's */
	uint32_t ngroups, groups_cap;
	int vaddr_support;	/* the kernel's, asked once: 0 unknown, 1, 2 no */
};

/*
 * The mark of a container the shim opened, on the file description itself,
 * so it travels wherever the fd goes (fork, exec, SCM_RIGHTS) and a process
 * that receives it knows to serve it: O_APPEND, meaningless for an iommufd
 * (no write()). An iommufd a program opened itself has no mark, and its
 * container requests go to the kernel. The interposer hides the flag.
 */
#define CONTAINER_MARK O_APPEND

/* open("/dev/vfio/vfio"): a /dev/iommu fd with a fresh IOAS as its compat IOAS. */
int container_open(int flags, struct container **out);
/*
 * A marked iommufd fd this process did not open (SCM_RIGHTS, exec): serve it
 * from the record its file description holds the key of. -ENOENT if it has
 * no mark.
 */
int container_adopt(int fd, struct container **out);

/* Any container ioctl; >= 0 or -errno exactly as type1. */
long container_ioctl(struct container *c, int fd, unsigned long request,
		     void *arg);

/* What a group may ask of its container: container_group.h. */

#endif /* SHIM_CONTAINER_H */
