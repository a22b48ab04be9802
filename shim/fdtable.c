// SPDX-License-Identifier: MIT
/* The fd table; see fdtable.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/futex.h>

#include "fdtable.h"
#include "libc.h"

_Atomic(uint8_t) *fdtable_kinds;
atomic_uint fdtable_limit;

/* grows on demand, slow path only; read inline by fdtable_lookup() */
struct shim_obj **fdtable_objs;
unsigned int fdtable_objs_len;
static unsigned int table_max;
atomic_int shim_lock_word;

/*
 * Sized from fs.nr_open, the ceiling RLIMIT_NOFILE can be raised to, so a
 * later setrlimit cannot outgrow it. MAP_NORESERVE: pages are only backed once
 * an fd that high is ours.
 */
int fdtable_init(void)
{
	unsigned long max = 1048576;
	FILE *f;
	void *p;

	if (atomic_load(&fdtable_limit))
		return 0;
	f = fopen("/proc/sys/fs/nr_open", "re");
	if (f) {
		if (fscanf(f, "%lu", &max) != 1 || max < 1024)
			max = 1048576;
		fclose(f);
	}
	if (max > (1ul << 30))
		max = 1ul << 30;
	p = real.mmap(NULL, max, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	fdtable_kinds = p;
	table_max = (unsigned int)max;
	atomic_store_explicit(&fdtable_limit, table_max, memory_order_release);
	return 0;
}

/*
 * Contended: mark the lock as having waiters and sleep until it is free.
 * The futex calls' EAGAIN/EINTR must not reach the caller's errno.
 */
void shim_lock_wait(void)
{
	int saved = errno;

	while (atomic_exchange_explicit(&shim_lock_word, 2,
					memory_order_acquire) != 0)
		syscall(SYS_futex, &shim_lock_word, FUTEX_WAIT_PRIVATE, 2,
			NULL, NULL, 0);
	errno = saved;
}

/* Released with waiters: wake one (it re-marks the lock as contended). */
void shim_lock_wake(void)
{
	int saved = errno;

	syscall(SYS_futex, &shim_lock_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
		0);
	errno = saved;
}

void shim_lock_reinit(void)
{
	atomic_store_explicit(&shim_lock_word, 0, memory_order_relaxed);
}

static int grow(unsigned int fd)
{
	unsigned int n = fdtable_objs_len ? fdtable_objs_len : 64;
	struct shim_obj **p;

	while (n <= fd)
		n *= 2;
	p = realloc(fdtable_objs, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + fdtable_objs_len, 0, (n - fdtable_objs_len) * sizeof(*p));
	fdtable_objs = p;
	fdtable_objs_len = n;
	return 0;
}

atomic_uint fdtable_mmap_notes;

int fdtable_add(int fd, struct shim_obj *obj)
{
	int rc;

	if (fd < 0 || (unsigned int)fd >= table_max)
		return -EBADF;
	if ((unsigned int)fd >= fdtable_objs_len) {
		rc = grow(fd);
		if (rc)
			return rc;
	}
	if (fdtable_objs[fd])
		fdtable_remove(fd);
	fdtable_objs[fd] = obj;
	obj->refs++;
	if (!obj->nfds++)
		obj->fd = fd;
	atomic_store_explicit(&fdtable_kinds[fd], obj->kind,
			      memory_order_release);
	return 0;
}

/* Some fd bound to obj, or -1: a new obj->fd when the one it had goes. */
static int find_fd(const struct shim_obj *obj)
{
	unsigned int i;

	for (i = 0; i < fdtable_objs_len; i++)
		if (fdtable_objs[i] == obj)
			return (int)i;
	return -1;
}

struct shim_obj *fdtable_unbind(int fd)
{
	struct shim_obj *obj = fdtable_lookup(fd);

	if (!obj)
		return NULL;
	atomic_store_explicit(&fdtable_kinds[fd], SHIM_NONE,
			      memory_order_release);
	fdtable_objs[fd] = NULL;
	if (--obj->nfds && obj->fd == fd)
		obj->fd = find_fd(obj);
	if (!obj->nfds && obj->ops->last_close)
		return obj; /* the table's reference, now the caller's */
	obj_put(obj);
	return NULL;
}

void fdtable_remove(int fd)
{
	struct shim_obj *last = fdtable_unbind(fd);

	if (last)
		obj_last_close(last);
}

int fdtable_next(int from, enum shim_kind kind)
{
	unsigned int i;

	for (i = from < 0 ? 0 : (unsigned int)from; i < fdtable_objs_len; i++)
		if (fdtable_objs[i] &&
		    (kind == SHIM_NONE || fdtable_objs[i]->kind == kind))
			return (int)i;
	return -1;
}
