/* SPDX-License-Identifier: MIT */
/*
 * The narrow way from a group to the container it joined: the container
 * owns its groups (it attaches them at VFIO_SET_IOMMU and keeps the list);
 * a group sees nothing of struct container but these calls. Lock held.
 */
#ifndef SHIM_CONTAINER_GROUP_H
#define SHIM_CONTAINER_GROUP_H

#include <stdbool.h>

struct container;
struct group;

/* The container has its iommu driver (VFIO_SET_IOMMU done). */
bool container_has_iommu(const struct container *c);

/* The container's iommufd fd (one of this process's) and its IOAS. */
int container_iommufd(const struct container *c, unsigned int *ioas_id);

/* A reference that keeps the container while a group is joined to it. */
void container_get(struct container *c);
void container_put(struct container *c);

/*
 * The group joined (kernel SET_CONTAINER already done): the container takes
 * it into its list, attaching it if it already has its driver. cfd is the
 * container fd the caller named.
 */
int container_group_joined(struct container *c, int cfd, struct group *g);

/*
 * The group left. detached: the kernel let it go, and if it was the last
 * group the container is reset as type1 does: every mapping unmapped
 * (IOMMU_IOAS_UNMAP), the driver gone. Otherwise only this process forgot
 * it (another process still holds the group, so the container keeps its
 * state).
 */
void container_group_left(struct container *c, struct group *g, bool detached);

#endif /* SHIM_CONTAINER_GROUP_H */
