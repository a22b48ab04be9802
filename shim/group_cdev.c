// SPDX-License-Identifier: MIT
/*
 * VFIO groups served by the shim over the device cdevs, for kernels built
 * without VFIO groups (no /dev/vfio/vfio, no /dev/vfio/N; only
 * /dev/vfio/devices/vfioX and /dev/iommu). See group_cdev.h.
 *
 * The group fd is a directory fd of /sys/kernel/iommu_groups/N holding an
 * exclusive flock: the lock lives on the open file description as type1's
 * "one opener" does (group->opened_file), so dup, fork and SCM_RIGHTS share
 * it and it goes away with the description's last fd. A device fd is the
 * real cdev, bound (VFIO_DEVICE_BIND_IOMMUFD) to the container's iommufd and
 * attached (VFIO_DEVICE_ATTACH_IOMMUFD_PT) to its IOAS; every device ioctl
 * then goes to the kernel untouched.
 *
 * Kernel-facing (sysfs, the cdevs): checked on the group-less guest kernel
 * by the conformance and e2e tiers, not by the unit tests' fake.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/vfio.h>

#include "config.h"
#include "group.h"
#include "group_cdev.h"
#include "libc.h"
#include "log.h"
#include "report.h"
#include "uaccess.h"
#include "vfiodev.h"

#define GROUPS_DIR "/sys/kernel/iommu_groups"
#define CDEV_DIR "/dev/vfio/devices"
#define NAME_MAX_USER 4096 /* type1 reads the name with strndup_user(PAGE_SIZE) */

struct cdev_group {
	char attach_name[NAME_MAX + 1];	/* the device behind g->attach_fd */
	bool elsewhere;	/* adopted while joined to another process's container */
};

/*
 * The group file's "joined" state, kept where type1 keeps it, on the file
 * (its description): O_APPEND, meaningless on a directory, so a process
 * that receives the fd (SCM_RIGHTS, exec) sees that the group is in a
 * container, as type1's GET_STATUS there says.
 */
#define GROUP_JOINED_MARK O_APPEND

static void mark_joined(int group_fd, bool joined)
{
	int fl = real.fcntl(group_fd, F_GETFL);

	if (fl < 0)
		return;
	fl = joined ? fl | GROUP_JOINED_MARK : fl & ~GROUP_JOINED_MARK;
	real.fcntl(group_fd, F_SETFL, fl);
}

/* ---- which groups the shim serves ------------------------------------- */

static int serves = -1;

bool group_cdev_serves(void)
{
	struct stat st;

	if (serves >= 0)
		return serves;
	switch (shim_config.groups) {
	case SHIM_GROUPS_CDEV:
		serves = 1;
		break;
	case SHIM_GROUPS_KERNEL:
		serves = 0;
		break;
	default:
		/* a kernel without groups has the cdevs and no container node */
		serves = stat("/dev/vfio/vfio", &st) && errno == ENOENT &&
			 !stat(CDEV_DIR, &st) && S_ISDIR(st.st_mode);
		break;
	}
	if (serves)
		shim_info(SHIM_CAT_INIT,
			  "groups: served by vfiocompat over %s (%s)", CDEV_DIR,
			  shim_config.groups == SHIM_GROUPS_CDEV ?
				  "VFIOCOMPAT_GROUPS=cdev" :
				  "group-less kernel");
	else
		shim_dbg(SHIM_CAT_INIT, "groups: the kernel's /dev/vfio/N");
	return serves;
}

/* ---- sysfs: the group's devices --------------------------------------- */

/*
 * The vfio cdev of a device of group no ("vfio3"), 0; -ENOENT when the
 * device has none (not bound to a vfio driver).
 */
static int device_cdev(int no, const char *dev, char *cdev, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int rc = -ENOENT;
	DIR *dir;

	snprintf(path, sizeof(path), GROUPS_DIR "/%d/devices/%s/vfio-dev", no,
		 dev);
	dir = opendir(path);
	if (!dir)
		return -ENOENT;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(cdev, len, "%s", de->d_name);
		rc = 0;
		break;
	}
	closedir(dir);
	return rc;
}

/* The driver a device of group no is bound to, "" when none. */
static void device_driver(int no, const char *dev, char *drv, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), GROUPS_DIR "/%d/devices/%s/driver", no,
		 dev);
	n = real.readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		drv[0] = '\0';
		return;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	n = (ssize_t)strnlen(base, len - 1);
	memcpy(drv, base, (size_t)n);
	drv[n] = '\0';
}

/*
 * The kernel counts a device against the group's DMA ownership when its
 * driver uses the DMA API (driver_managed_dma unset); vfio's drivers,
 * pci-stub and the PCIe port driver do not, nor does a device without one.
 */
static bool driver_leaves_group_viable(const char *drv)
{
	return !drv[0] || strstr(drv, "vfio") || !strcmp(drv, "pci-stub") ||
	       !strcmp(drv, "pcieport");
}

typedef int (*device_fn)(int no, const char *dev, void *ctx);

/* fn for every device of the group, until it returns non-zero. */
static int for_each_device(int no, device_fn fn, void *ctx)
{
	char path[64];
	struct dirent *de;
	int rc = 0;
	DIR *dir;

	snprintf(path, sizeof(path), GROUPS_DIR "/%d/devices", no);
	dir = opendir(path);
	if (!dir)
		return -ENOENT;
	while (!rc && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		rc = fn(no, de->d_name, ctx);
	}
	closedir(dir);
	return rc;
}

static int not_viable(int no, const char *dev, void *ctx)
{
	char drv[NAME_MAX + 1];

	(void)ctx;
	device_driver(no, dev, drv, sizeof(drv));
	return !driver_leaves_group_viable(drv);
}

static bool group_viable(int no)
{
	return for_each_device(no, not_viable, NULL) == 0;
}

/* 1 at the first device with a vfio cdev (the group has a /dev/vfio/N) */
static int has_cdev(int no, const char *dev, void *ctx)
{
	char cdev[NAME_MAX + 1], path[NAME_MAX + 32];

	if (device_cdev(no, dev, cdev, sizeof(cdev)))
		return 0;
	snprintf(path, sizeof(path), CDEV_DIR "/%s", cdev);
	*(int *)ctx = access(path, R_OK | W_OK) ? -errno : 0;
	return 1;
}

/* ---- the device fds ---------------------------------------------------- */

/* The cdev of dev opened, bound to the iommufd cfd and attached to ioas. */
static int cdev_open_bound(int no, const char *dev, int cfd, unsigned int ioas)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = cfd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ioas,
	};
	char cdev[NAME_MAX + 1], path[NAME_MAX + 32];
	int fd, rc;

	rc = device_cdev(no, dev, cdev, sizeof(cdev));
	if (rc)
		return -ENODEV;
	snprintf(path, sizeof(path), CDEV_DIR "/%s", cdev);
	fd = real.openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (real.ioctl(fd, tagged(VFIO_DEVICE_BIND_IOMMUFD), &bind) < 0 ||
	    real.ioctl(fd, tagged(VFIO_DEVICE_ATTACH_IOMMUFD_PT), &attach) < 0) {
		rc = -errno;
		real.close(fd);
		shim_dbg(SHIM_CAT_FD, "group %d: %s (%s) not bound: %d", no, dev,
			 cdev, rc);
		return rc;
	}
	shim_dbg(SHIM_CAT_FD, "group %d: %s bound as %s (devid %u, IOAS %u)",
		 no, dev, cdev, bind.out_devid, ioas);
	return fd;
}

struct any_ctx {
	struct group *g;
	int cfd;
	unsigned int ioas;
	int fd;
};

static int open_one(int no, const char *dev, void *ctx)
{
	struct any_ctx *a = ctx;
	struct cdev_group *cg = a->g->priv;

	a->fd = cdev_open_bound(no, dev, a->cfd, a->ioas);
	if (a->fd < 0)
		return 0;
	snprintf(cg->attach_name, sizeof(cg->attach_name), "%s", dev);
	return 1;
}

/* ---- the backend -------------------------------------------------------- */

static int cdev_set_container(struct group *g, int group_fd, int cfd)
{
	struct cdev_group *cg = g->priv;
	struct shim_obj *obj;

	if (real.fcntl(cfd, F_GETFD) < 0)
		return -EBADF;
	if (g->c || cg->elsewhere)
		return -EINVAL;
	obj = fdtable_lookup(cfd);
	/* neither a container nor an iommufd type1 knows: EBADFD */
	if (!obj || obj->kind != SHIM_CONTAINER)
		return -EBADFD;
	/* iommu_group_claim_dma_owner(): a DMA-API driver holds the group */
	if (!group_viable(g->no))
		return -EBUSY;
	mark_joined(group_fd, true);
	return 0;
}

static int cdev_unset_container(struct group *g, int group_fd)
{
	struct cdev_group *cg = g->priv;

	/* another process's container: not this process's to take apart */
	if (!g->c)
		return cg->elsewhere ? -EBUSY : -EINVAL;
	mark_joined(group_fd, false);
	return 0;
}

/*
 * A device already bound in another process that shares the group (a DPDK
 * secondary's primary): the cdev path admits one bind per device, where
 * type1's group opens the device once more. So the holder's device fd is
 * duplicated into this process (pidfd_getfd(), which needs the right to
 * ptrace it): the same file, bound to the same container.
 */
static int borrow_device(int no, const char *dev)
{
	char cdev[NAME_MAX + 1], want[NAME_MAX + 32], path[NAME_MAX + 64],
		link[NAME_MAX + 32];
	struct dirent *de, *fe;
	int rc = -EBUSY, me = getpid();
	DIR *proc, *fds;
	ssize_t n;

	if (device_cdev(no, dev, cdev, sizeof(cdev)))
		return -ENODEV;
	snprintf(want, sizeof(want), CDEV_DIR "/%s", cdev);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (rc < 0 && (de = readdir(proc))) {
		int pid = atoi(de->d_name);

		if (pid <= 0 || pid == me)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (rc < 0 && (fe = readdir(fds))) {
			int pidfd;

			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid,
				 fe->d_name);
			n = real.readlink(path, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want))
				continue;
			pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (pidfd < 0)
				continue;
			rc = (int)syscall(SYS_pidfd_getfd, pidfd,
					  atoi(fe->d_name), 0);
			rc = rc < 0 ? -errno : rc;
			real.close(pidfd);
			shim_dbg(SHIM_CAT_FD,
				 "group %d: %s borrowed from pid %d (%d)", no,
				 dev, pid, rc);
		}
		closedir(fds);
	}
	closedir(proc);
	return rc;
}

/*
 * type1's strndup_user(arg, PAGE_SIZE): EFAULT where unreadable, EINVAL
 * when no NUL within the page size. Read up to each page end, so a short
 * name at the end of a mapping is not refused.
 */
static int copy_name(const char *arg, char *buf)
{
	size_t off = 0, n;

	while (off < NAME_MAX_USER) {
		n = 4096 - (((uintptr_t)arg + off) & 4095);
		if (n > NAME_MAX_USER - off)
			n = NAME_MAX_USER - off;
		if (copy_from_user(buf + off, arg + off, n))
			return -EFAULT;
		if (memchr(buf + off, '\0', n))
			return 0;
		off += n;
	}
	return -EINVAL;
}

struct match_ctx {
	const char *name;
	char dev[NAME_MAX + 1];
	int rc;
};

/*
 * vfio-pci's match: the device name, then nothing or only options after a
 * space. The one option is vf_token, meaningful for SR-IOV devices only,
 * which the shim does not serve: EINVAL as vfio-pci gives a device that is
 * neither a PF nor a VF.
 */
static int match_one(int no, const char *dev, void *ctx)
{
	struct match_ctx *m = ctx;
	size_t n = strlen(dev);
	const char *p;
	char cdev[NAME_MAX + 1];

	if (strncmp(m->name, dev, n) || device_cdev(no, dev, cdev, sizeof(cdev)))
		return 0;
	p = m->name + n;
	if (*p && *p != ' ')
		return 0;
	while (*p == ' ')
		p++;
	m->rc = *p ? -EINVAL : 0;
	snprintf(m->dev, sizeof(m->dev), "%s", dev);
	return 1;
}

static int cdev_get_device_fd(struct group *g, int group_fd, const char *arg)
{
	struct cdev_group *cg = g->priv;
	struct match_ctx m = { .rc = -ENODEV };
	char *name;
	unsigned int ioas;
	int cfd, rc;

	(void)group_fd;
	name = malloc(NAME_MAX_USER);
	if (!name)
		return -ENOMEM;
	rc = copy_name(arg, name);
	if (rc)
		goto out;
	m.name = name;
	for_each_device(g->no, match_one, &m);
	rc = m.rc;
	if (rc)
		goto out;
	if (!g->c && cg->elsewhere) {
		rc = borrow_device(g->no, m.dev);
		goto out;
	}
	/* type1: no device before the container has an iommu driver */
	rc = -EINVAL;
	if (!group_ready(g))
		goto out;
	/* the device the shim holds for the domain: one open of it, shared */
	if (g->attach_fd >= 0 && !strcmp(cg->attach_name, m.dev)) {
		rc = real.fcntl(g->attach_fd, F_DUPFD_CLOEXEC, 0);
		rc = rc < 0 ? -errno : rc;
		goto out;
	}
	cfd = group_container_iommufd(g, &ioas);
	rc = cfd < 0 ? cfd : cdev_open_bound(g->no, m.dev, cfd, ioas);
out:
	free(name);
	return rc;
}

static int cdev_open_any_device(struct group *g, int group_fd)
{
	struct any_ctx a = { .g = g, .fd = -ENODEV };

	(void)group_fd;
	a.cfd = group_container_iommufd(g, &a.ioas);
	if (a.cfd < 0)
		return a.cfd;
	for_each_device(g->no, open_one, &a);
	return a.fd;
}

static int lock_group(int fd)
{
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return 0;
	return errno == EWOULDBLOCK ? -EBUSY : -errno;
}

static int cdev_released(struct group *g)
{
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), GROUPS_DIR "/%d", g->no);
	fd = real.openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = lock_group(fd);
	real.close(fd);
	return rc == -EBUSY ? 0 : rc ? rc : 1;
}

static int cdev_status_flags(struct group *g)
{
	struct cdev_group *cg = g->priv;

	if (cg->elsewhere)
		return VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
	return group_viable(g->no) ? VFIO_GROUP_FLAGS_VIABLE : 0;
}

static void cdev_release(struct group *g)
{
	free(g->priv);
	g->priv = NULL;
}

static const struct group_backend cdev_backend = {
	.name = "cdev",
	.owns_fd = true,
	.set_container = cdev_set_container,
	.unset_container = cdev_unset_container,
	.get_device_fd = cdev_get_device_fd,
	.open_any_device = cdev_open_any_device,
	.released = cdev_released,
	.status_flags = cdev_status_flags,
	.release = cdev_release,
};

static struct group *new_cdev_group(int no)
{
	struct group *g = group_new(&cdev_backend, no);

	if (!g)
		return NULL;
	g->priv = calloc(1, sizeof(struct cdev_group));
	if (!g->priv) {
		free(g);
		return NULL;
	}
	return g;
}

int group_cdev_open(int no, int flags)
{
	struct group *g;
	char path[64];
	int fd, rc, exists = -ENOENT;

	/* /dev/vfio/N exists while a device of group N is bound to vfio */
	rc = for_each_device(no, has_cdev, &exists);
	if (rc < 0 || exists == -ENOENT)
		return -ENOENT;
	if (exists)
		return exists;
	snprintf(path, sizeof(path), GROUPS_DIR "/%d", no);
	fd = real.openat(AT_FDCWD, path,
			 O_RDONLY | O_DIRECTORY | (flags & (O_CLOEXEC | O_NONBLOCK)));
	if (fd < 0)
		return -errno;
	/* type1: one open of the group at a time */
	rc = lock_group(fd);
	if (rc)
		goto err_close;
	rc = -ENOMEM;
	g = new_cdev_group(no);
	if (!g)
		goto err_close;
	rc = fdtable_add(fd, &g->obj);
	obj_put(&g->obj);
	if (rc)
		goto err_close;
	report_cdev_group_opened();
	shim_dbg(SHIM_CAT_FD, "/dev/vfio/%d opened as the shim's group fd %d",
		 no, fd);
	return fd;

err_close:
	real.close(fd);
	return rc;
}

struct group *group_cdev_adopt(int fd)
{
	struct group *g;
	int no = vfiodev_fd_link_number(fd, GROUPS_DIR);

	if (no < 0)
		return NULL;
	g = new_cdev_group(no);
	if (!g)
		return NULL;
	((struct cdev_group *)g->priv)->elsewhere =
		(real.fcntl(fd, F_GETFL) & GROUP_JOINED_MARK) != 0;
	if (fdtable_add(fd, &g->obj)) {
		obj_put(&g->obj);
		return NULL;
	}
	obj_put(&g->obj);
	shim_dbg(SHIM_CAT_FD, "fd %d adopted as the shim's group %d%s", fd, no,
		 ((struct cdev_group *)g->priv)->elsewhere ?
			 " (joined to a container elsewhere)" :
			 "");
	return g;
}
