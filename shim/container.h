/* SPDX-License-Identifier: MIT */
/*
 * A VFIO type1 container served by an iommufd IOAS. Every answer is type1's
 * (drivers/vfio/container.c + vfio_iommu_type1.c are the oracle); the
 * container's own record of mappings decides errors before the kernel is
 * asked, so a refused request changes nothing. Called with the shim lock held.
 */
#ifndef SHIM_CONTAINER_H
#define SHIM_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "fdtable.h"
#include "iommufd.h"
#include "maptree.h"

struct group;

/*
 * The type1 IOMMU type 6: VFIO_TYPE1_NESTING_IOMMU in headers before 6.13,
 * __VFIO_RESERVED_TYPE1_NESTING_IOMMU since (6.13 dropped the driver).
 * Answered as type1 >= 6.13 does: not claimed, SET_IOMMU ENODEV.
 */
#define SHIM_TYPE1_NESTING_IOMMU 6

struct container {
	struct shim_obj obj;
	uint32_t ioas_id;
	int type;		/* 0 until VFIO_SET_IOMMU, then TYPE1 or TYPE1v2 */
	bool adopted;		/* found by fstat: the record started empty */
	bool dirty_tracking;
	uint64_t pgsizes;	/* of the attached domains */
	uint64_t pgmask;	/* the smallest of them, less one */
	struct iommufd_range *ranges;
	uint32_t nranges;
	uint32_t dma_entry_limit;
	uint64_t mapped_bytes;	/* sum of the record's sizes */
	struct maptree maps;
	struct group **groups;	/* joined groups, oldest first; the container's */
	uint32_t ngroups, groups_cap;
};

/* open("/dev/vfio/vfio"): a /dev/iommu fd with a fresh IOAS as its compat IOAS. */
int container_open(int flags, struct container **out);
/* An iommufd fd we did not open (SCM_RIGHTS, exec): serve it from its compat IOAS. */
int container_adopt(int fd, struct container **out);

/* Any container ioctl; >= 0 or -errno exactly as type1. */
long container_ioctl(struct container *c, int fd, unsigned long request,
		     void *arg);

/* What a group may ask of its container: container_group.h. */

#endif /* SHIM_CONTAINER_H */
