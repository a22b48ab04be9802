/* SPDX-License-Identifier: MIT */
/*
 * The container's record, shared by every process that holds the container
 * (a fork child, an exec'd image, an SCM_RIGHTS receiver): type1's state and
 * the mapping tree in one tmpfs file, <dir>/vfiocompat-<uid>-<key>, mapped
 * MAP_SHARED. Everything in it is position-independent (node indices, no
 * pointers). The container's iommufd holds the key (iommufd_key_set()), so a
 * process given only the fd finds the file; nothing else passes between
 * processes. One lock serializes the holders across processes; a holder
 * that dies holding it is found by its slot lock and the next one recovers
 * the record (the container's journal says how). See docs/design.md.
 */
#ifndef SHIM_RECORD_H
#define SHIM_RECORD_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "iommufd.h"
#include "maptree.h"

#define RECORD_MAX_RANGES 64

/*
 * The kernel call in progress: written before it, cleared after; what the
 * recovery needs to undo a MAP or finish an UNMAP. One word on the hot path:
 * the page-aligned iova of the one mapping, the op in its low bits; a range
 * has its bounds beside.
 */
enum record_op {
	RECORD_OP_NONE,
	RECORD_OP_MAP,		/* the mapping at iova: being mapped */
	RECORD_OP_UNMAP,	/* the mapping at iova: being unmapped */
	RECORD_OP_UNMAP_RANGE,	/* [iova, iova + size): being unmapped */
};
#define RECORD_OP_MASK 3ull

struct record_intent {
	uint64_t word;		/* iova | op, or just the op for a range */
	uint64_t iova, size;	/* a range's */
	uint32_t serial;	/* a MAP's node, as the tree will number it */
	uint32_t pad;
};

/* type1's state of the container, the same for every holder. */
struct record_state {
	int32_t type;		/* 0 until VFIO_SET_IOMMU, then TYPE1 or TYPE1v2 */
	uint32_t dirty_tracking;
	uint64_t pgsizes;	/* of the attached domains */
	uint64_t pgmask;	/* the smallest of them, less one */
	uint32_t nranges;
	uint32_t dma_entry_limit;
	uint64_t mapped_bytes;	/* sum of the record's sizes */
	uint32_t dirty_epoch;	/* bumped when every dirty bitmap goes */
	uint32_t adopted;	/* made by a holder that found no record */
	struct iommufd_range ranges[RECORD_MAX_RANGES];
	struct record_intent intent;
	struct maptree_head maps;
};

struct record_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint64_t key;
	uint32_t uid;
	uint32_t csum;		/* of the fields above */
	uint64_t size;		/* bytes of the file in use */
	_Atomic uint32_t lock;	/* 0, or the holder's slot + 1 | waiters */
	uint32_t pad;
	struct record_state st;
};

/* One process's handle on a record. */
struct record {
	struct record_hdr *h;
	uint32_t me;		/* our lock value: slot + 1; 0 until we have one */
	int fd;			/* the file; our slot's lock is on it. -1: anonymous */
	uint64_t key;		/* 0: anonymous (shared with fork children only) */
	struct record *next;	/* this process's records (fork) */
	/* another process cut the file under us: pages read as zeros now */
	volatile sig_atomic_t cut;
};

/* Where the files are (tmpfs); the unit tests point it elsewhere. */
extern const char *record_dir;

/*
 * A new record for the container on iommufd fd: keyed (the fd holds the
 * key, then the file is made) or, if no file can be made, anonymous.
 */
int record_create(struct record *r, int fd);
/*
 * The record whose key fd holds: -ENOENT if it holds none or the file is
 * gone, -EUCLEAN if the file is not a sound record of ours.
 */
int record_open(struct record *r, int fd);
/* Drop this process's handle (the file stays for the other holders). */
void record_close(struct record *r);
/*
 * This process's records, for fork and the SIGBUS guard: r joins (open and
 * create do it) or leaves (close does it); for a handle that moves.
 */
void record_track(struct record *r);
void record_untrack(struct record *r);
/* Remove the files of dead containers (their key is held by no fd). */
void record_sweep(int fd);
/* The maptree's grow function for the record's node array. */
int record_grow_nodes(struct maptree *t, uint32_t cap);
/* The tree's head fits the file (checked under the lock before use). */
bool record_fits(const struct record *r);
/*
 * A record another process made, before it is trusted (under the lock):
 * it fits its file, its tree t is sound (maptree_check()) and holds the
 * mapped bytes the header says, type1's state is one the shim writes. 0, or
 * -EUCLEAN with a warning naming what is not.
 */
int record_sound(const struct record *r, const struct maptree *t);
/*
 * After a holder's death (recovery): type1's state that no death can leave
 * damaged is set back to what the kernel would start from, with an error
 * logged. 0 if it was sound, -EUCLEAN if repaired.
 */
int record_repair(struct record *r);
/*
 * Take this process's slot in the record (the lock on its byte lives as
 * long as we do): 0 or -errno. record_lock() does it on first use.
 */
int record_register(struct record *r);
/* In a fork child: take our own file description (and later our own slot). */
void record_atfork_child(void);

#define RECORD_WAITERS 0x80000000u

int record_lock_slow(struct record *r);
void record_wake(struct record *r);

/*
 * Take the record's lock: 0, 1 if its last holder died holding it (the
 * caller recovers the record first), or -errno: -ESTALE if another process
 * cut the file under us (a SIGBUS the record's guard took: the pages past
 * the cut read as zeros in this process since; the record is lost to it).
 */
static inline int record_lock(struct record *r)
{
	uint32_t free_ = 0;

	if (__builtin_expect(r->me != 0, 1) &&
	    atomic_compare_exchange_strong_explicit(&r->h->lock, &free_, r->me,
						    memory_order_acquire,
						    memory_order_relaxed))
		return 0;
	return record_lock_slow(r);
}

static inline void record_unlock(struct record *r)
{
	uint32_t v = atomic_exchange_explicit(&r->h->lock, 0,
					      memory_order_release);

	if (__builtin_expect(v & RECORD_WAITERS, 0))
		record_wake(r);
}

/*
 * The iova range count, read once and kept in the ranges: another process
 * may write the record at any time, and no read may leave it.
 */
static inline uint32_t record_nranges(const struct record_state *st)
{
	uint32_t n = *(const volatile uint32_t *)&st->nranges;

	return n <= RECORD_MAX_RANGES ? n : RECORD_MAX_RANGES;
}

/* The journal: the kernel call about to be made, then done. */
static inline void record_intent(struct record *r, enum record_op op,
				 uint64_t iova)
{
	r->h->st.intent.word = iova | op;
}

/* A MAP, before its node is made: the recovery tells it by its serial. */
static inline void record_intent_map(struct record *r, uint64_t iova)
{
	struct record_state *st = &r->h->st;

	st->intent.serial = st->maps.serial + 1;
	atomic_signal_fence(memory_order_seq_cst);
	st->intent.word = iova | RECORD_OP_MAP;
}

static inline void record_intent_range(struct record *r, uint64_t iova,
				       uint64_t size)
{
	struct record_intent *in = &r->h->st.intent;

	in->iova = iova;
	in->size = size;
	/* the bounds before the op: a holder may die between any two stores */
	atomic_signal_fence(memory_order_seq_cst);
	in->word = RECORD_OP_UNMAP_RANGE;
}

static inline void record_commit(struct record *r)
{
	/* after the calls and changes it covers, in program order */
	atomic_signal_fence(memory_order_seq_cst);
	r->h->st.intent.word = RECORD_OP_NONE;
}

/* Nodes start a page in: the header has the first page to itself. */
#define RECORD_NODES_OFF 4096
/*
 * Address space for the file, reserved once: the file grows inside it
 * (fallocate), so no holder ever remaps and a node never moves. It is the
 * reach of a 32-bit link from the node array, a node beyond: a link that
 * another process scribbled lands in the window whatever its value, never
 * in the program's memory (the header page, then 4 GiB and a page). The
 * file is that long from the start, a hole past what is allocated.
 */
#define RECORD_WINDOW (RECORD_NODES_OFF + (1ull << 32) + 4096)

static inline struct mapping *record_nodes(const struct record *r)
{
	return (struct mapping *)((char *)r->h + RECORD_NODES_OFF);
}

#endif /* SHIM_RECORD_H */
