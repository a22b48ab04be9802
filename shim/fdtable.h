/* SPDX-License-Identifier: MIT */
/*
 * Which fds are the shim's: one byte per fd number (its kind), read lock-free
 * on the hot path, and the object behind each, read and changed under the one
 * shim lock. The table knows objects only through struct shim_obj and its ops.
 */
#ifndef SHIM_FDTABLE_H
#define SHIM_FDTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sigdefer.h"

enum shim_kind {
	SHIM_NONE = 0,
	SHIM_CONTAINER,	/* a /dev/iommu fd serving the VFIO container API */
	SHIM_GROUP,	/* a group fd joined to one of our containers */
	SHIM_PRIVATE,	/* an fd the shim opened for itself */
	/* from here on, the kinds whose mmaps are noted: one compare in mmap */
	SHIM_DEVICE,	/* a device fd opened from such a group */
	SHIM_MEMFD,	/* a memfd of the program: its shared mmaps are noted (filemap.h) */
};

/*
 * How many mmaps of such fds the tables hold (dmabuf.h, filemap.h): munmap
 * and a MAP_FIXED mmap look at them only while this is nonzero.
 */
extern atomic_uint fdtable_mmap_notes;

/* A table's count became n (shim lock held): the total follows. */
static inline void fdtable_mmap_notes_set(atomic_uint *count, unsigned int n)
{
	unsigned int old = atomic_load_explicit(count, memory_order_relaxed);
	unsigned int all = atomic_load_explicit(&fdtable_mmap_notes,
						memory_order_relaxed);

	atomic_store_explicit(count, n, memory_order_relaxed);
	atomic_store_explicit(&fdtable_mmap_notes, all - old + n,
			      memory_order_relaxed);
}

struct shim_obj;

struct shim_obj_ops {
	/* The process's last fd of the object was closed (lock held). */
	void (*last_close)(struct shim_obj *obj);
	/* The object's fd moved from one number to another (lock held). */
	void (*moved)(struct shim_obj *obj, int from, int to);
	/* The last reference went away (lock held). */
	void (*free)(struct shim_obj *obj);
};

struct shim_obj {
	const struct shim_obj_ops *ops;
	uint8_t kind;
	int refs;	/* one per fd in the table, plus holders */
	int nfds;	/* this process's fds in the table */
	int fd;		/* one of them, while nfds > 0 (the table keeps it) */
};

/* Lock-free view for the hot path. */
extern _Atomic(uint8_t) *fdtable_kinds;
extern atomic_uint fdtable_limit;

static inline enum shim_kind fdtable_kind(int fd)
{
	unsigned int limit =
		atomic_load_explicit(&fdtable_limit, memory_order_acquire);

	if ((unsigned int)fd >= limit)
		return SHIM_NONE;
	return (enum shim_kind)atomic_load_explicit(&fdtable_kinds[fd],
						    memory_order_relaxed);
}

/* Reserve the table (virtual memory sized for the largest possible fd). */
int fdtable_init(void);

/*
 * The one shim lock: 0 free, 1 held, 2 held with waiters (a futex, as
 * glibc's own lowlevellock). Taken on every MAP_DMA and UNMAP_DMA, so the
 * uncontended case is one atomic instruction each way, inline.
 */
extern atomic_int shim_lock_word;
void shim_lock_wait(void);
void shim_lock_wake(void);

/*
 * The thread is inside the shim from before it asks for the lock until after
 * it let go: a handler of the program that lands in between is deferred
 * (sigdefer.h), as it could otherwise wait for the lock its thread holds.
 */
static inline void shim_lock(void)
{
	int unlocked = 0;

	sigdefer_enter();
	if (!atomic_compare_exchange_strong_explicit(
		    &shim_lock_word, &unlocked, 1, memory_order_acquire,
		    memory_order_relaxed))
		shim_lock_wait();
}

static inline void shim_unlock(void)
{
	if (atomic_exchange_explicit(&shim_lock_word, 0,
				     memory_order_release) != 1)
		shim_lock_wake();
	sigdefer_leave();
}

/* For pthread_atfork: after fork the child owns a fresh, unlocked lock. */
void shim_lock_reinit(void);

/* All of the following need the shim lock. */
extern struct shim_obj **fdtable_objs;
extern unsigned int fdtable_objs_len;

static inline struct shim_obj *fdtable_lookup(int fd)
{
	if (fd < 0 || (unsigned int)fd >= fdtable_objs_len)
		return NULL;
	return fdtable_objs[fd];
}
/* Bind fd to obj (a new reference); a stale entry for fd is dropped first. */
int fdtable_add(int fd, struct shim_obj *obj);
/*
 * Unbind fd. If it was the object's last fd and the object has a last-close
 * step, the object comes back with a reference for obj_last_close();
 * otherwise NULL.
 */
struct shim_obj *fdtable_unbind(int fd);
/* Unbind fd and run the object's last-close step if it was the last fd. */
void fdtable_remove(int fd);
static inline void obj_get(struct shim_obj *obj)
{
	obj->refs++;
}

static inline void obj_put(struct shim_obj *obj)
{
	if (--obj->refs == 0)
		obj->ops->free(obj);
}
/* The object's last-close step, and the reference fdtable_unbind() gave. */
static inline void obj_last_close(struct shim_obj *obj)
{
	obj->ops->last_close(obj);
	obj_put(obj);
}

/* Some fd of this process bound to obj, or -1. */
static inline int obj_fd(const struct shim_obj *obj)
{
	return obj->nfds ? obj->fd : -1;
}
/* Lowest fd >= from bound to an object of kind (SHIM_NONE: any), or -1. */
int fdtable_next(int from, enum shim_kind kind);

#endif /* SHIM_FDTABLE_H */
