// SPDX-License-Identifier: MIT
/*
 * Groups joined to our containers; see group.h. On the iommufd group path a
 * group's domain is attached when one of its devices is first opened, while
 * type1 attaches at VFIO_SET_IOMMU and maps (pins, checks reserved ranges)
 * from then on. So at SET_IOMMU the shim opens one device of each group
 * itself and keeps that fd (kind SHIM_PRIVATE) until the group leaves.
 */
#include <errno.h>
#include <stdlib.h>

#include "container_group.h"
#include "fdroom.h"
#include "group.h"
#include "log.h"
#include "vfiodev.h"

struct device {
	struct shim_obj obj;
	struct group *g;
};

struct private_fd {
	struct shim_obj obj;
	struct group *g;
};

/* The caller dup2()ed over our fd: the interposer moved ours elsewhere. */
static void private_moved(struct shim_obj *obj, int from, int to)
{
	struct private_fd *p = (struct private_fd *)obj;

	if (p->g->attach_fd == from)
		p->g->attach_fd = to;
}

static void private_free(struct shim_obj *obj)
{
	free(obj);
}

static const struct shim_obj_ops private_ops = {
	.moved = private_moved,
	.free = private_free,
};

static void group_last_close(struct shim_obj *obj);

static void group_free(struct shim_obj *obj)
{
	free(obj);
}

static const struct shim_obj_ops group_ops = {
	.last_close = group_last_close,
	.free = group_free,
};

static void device_last_close(struct shim_obj *obj)
{
	struct device *d = (struct device *)obj;
	struct group *g = d->g;

	g->ndevices--;
	/* the device fds kept the group file open; see group_last_close() */
	if (!g->obj.nfds && !g->ndevices)
		group_last_close(&g->obj);
}

static void device_free(struct shim_obj *obj)
{
	struct device *d = (struct device *)obj;

	obj_put(&d->g->obj);
	free(d);
}

static const struct shim_obj_ops device_ops = {
	.last_close = device_last_close,
	.free = device_free,
};

/* Bind fd to a new object of the given kind; -errno and nothing bound on failure. */
static int bind_new(int fd, struct shim_obj *obj)
{
	int rc = fdtable_add(fd, obj);

	if (rc)
		return rc;
	/* the table holds the only reference from now on */
	obj_put(obj);
	return 0;
}

int group_attach(struct group *g)
{
	struct fdroom room;
	struct private_fd *p;
	int gfd, fd, rc;

	if (g->attach_fd >= 0)
		return 0;
	gfd = obj_fd(&g->obj);
	if (gfd < 0)
		return -EBADF;
	/* an fd type1 does not need: out of the program's way (fdroom.h) */
	fdroom_enter(&room);
	fd = fdroom_place(&room, vfiodev_open_any_device(gfd, g->no));
	fdroom_leave(&room);
	if (fd < 0)
		return fd;
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		goto err_close_device;
	}
	p->obj.ops = &private_ops;
	p->obj.kind = SHIM_PRIVATE;
	p->obj.refs = 1;
	p->g = g;
	rc = bind_new(fd, &p->obj);
	if (rc) {
		free(p);
		goto err_close_device;
	}
	g->attach_fd = fd;
	return 0;

err_close_device:
	vfiodev_close(fd);
	return rc;
}

void group_detach(struct group *g)
{
	if (g->attach_fd < 0)
		return;
	fdtable_remove(g->attach_fd);
	vfiodev_close(g->attach_fd);
	g->attach_fd = -1;
}

int group_set_container(int group_fd, struct container *c, int cfd)
{
	struct group *g;
	int no, rc;

	no = vfiodev_group_number(group_fd);
	if (no < 0)
		return vfiodev_group_set_container(group_fd, cfd);
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->obj.ops = &group_ops;
	g->obj.kind = SHIM_GROUP;
	g->obj.refs = 1;
	g->no = no;
	g->attach_fd = -1;
	rc = vfiodev_group_set_container(group_fd, cfd);
	if (rc)
		goto err_free_group;
	rc = bind_new(group_fd, &g->obj);
	if (rc)
		goto err_unset_container;
	g->c = c;
	container_get(c);
	rc = container_group_joined(c, cfd, g);
	if (rc)
		goto err_unbind_group;
	shim_dbg(SHIM_CAT_FD, "group %d (fd %d) joined container fd %d", no,
		 group_fd, cfd);
	return 0;

err_unbind_group:
	group_detach(g);
	g->c = NULL;
	container_put(c);
	vfiodev_group_unset_container(group_fd);
	fdtable_remove(group_fd); /* frees g */
	return rc;
err_unset_container:
	vfiodev_group_unset_container(group_fd);
err_free_group:
	free(g);
	return rc;
}

/* This process is done with the group: forget it everywhere. */
static void group_leave(struct group *g, bool detached)
{
	struct container *c = g->c;

	group_detach(g);
	if (!c)
		return;
	g->c = NULL;
	container_group_left(c, g, detached);
	container_put(c);
}

int group_unset_container(struct group *g, int group_fd)
{
	int rc, fd;

	/* type1: a device of the group still open keeps it in the container */
	if (g->ndevices)
		return -EBUSY;
	if (!g->c)
		return vfiodev_group_unset_container(group_fd);
	group_detach(g);
	rc = vfiodev_group_unset_container(group_fd);
	if (rc) {
		if (container_has_iommu(g->c))
			group_attach(g);
		return rc;
	}
	obj_get(&g->obj);
	group_leave(g, true);
	/* every fd of this group is a plain group fd again */
	while ((fd = obj_fd(&g->obj)) >= 0)
		fdtable_remove(fd);
	obj_put(&g->obj);
	return 0;
}

int group_get_device_fd(struct group *g, int group_fd, const char *name)
{
	struct device *d;
	int fd, rc;

	/* type1: no device before the container has an iommu driver */
	if (!g->c || !container_has_iommu(g->c))
		return -EINVAL;
	fd = vfiodev_group_get_device_fd(group_fd, name);
	if (fd < 0)
		return fd;
	d = calloc(1, sizeof(*d));
	if (!d)
		return fd; /* works, only untracked */
	d->obj.ops = &device_ops;
	d->obj.kind = SHIM_DEVICE;
	d->obj.refs = 1;
	d->g = g;
	obj_get(&g->obj);
	g->ndevices++;
	rc = bind_new(fd, &d->obj);
	if (rc) {
		g->ndevices--;
		obj_put(&g->obj);
		free(d);
	}
	return fd;
}

/*
 * Our last fd of the group is gone. type1 detaches a group when its file is
 * released, which our own attach fd would prevent, so drop that first and
 * then ask the kernel whether anyone (a fork sibling, the caller's device
 * fds) still holds the group: only if not has it really left the container.
 */
static void group_last_close(struct shim_obj *obj)
{
	struct group *g = (struct group *)obj;
	struct fdroom room;
	int released;

	if (!g->c || g->ndevices)
		return;
	group_detach(g);
	/* the probe needs an fd even when the program has none left */
	fdroom_enter(&room);
	released = vfiodev_group_released(g->no);
	fdroom_leave(&room);
	shim_dbg(SHIM_CAT_FD, "group %d: last fd closed, %s", g->no,
		 released > 0 ? "released" : "still held elsewhere");
	/*
	 * Held elsewhere (a fork sibling): the kernel keeps the group in the
	 * container, so its mappings stay; this process just lets go of it.
	 */
	obj_get(&g->obj);
	group_leave(g, released > 0);
	obj_put(&g->obj);
}
