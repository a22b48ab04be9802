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
#include <linux/vfio.h>

#include "container_group.h"
#include "fdroom.h"
#include "group.h"
#include "log.h"
#include "uaccess.h"
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
	struct group *g = (struct group *)obj;

	if (g->be->release)
		g->be->release(g);
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
	fd = fdroom_place(&room, g->be->open_any_device(g, gfd));
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

/* ---- the kernel's groups: /dev/vfio/N answers for itself ------------ */

static int kernel_set_container(struct group *g, int group_fd, int cfd)
{
	(void)g;
	return vfiodev_group_set_container(group_fd, cfd);
}

static int kernel_unset_container(struct group *g, int group_fd)
{
	(void)g;
	return vfiodev_group_unset_container(group_fd);
}

static int kernel_get_device_fd(struct group *g, int group_fd,
				const char *name)
{
	/* type1: no device before the container has an iommu driver */
	if (!group_ready(g))
		return -EINVAL;
	return vfiodev_group_get_device_fd(group_fd, name);
}

static int kernel_open_any_device(struct group *g, int group_fd)
{
	return vfiodev_open_any_device(group_fd, g->no);
}

static int kernel_released(struct group *g)
{
	return vfiodev_group_released(g->no);
}

static const struct group_backend kernel_backend = {
	.name = "kernel",
	.set_container = kernel_set_container,
	.unset_container = kernel_unset_container,
	.get_device_fd = kernel_get_device_fd,
	.open_any_device = kernel_open_any_device,
	.released = kernel_released,
};

/* ---- every backend ---------------------------------------------------- */

struct group *group_new(const struct group_backend *be, int no)
{
	struct group *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->obj.ops = &group_ops;
	g->obj.kind = SHIM_GROUP;
	g->obj.refs = 1;
	g->be = be;
	g->no = no;
	g->attach_fd = -1;
	return g;
}

bool group_ready(const struct group *g)
{
	return g->c && container_has_iommu(g->c);
}

int group_container_iommufd(struct group *g, unsigned int *ioas_id)
{
	if (!g->c)
		return -EINVAL;
	return container_iommufd(g->c, ioas_id);
}

/* g (bound to group_fd) joins c after the backend's kernel part. */
static int group_join(struct group *g, int group_fd, struct container *c,
		      int cfd)
{
	int rc;

	g->c = c;
	container_get(c);
	rc = container_group_joined(c, cfd, g);
	if (rc) {
		group_detach(g);
		g->c = NULL;
		container_put(c);
		g->be->unset_container(g, group_fd);
		return rc;
	}
	shim_dbg(SHIM_CAT_FD, "group %d (fd %d, %s) joined container fd %d",
		 g->no, group_fd, g->be->name, cfd);
	return 0;
}

int group_set_container(int group_fd, struct container *c, int cfd)
{
	struct group *g;
	int no, rc;

	no = vfiodev_group_number(group_fd);
	if (no < 0)
		return vfiodev_group_set_container(group_fd, cfd);
	g = group_new(&kernel_backend, no);
	if (!g)
		return -ENOMEM;
	rc = kernel_set_container(g, group_fd, cfd);
	if (rc)
		goto err_free_group;
	rc = bind_new(group_fd, &g->obj);
	if (rc)
		goto err_unset_container;
	obj_get(&g->obj);
	rc = group_join(g, group_fd, c, cfd);
	if (rc)
		fdtable_remove(group_fd);
	obj_put(&g->obj); /* frees g if it did not join */
	return rc;

err_unset_container:
	kernel_unset_container(g, group_fd);
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
		return g->be->unset_container(g, group_fd);
	group_detach(g);
	rc = g->be->unset_container(g, group_fd);
	if (rc) {
		if (container_has_iommu(g->c))
			group_attach(g);
		return rc;
	}
	obj_get(&g->obj);
	group_leave(g, true);
	/* every fd of a kernel group is a plain group fd again */
	while (!g->be->owns_fd && (fd = obj_fd(&g->obj)) >= 0)
		fdtable_remove(fd);
	obj_put(&g->obj);
	return 0;
}

int group_get_device_fd(struct group *g, int group_fd, const char *name)
{
	struct device *d;
	int fd, rc;

	fd = g->be->get_device_fd(g, group_fd, name);
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
	released = g->be->released(g);
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

/* ---- group requests --------------------------------------------------- */

/* VFIO_GROUP_GET_STATUS as type1: argsz checked, only the flags written. */
static long group_get_status(struct group *g, int group_fd, void *arg)
{
	struct vfio_group_status st;
	int flags, rc;

	(void)group_fd;
	if (!g->be->status_flags)
		return GROUP_PASS;
	rc = copy_from_user(&st, arg, sizeof(st));
	if (rc)
		return rc;
	if (st.argsz < sizeof(st))
		return -EINVAL;
	if (g->c) {
		flags = VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
	} else {
		flags = g->be->status_flags(g);
		if (flags < 0)
			return flags;
	}
	st.flags = (uint32_t)flags;
	return copy_to_user(arg, &st, sizeof(st));
}

/* VFIO_GROUP_SET_CONTAINER on a group the shim owns. */
static long group_ioctl_set_container(struct group *g, int group_fd,
				      void *arg)
{
	struct shim_obj *obj;
	int cfd, rc;

	if (!g->be->owns_fd)
		return GROUP_PASS; /* joined: the kernel says EINVAL */
	rc = copy_from_user(&cfd, arg, sizeof(cfd));
	if (rc)
		return rc;
	/* the backend checks the fd and the group as type1 does */
	rc = g->be->set_container(g, group_fd, cfd);
	if (rc)
		return rc;
	obj = fdtable_lookup(cfd);
	return group_join(g, group_fd, (struct container *)obj, cfd);
}

static long group_ioctl_unset_container(struct group *g, int group_fd,
					void *arg)
{
	(void)arg;
	return group_unset_container(g, group_fd);
}

static long group_ioctl_get_device_fd(struct group *g, int group_fd,
				      void *arg)
{
	return group_get_device_fd(g, group_fd, arg);
}

static const struct {
	unsigned int cmd;
	long (*handler)(struct group *g, int group_fd, void *arg);
} group_requests[] = {
	{ VFIO_GROUP_GET_STATUS, group_get_status },
	{ VFIO_GROUP_SET_CONTAINER, group_ioctl_set_container },
	{ VFIO_GROUP_UNSET_CONTAINER, group_ioctl_unset_container },
	{ VFIO_GROUP_GET_DEVICE_FD, group_ioctl_get_device_fd },
};

long group_ioctl(struct group *g, int group_fd, unsigned int cmd, void *arg)
{
	size_t i;

	for (i = 0; i < sizeof(group_requests) / sizeof(group_requests[0]);
	     i++)
		if (group_requests[i].cmd == cmd)
			return group_requests[i].handler(g, group_fd, arg);
	/* the group file's answer to anything else */
	return g->be->owns_fd ? -ENOTTY : GROUP_PASS;
}
