// SPDX-License-Identifier: MIT
/*
 * The only file that defines libc names and the only one that sets errno.
 * Every function here is a thin filter: anything that is not a VFIO
 * container (or a group or device fd joined to one) goes to the real libc
 * function untouched; ours goes to fdtable -> container/group, whose
 * ">= 0 or -errno" result becomes libc's "-1 and errno" here.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfiocompat.h"
#include "config.h"
#include "container.h"
#include "dmabuf.h"
#include "fdlife.h"
#include "fdtable.h"
#include "filemap.h"
#include "group.h"
#include "group_cdev.h"
#include "internal.h"
#include "iommufd.h"
#include "libc.h"
#include "log.h"
#include "path.h"
#include "report.h"
#include "request.h"
#include "sigdefer.h"
#include "trap.h"
#include "uaccess.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* libc's fortified entry points, which no public header declares */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len,
			 size_t buflen);

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static inline int to_libc(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return (int)rc;
}

static void atfork_prepare(void)
{
	shim_lock();
}

static void atfork_parent(void)
{
	shim_unlock();
}

static void atfork_child(void)
{
	pid_t pid = getpid();

	shim_lock_reinit();
	sigdefer_fork_child();
	record_atfork_child();
	fdlife_set_pid(pid);
	uaccess_set_pid(pid);
}

/* VFIOCOMPAT_REPORT: one JSON line per process that met a container. */
static void write_report(void)
{
	int rc;

	if (!shim_config.report_file || !report_used() || in_vfork_child())
		return;
	shim_lock();
	rc = report_write(shim_config.report_file);
	shim_unlock();
	if (rc)
		shim_warn(SHIM_CAT_INIT, "cannot write report %s (%d)",
			  shim_config.report_file, rc);
}

static int ioctl_vfio(int fd, unsigned long request, void *arg);

static void do_init(void)
{
	int saved = errno;

	libc_init();
	config_init();
	log_init();
	fdlife_set_pid(getpid());
	uaccess_set_pid(getpid());
	if (fdtable_init())
		shim_err(SHIM_CAT_INIT, "cannot reserve the fd table");
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	if (shim_config.report_file) {
		report_set_file(shim_config.report_file);
		atexit(write_report);
	}
	if (shim_config.trap && !shim_config.disabled) {
		int rc = trap_init(ioctl_vfio);

		if (rc)
			shim_warn(SHIM_CAT_INIT,
				  "VFIOCOMPAT_TRAP: cannot install the seccomp "
				  "filter (%d); raw ioctls are not served",
				  rc);
		else
			shim_dbg(SHIM_CAT_INIT, "trap: raw VFIO ioctls served");
	}
	if (shim_config.bad_value)
		shim_warn(SHIM_CAT_INIT, "ignoring invalid %s",
			  shim_config.bad_value);
	shim_dbg(SHIM_CAT_INIT, "vfiocompat %s loaded%s%s; answers as type1 of %u.%u",
		 VFIOCOMPAT_VERSION_STRING,
		 shim_config.disabled ? " (disabled)" : "",
		 shim_config.secure ? " (secure execution: environment ignored)" :
				      "",
		 shim_config.type1_kver >> 8, shim_config.type1_kver & 0xff);
	errno = saved;
}

/*
 * A handler that lands during the set-up and calls in would wait for it
 * (pthread_once) on its own thread: it is deferred like any other.
 */
static void shim_init(void)
{
	sigdefer_enter();
	pthread_once(&init_once, do_init);
	sigdefer_leave();
}

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_init();
}

SHIM_EXPORT const char *vfiocompat_version(void)
{
	return VFIOCOMPAT_VERSION_STRING;
}

/* ---- recognising the container path ---------------------------------- */

/* Cheap for every other path: only names ending in "vfio" are looked at. */
static bool is_container_path(int dirfd, const char *path)
{
	size_t n;

	if (!path_may_be_container(path, &n))
		return false;
	shim_init();
	if (shim_config.disabled)
		return false;
	if (!strcmp(path, CONTAINER_PATH))
		return true;
	return path_names_container(dirfd, path);
}

/*
 * Where the shim serves the groups (group_cdev.h): -1 for any other path,
 * else the group number, or -2 for another name of one of our group fds.
 */
static int group_path(int dirfd, const char *path)
{
	if (likely(!path_may_be_group(path)))
		return -1;
	shim_init();
	if (shim_config.disabled || !group_cdev_serves())
		return -1;
	return path_names_group(dirfd, path);
}

static int open_group(int no, int flags)
{
	int fd;

	/* type1: the group is open already (one open at a time) */
	if (no == -2)
		return to_libc(-EBUSY);
	shim_lock();
	fd = group_cdev_open(no, flags);
	shim_unlock();
	return to_libc(fd);
}

/* A number we knew may have been closed behind our back (fclose, syscall). */
static void forget_stale(int fd)
{
	if (likely(fdtable_kind(fd) == SHIM_NONE))
		return;
	shim_lock();
	fdlife_closed(fd);
	shim_unlock();
}

/*
 * The container is a /dev/iommu fd; if iommufd cannot serve it, the real
 * container is opened instead (unless VFIOCOMPAT_FALLBACK=never).
 */
static int open_container(int dirfd, const char *path, int flags, mode_t mode)
{
	struct container *c;
	char b[16];
	int fd, rc;

	shim_lock();
	fd = container_open(flags, &c);
	if (fd >= 0) {
		c->obj.refs = 1;
		rc = fdtable_add(fd, &c->obj);
		obj_put(&c->obj);
		if (rc) {
			shim_unlock();
			iommufd_close(fd);
			return to_libc(rc);
		}
		report_container_opened();
		shim_dbg(SHIM_CAT_FD, "%s opened as iommufd fd %d (IOAS %u)",
			 path, fd, c->ioas_id);
		shim_unlock();
		return fd;
	}
	shim_unlock();
	/* the program's own shortage of fds: type1's open meets it too */
	if (fd == -EMFILE || fd == -ENFILE)
		return to_libc(fd);
	if (shim_config.fallback == SHIM_FALLBACK_NEVER) {
		shim_err(SHIM_CAT_INIT,
			 "%s: /dev/iommu unusable (%s) and "
			 "VFIOCOMPAT_FALLBACK=never",
			 path, errno_name(-fd, b));
		return to_libc(fd);
	}
	report_fallback();
	shim_warn(SHIM_CAT_INIT,
		  "/dev/iommu unusable (%s); opening the real %s (type1)",
		  errno_name(-fd, b), path);
	return real.openat(dirfd, path, flags, mode);
}

/* The mode is only there (and only read) with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags)                                              \
	({                                                            \
		mode_t m_ = 0;                                        \
		va_list ap_;                                          \
		va_start(ap_, flags);                                 \
		if ((flags) & (O_CREAT | __O_TMPFILE))                \
			m_ = va_arg(ap_, mode_t);                     \
		va_end(ap_);                                          \
		m_;                                                   \
	})

static inline int opened(int fd)
{
	forget_stale(fd);
	return fd;
}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int no;

	if (unlikely(is_container_path(AT_FDCWD, path)))
		return open_container(AT_FDCWD, path, flags, mode);
	if (unlikely((no = group_path(AT_FDCWD, path)) != -1))
		return open_group(no, flags);
	return opened(real.open(path, flags, mode));
}

SHIM_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int no;

	if (unlikely(is_container_path(AT_FDCWD, path)))
		return open_container(AT_FDCWD, path, flags, mode);
	if (unlikely((no = group_path(AT_FDCWD, path)) != -1))
		return open_group(no, flags);
	return opened(real.open64(path, flags, mode));
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int no;

	if (unlikely(is_container_path(dirfd, path)))
		return open_container(dirfd, path, flags, mode);
	if (unlikely((no = group_path(dirfd, path)) != -1))
		return open_group(no, flags);
	return opened(real.openat(dirfd, path, flags, mode));
}

SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	int no;

	if (unlikely(is_container_path(dirfd, path)))
		return open_container(dirfd, path, flags, mode);
	if (unlikely((no = group_path(dirfd, path)) != -1))
		return open_group(no, flags);
	return opened(real.openat64(dirfd, path, flags, mode));
}

/*
 * _FORTIFY_SOURCE turns open() with non-constant flags into these; libc's
 * versions abort on O_CREAT without a mode, so non-container calls go there.
 */
SHIM_EXPORT int __open_2(const char *path, int flags)
{
	int no;
	if (unlikely(is_container_path(AT_FDCWD, path)))
		return open_container(AT_FDCWD, path, flags, 0);
	if (unlikely((no = group_path(AT_FDCWD, path)) != -1))
		return open_group(no, flags);
	return opened(real.open_2(path, flags));
}

SHIM_EXPORT int __open64_2(const char *path, int flags)
{
	int no;
	if (unlikely(is_container_path(AT_FDCWD, path)))
		return open_container(AT_FDCWD, path, flags, 0);
	if (unlikely((no = group_path(AT_FDCWD, path)) != -1))
		return open_group(no, flags);
	return opened(real.open64_2(path, flags));
}

SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	int no;
	if (unlikely(is_container_path(dirfd, path)))
		return open_container(dirfd, path, flags, 0);
	if (unlikely((no = group_path(dirfd, path)) != -1))
		return open_group(no, flags);
	return opened(real.openat_2(dirfd, path, flags));
}

SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	int no;
	if (unlikely(is_container_path(dirfd, path)))
		return open_container(dirfd, path, flags, 0);
	if (unlikely((no = group_path(dirfd, path)) != -1))
		return open_group(no, flags);
	return opened(real.openat64_2(dirfd, path, flags));
}

/* ---- ioctl ----------------------------------------------------------- */

/* The fd was closed (and perhaps reused) since the lock-free look. */
static __attribute__((noinline)) int
ioctl_not_container(int fd, unsigned long request, void *arg)
{
	shim_unlock();
	return real.ioctl(fd, tagged(request), arg);
}

/* Kept small: every MAP_DMA and UNMAP_DMA comes through here. */
static __attribute__((noinline)) SHIM_HOT int
ioctl_container(int fd, unsigned long request, void *arg)
{
	struct shim_obj *obj;
	long rc;

	shim_lock();
	obj = fdtable_lookup(fd);
	if (unlikely(!obj || obj->kind != SHIM_CONTAINER))
		return ioctl_not_container(fd, request, arg);
	/* the fd's reference keeps obj alive; only close (locked) drops it */
	rc = container_ioctl((struct container *)obj, fd, request, arg);
	shim_unlock();
	return to_libc(rc);
}

static int ioctl_group(int fd, unsigned long request, void *arg)
{
	struct shim_obj *obj;
	long rc;

	shim_lock();
	obj = fdtable_lookup(fd);
	if (!obj || obj->kind != SHIM_GROUP) {
		shim_unlock();
		return real.ioctl(fd, tagged(request), arg);
	}
	obj_get(obj);
	rc = group_ioctl((struct group *)obj, fd, (unsigned int)request, arg);
	obj_put(obj);
	shim_unlock();
	if (rc == GROUP_PASS)
		return real.ioctl(fd, tagged(request), arg);
	return to_libc(rc);
}

/* VFIO_GROUP_GET_STATUS .. GET_DEVICE_FD */
static bool group_request(unsigned int cmd)
{
	return cmd == VFIO_GROUP_GET_STATUS || cmd == VFIO_GROUP_SET_CONTAINER ||
	       cmd == VFIO_GROUP_UNSET_CONTAINER ||
	       cmd == VFIO_GROUP_GET_DEVICE_FD;
}

/* One of our group files that came without our record (exec, SCM_RIGHTS). */
static bool adopt_group(int fd)
{
	bool ours;

	shim_lock();
	ours = fdtable_lookup(fd) || group_cdev_adopt(fd);
	shim_unlock();
	return ours;
}

/* VFIO_GROUP_SET_CONTAINER on a group fd we do not know yet. */
static int ioctl_set_container(int fd, unsigned long request, void *arg)
{
	struct shim_obj *obj;
	int cfd;
	long rc;

	if (copy_from_user(&cfd, arg, sizeof(cfd)) ||
	    fdtable_kind(cfd) != SHIM_CONTAINER)
		return real.ioctl(fd, tagged(request), arg);
	shim_lock();
	obj = fdtable_lookup(cfd);
	if (!obj || obj->kind != SHIM_CONTAINER) {
		shim_unlock();
		return real.ioctl(fd, tagged(request), arg);
	}
	obj_get(obj);
	rc = group_set_container(fd, (struct container *)obj, cfd);
	obj_put(obj);
	shim_unlock();
	return to_libc(rc);
}

/* A container request on an fd we do not know: adopt it if it is an iommufd. */
static int ioctl_adopt(int fd, unsigned long request, void *arg)
{
	struct container *c;
	int rc;

	shim_init();
	if (shim_config.disabled || !iommufd_fd_is_iommufd(fd))
		return real.ioctl(fd, tagged(request), arg);
	shim_lock();
	if (!fdtable_lookup(fd)) {
		rc = container_adopt(fd, &c);
		if (rc) {
			shim_unlock();
			/* -ENOENT: the program's own iommufd, the kernel's */
			if (rc != -ENOENT)
				shim_dbg(SHIM_CAT_FD,
					 "iommufd fd %d not adopted (%d)", fd,
					 rc);
			return real.ioctl(fd, tagged(request), arg);
		}
		c->obj.refs = 1;
		rc = fdtable_add(fd, &c->obj);
		obj_put(&c->obj);
		if (rc) {
			shim_unlock();
			return real.ioctl(fd, tagged(request), arg);
		}
		report_container_opened();
		shim_info(SHIM_CAT_FD, "adopted iommufd fd %d (IOAS %u)", fd,
			  c->ioas_id);
	}
	shim_unlock();
	return ioctl_container(fd, request, arg);
}

/* A VFIO-type request on an fd that is not one of our containers. */
static __attribute__((noinline)) int
ioctl_vfio_other(int fd, unsigned long request, void *arg, enum shim_kind kind)
{
	unsigned int cmd = (unsigned int)request;

	switch (kind) {
	case SHIM_GROUP:
		return ioctl_group(fd, request, arg);
	case SHIM_NONE:
		if (group_request(cmd) && !shim_config.disabled &&
		    group_cdev_serves() && adopt_group(fd))
			return ioctl_group(fd, request, arg);
		if (cmd == VFIO_GROUP_SET_CONTAINER)
			return ioctl_set_container(fd, request, arg);
		/* an iommufd we never opened may get container requests */
		if (container_request(cmd))
			return ioctl_adopt(fd, request, arg);
		return real.ioctl(fd, tagged(request), arg);
	default:
		return real.ioctl(fd, tagged(request), arg);
	}
}

/* Both ways out are tail calls: no frame of its own on the hot path. */
static __attribute__((noinline)) SHIM_HOT int
ioctl_vfio(int fd, unsigned long request, void *arg)
{
	enum shim_kind kind = fdtable_kind(fd);

	if (likely(kind == SHIM_CONTAINER))
		return ioctl_container(fd, request, arg);
	return ioctl_vfio_other(fd, request, arg, kind);
}

/*
 * The hot path: QEMU's KVM_RUN and every other ioctl of the program come
 * through here. ioctl's third argument is variadic; the kernel takes at most
 * one word, and every request passes a pointer or an integer, both of which
 * a void * carries. On x86-64 and AArch64 Linux a variadic caller passes that
 * word in the same register as a fixed third parameter, so the entry point
 * is defined non-variadic (no va_list set-up) and a request that is not of
 * VFIO's type ';' costs one compare and a tail jump to libc; %al, which a
 * variadic callee reads only to decide whether to spill vector registers,
 * is harmless whatever it holds.
 */
#if defined(__x86_64__) || defined(__aarch64__)
typedef int (*ioctl3_fn)(int fd, unsigned long request, void *arg);

int ioctl_entry(int fd, unsigned long request, void *arg) __asm__("ioctl");

SHIM_EXPORT SHIM_HOT int ioctl_entry(int fd, unsigned long request, void *arg)
{
	if (likely(_IOC_TYPE(request) != SHIM_VFIO_TYPE))
		return ((ioctl3_fn)real.ioctl)(fd, request, arg);
	return ioctl_vfio(fd, request, arg);
}
#else
SHIM_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (likely(_IOC_TYPE(request) != SHIM_VFIO_TYPE))
		return real.ioctl(fd, request, arg);
	return ioctl_vfio(fd, request, arg);
}
#endif

/* ---- mmap: device BARs (dmabuf.h) and shared files (filemap.h) --------- */

/*
 * Another fd costs one load of the fd table and a tail call; the tables
 * are looked at only while they hold something (a MAP_FIXED mmap may
 * replace a noted one).
 */
static inline bool mmap_noted(int flags, int fd)
{
	return fdtable_kind(fd) >= SHIM_DEVICE ||
	       ((flags & MAP_FIXED) &&
		atomic_load_explicit(&fdtable_mmap_notes, memory_order_relaxed));
}

static __attribute__((noinline)) void *
mmap_note(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = real.mmap(addr, len, prot, flags, fd, off);
	enum shim_kind kind = fdtable_kind(fd);
	int err = errno;

	if (p == MAP_FAILED)
		return p;
	if (kind == SHIM_DEVICE ||
	    atomic_load_explicit(&dmabuf_nmmaps, memory_order_relaxed))
		dmabuf_note_mmap(p, len, fd, off);
	if (kind == SHIM_MEMFD ||
	    atomic_load_explicit(&filemap_nmmaps, memory_order_relaxed))
		filemap_note_mmap(p, len, prot,
				  kind == SHIM_MEMFD && (flags & MAP_SHARED) ?
					  fd :
					  -1,
				  off);
	errno = err;
	return p;
}

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	if (likely(!mmap_noted(flags, fd)))
		return real.mmap(addr, len, prot, flags, fd, off);
	return mmap_note(addr, len, prot, flags, fd, off);
}

SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
			 off64_t off)
{
	if (likely(!mmap_noted(flags, fd)))
		return real.mmap(addr, len, prot, flags, fd, off);
	return mmap_note(addr, len, prot, flags, fd, off);
}

static __attribute__((noinline)) int munmap_note(void *addr, size_t len)
{
	int rc = real.munmap(addr, len);

	if (!rc) {
		if (atomic_load_explicit(&dmabuf_nmmaps, memory_order_relaxed))
			dmabuf_note_munmap(addr, len);
		if (atomic_load_explicit(&filemap_nmmaps, memory_order_relaxed))
			filemap_note_munmap(addr, len);
	}
	return rc;
}

SHIM_EXPORT int munmap(void *addr, size_t len)
{
	if (likely(!atomic_load_explicit(&fdtable_mmap_notes,
					 memory_order_relaxed)))
		return real.munmap(addr, len);
	return munmap_note(addr, len);
}

/* The memfds: their shared mmaps are noted (filemap.h). */
SHIM_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	int fd = real.memfd_create(name, flags);
	int err = errno;

	if (fd >= 0 && !shim_config.disabled && !in_vfork_child()) {
		filemap_memfd_created(fd);
		errno = err;
	}
	return fd;
}

/* ---- fd lifetime ----------------------------------------------------- */

static int close_ours(int fd)
{
	int rc;

	if (in_vfork_child())
		return real.close(fd);
	shim_lock();
	if (fdtable_kind(fd) == SHIM_PRIVATE) {
		/* not the caller's: under type1 this number would not be open */
		shim_unlock();
		errno = EBADF;
		return -1;
	}
	/* close first: a group's release is checked after its fd is gone */
	rc = real.close(fd);
	fdlife_closed(fd);
	shim_unlock();
	return rc;
}

SHIM_EXPORT int close(int fd)
{
	if (likely(fdtable_kind(fd) == SHIM_NONE))
		return real.close(fd);
	return close_ours(fd);
}

SHIM_EXPORT int dup(int oldfd)
{
	int fd = real.dup(oldfd);

	fdlife_dup(oldfd, fd);
	return fd;
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	int fd;

	if (oldfd != newfd)
		fdlife_make_room(newfd);
	fd = real.dup2(oldfd, newfd);
	fdlife_dup(oldfd, fd);
	return fd;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int fd;

	if (oldfd != newfd)
		fdlife_make_room(newfd);
	fd = real.dup3(oldfd, newfd, flags);
	fdlife_dup(oldfd, fd);
	return fd;
}

/* F_DUPFD and F_DUPFD_CLOEXEC make a new fd for the same file. */
static inline int after_fcntl(int fd, int cmd, int rc)
{
	if (unlikely(cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fdlife_dup(fd, rc);
	return rc;
}

/*
 * A container's status flags: its mark (CONTAINER_MARK) is the shim's, so
 * the program neither sees it nor clears it.
 */
static __attribute__((noinline)) int
fcntl_container_flags(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
	int rc;

	if (cmd == F_SETFL)
		return fn(fd, cmd, (int)(long)arg | CONTAINER_MARK);
	rc = fn(fd, cmd);
	return rc < 0 ? rc : rc & ~CONTAINER_MARK;
}

/* fcntl and fcntl64: the same bookkeeping around each's real function */
static inline int fcntl_through(int (*fn)(int, int, ...), int fd, int cmd,
				void *arg)
{
	if (unlikely((cmd == F_GETFL || cmd == F_SETFL) &&
		     fdtable_kind(fd) == SHIM_CONTAINER))
		return fcntl_container_flags(fn, fd, cmd, arg);
	return after_fcntl(fd, cmd, fn(fd, cmd, arg));
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_through(real.fcntl, fd, cmd, arg);
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_through(real.fcntl64, fd, cmd, arg);
}

/*
 * Close [first, last] except our private fds; then forget the caller's fds
 * of ours that were in the range.
 */
static int close_range_ours(unsigned int first, unsigned int last, int flags)
{
	unsigned int from = first;
	int fd, rc = 0;

	shim_lock();
	for (fd = fdtable_next((int)first, SHIM_PRIVATE);
	     fd >= 0 && (unsigned int)fd <= last;
	     fd = fdtable_next(fd + 1, SHIM_PRIVATE)) {
		if ((unsigned int)fd > from &&
		    real.close_range(from, (unsigned int)fd - 1, flags) && !rc)
			rc = -errno;
		from = (unsigned int)fd + 1;
	}
	if (from <= last && real.close_range(from, last, flags) && !rc)
		rc = -errno;
	fdlife_range_closed(first, last);
	shim_unlock();
	return to_libc(rc);
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	/* CLOEXEC only marks fds; nothing is closed now */
	if ((flags & CLOSE_RANGE_CLOEXEC) || first > last ||
	    in_vfork_child() || !fdlife_range_has_ours(first, last))
		return real.close_range(first, last, flags);
	return close_range_ours(first, last, flags);
}

SHIM_EXPORT void closefrom(int lowfd)
{
	int saved = errno;

	if (lowfd < 0)
		lowfd = 0;
	if (in_vfork_child() || !fdlife_range_has_ours((unsigned int)lowfd, ~0U)) {
		real.closefrom(lowfd);
		return;
	}
	close_range_ours((unsigned int)lowfd, ~0U, 0);
	errno = saved;
}

/* ---- identity: readlink of /proc/self/fd/N ---------------------------- */

SHIM_EXPORT ssize_t readlink(const char *path, char *buf, size_t len)
{
	int fd = proc_names_ours(AT_FDCWD, path);

	if (unlikely(fd >= 0))
		return ours_link(fd, buf, len);
	return real.readlink(path, buf, len);
}

SHIM_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf,
			       size_t len)
{
	int fd = proc_names_ours(dirfd, path);

	if (unlikely(fd >= 0))
		return ours_link(fd, buf, len);
	return real.readlinkat(dirfd, path, buf, len);
}

SHIM_EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len,
				   size_t buflen)
{
	/* an oversized len is libc's to report (it aborts) */
	int fd = len <= buflen ? proc_names_ours(AT_FDCWD, path) : -1;

	if (unlikely(fd >= 0))
		return ours_link(fd, buf, len);
	return real.readlink_chk(path, buf, len, buflen);
}

SHIM_EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf,
				     size_t len, size_t buflen)
{
	int fd = len <= buflen ? proc_names_ours(dirfd, path) : -1;

	if (unlikely(fd >= 0))
		return ours_link(fd, buf, len);
	return real.readlinkat_chk(dirfd, path, buf, len, buflen);
}

/* ---- signal handlers: deferred while the shim runs (sigdefer.h) ------ */

SHIM_EXPORT SHIM_NO_TSAN int sigaction(int sig, const struct sigaction *act,
				       struct sigaction *old)
{
	/* trap mode chains the program's own SIGSYS handler */
	if (unlikely(sig == SIGSYS) && trap_active())
		return trap_sigaction(act, old);
	/* a vfork child shares our memory but not our dispositions */
	if (unlikely(in_vfork_child()))
		return real.sigaction(sig, act, old);
	return sigdefer_sigaction(sig, act, old);
}

sighandler_t bsd_signal(int sig, sighandler_t handler);

/* signal(), bsd_signal() and sysv_signal() as glibc defines them */
static sighandler_t signal_as(int sig, sighandler_t handler, int flags,
			      bool mask_self)
{
	struct sigaction act = { .sa_handler = handler, .sa_flags = flags };
	struct sigaction old;

	if (sig < 1 || sig >= NSIG || handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&act.sa_mask);
	if (mask_self)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old))
		return SIG_ERR;
	return old.sa_handler;
}

SHIM_EXPORT SHIM_NO_TSAN sighandler_t signal(int sig, sighandler_t handler)
{
	return signal_as(sig, handler, SA_RESTART, true);
}

SHIM_EXPORT SHIM_NO_TSAN sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return signal_as(sig, handler, SA_RESTART, true);
}

SHIM_EXPORT SHIM_NO_TSAN sighandler_t sysv_signal(int sig,
						  sighandler_t handler)
{
	return signal_as(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}
