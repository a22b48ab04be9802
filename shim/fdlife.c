// SPDX-License-Identifier: MIT
/* The fd table kept in step with the caller's dup/close; see fdlife.h. */
#include <fcntl.h>
#include <unistd.h>

#include "fdlife.h"
#include "fdtable.h"
#include "internal.h"
#include "libc.h"

static pid_t shim_pid;

void fdlife_set_pid(pid_t pid)
{
	shim_pid = pid;
}

/* also called from sigaction while a sanitizer's runtime is starting up */
SHIM_NO_TSAN bool in_vfork_child(void)
{
	return shim_pid && getpid() != shim_pid;
}

void fdlife_dup(int oldfd, int newfd)
{
	struct shim_obj *obj;

	if (newfd < 0 || newfd == oldfd)
		return;
	if (likely(fdtable_kind(oldfd) == SHIM_NONE &&
		   fdtable_kind(newfd) == SHIM_NONE))
		return;
	if (in_vfork_child())
		return;
	shim_lock();
	/* dup2/dup3 closed what newfd was */
	fdlife_closed(newfd);
	obj = fdtable_lookup(oldfd);
	if (obj && obj->kind != SHIM_PRIVATE)
		fdtable_add(newfd, obj);
	shim_unlock();
}

void fdlife_make_room(int newfd)
{
	struct shim_obj *obj;
	int moved;

	if (likely(fdtable_kind(newfd) != SHIM_PRIVATE) || in_vfork_child())
		return;
	shim_lock();
	obj = fdtable_lookup(newfd);
	if (obj && obj->kind == SHIM_PRIVATE) {
		moved = real.fcntl(newfd, F_DUPFD_CLOEXEC, 0);
		if (moved >= 0) {
			obj_get(obj);
			fdtable_add(moved, obj);
			if (obj->ops->moved)
				obj->ops->moved(obj, newfd, moved);
			fdtable_remove(newfd);
			obj_put(obj);
		}
	}
	shim_unlock();
}

void fdlife_closed(int fd)
{
	struct shim_obj *last = fdtable_unbind(fd);

	/*
	 * The object's last fd is gone: its last-close step runs now, under
	 * the lock. For a group that is a probe of the kernel (our attach fd
	 * closed, then open("/dev/vfio/N") to see whether anyone still holds
	 * the group) and, if it is released, its container's reset: every
	 * mapping unmapped (IOMMU_IOAS_UNMAP) as type1 does when the last
	 * group leaves.
	 */
	if (last)
		obj_last_close(last);
}

bool fdlife_range_has_ours(unsigned int first, unsigned int last)
{
	bool found;
	int fd;

	shim_lock();
	fd = fdtable_next((int)first, SHIM_NONE);
	found = fd >= 0 && (unsigned int)fd <= last;
	shim_unlock();
	return found;
}

void fdlife_range_closed(unsigned int first, unsigned int last)
{
	int fd;

	for (fd = fdtable_next((int)first, SHIM_NONE);
	     fd >= 0 && (unsigned int)fd <= last;
	     fd = fdtable_next(fd + 1, SHIM_NONE))
		if (fdtable_kind(fd) != SHIM_PRIVATE)
			fdlife_closed(fd);
}
