// SPDX-License-Identifier: MIT
/*
 * The shared container record: the file, its lock and the holders' slots;
 * see record.h. The record's contents (type1's state, the tree) are the
 * container's; this file only keeps them where every holder sees them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "fdroom.h"
#include "iommufd.h"
#include "libc.h"
#include "log.h"
#include "record.h"

#define RECORD_MAGIC 0x64726f6365726676ull	/* "vfrecord" */
#define RECORD_VERSION 1
#define RECORD_PREFIX "vfiocompat-"
/* The holders' slot locks: one byte each, far past the file's data. */
#define SLOT_OFF (1ll << 40)
#define NSLOTS 4096
/* How long a waiter sleeps before it asks whether the holder still lives. */
#define DEAD_CHECK_NS (20 * 1000 * 1000)

/* iova_valid() reads up to 255 ranges: they stay in the smallest file */
_Static_assert(offsetof(struct record_hdr, st.ranges) +
		       256 * sizeof(struct iommufd_range) <=
	       2 * RECORD_NODES_OFF, "ranges past the smallest record");

const char *record_dir = "/dev/shm";
static struct record *records;	/* this process's, for record_atfork_child() */

static void record_name(char *buf, size_t len, uint64_t key)
{
	snprintf(buf, len, "%s/" RECORD_PREFIX "%u-%016" PRIx64, record_dir,
		 (unsigned int)getuid(), key);
}

/* FNV-1a over the fields that never change. */
static uint32_t hdr_csum(const struct record_hdr *h)
{
	const unsigned char *p = (const unsigned char *)h;
	size_t i, n = offsetof(struct record_hdr, csum);
	uint32_t x = 2166136261u;

	for (i = 0; i < n; i++)
		x = (x ^ p[i]) * 16777619u;
	return x;
}

/*
 * The guard against a file cut short by another process while we have it
 * mapped: a SIGBUS in a record's window gets a private zero page there (the
 * access is retried and reads zeros), marks the record cut, and the next
 * lock says so (-ESTALE). Any other SIGBUS goes to the action there was
 * before, as if we were not there. Installed with the first keyed record;
 * a program that sets its own SIGBUS action later replaces it (docs/design.md).
 */
#define GUARD_SLOTS 64
static struct record *_Atomic guarded[GUARD_SLOTS];
static struct sigaction guard_prev;
static atomic_flag guard_installed = ATOMIC_FLAG_INIT;

/* A SIGBUS not ours: what the action before ours would have done. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	void (*h)(int) = guard_prev.sa_handler;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	if (h != SIG_DFL && h != SIG_IGN) {
		if (guard_prev.sa_flags & SA_SIGINFO)
			guard_prev.sa_sigaction(sig, si, uc);
		else
			h(sig);
		return;
	}
	/* sent, not a fault (si_code <= 0): ignored, or the default again */
	if (h == SIG_IGN && si->si_code <= 0)
		return;
	/* a fault comes again on return and takes its default course */
	real.sigaction(SIGBUS, &dfl, NULL);
	if (si->si_code <= 0)
		raise(SIGBUS);
}

static void guard_fault(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	int i, saved = errno;

	for (i = 0; i < GUARD_SLOTS; i++) {
		struct record *r = atomic_load(&guarded[i]);

		if (!r || !r->h || a - (uintptr_t)r->h >= RECORD_WINDOW)
			continue;
		if (real.mmap((void *)(a & ~4095ul), 4096,
			      PROT_READ | PROT_WRITE,
			      MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
			      0) == MAP_FAILED)
			break;
		r->cut = 1;
		/* the next lock takes the slow way, which sees the cut */
		r->me = 0;
		errno = saved;
		return;
	}
	errno = saved;
	chain(sig, si, uc);
}

static void guard_add(struct record *r)
{
	struct sigaction sa = { .sa_sigaction = guard_fault,
				.sa_flags = SA_SIGINFO | SA_ONSTACK |
					    SA_NODEFER };
	int i;

	if (r->fd < 0)
		return;	/* anonymous: nobody can cut it */
	if (!atomic_flag_test_and_set(&guard_installed)) {
		sigemptyset(&sa.sa_mask);
		real.sigaction(SIGBUS, &sa, &guard_prev);
	}
	for (i = 0; i < GUARD_SLOTS; i++) {
		struct record *none = NULL;

		if (atomic_compare_exchange_strong(&guarded[i], &none, r))
			return;
	}
}

static void guard_drop(struct record *r)
{
	for (int i = 0; i < GUARD_SLOTS; i++) {
		struct record *me = r;

		atomic_compare_exchange_strong(&guarded[i], &me, NULL);
	}
}

static int map_window(int fd, struct record_hdr **out)
{
	int flags = MAP_SHARED | MAP_NORESERVE | (fd < 0 ? MAP_ANONYMOUS : 0);
	void *p = real.mmap(NULL, RECORD_WINDOW, PROT_READ | PROT_WRITE, flags, fd,
		       0);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

/*
 * The file holds size bytes, allocated now (tmpfs full: an error, not
 * SIGBUS). Its length is the whole window from the start, the rest a hole:
 * a link another process scribbled reads zeros there, never past the end.
 */
static int file_size(const struct record *r, uint64_t size)
{
	if (r->fd < 0)
		return 0;
	if (fallocate(r->fd, 0, 0, (off_t)size))
		return -errno;
	return 0;
}

static int file_window(const struct record *r)
{
	if (ftruncate(r->fd, (off_t)RECORD_WINDOW))
		return -errno;
	return 0;
}

static uint64_t nodes_bytes(uint32_t cap)
{
	return (RECORD_NODES_OFF + (uint64_t)cap * sizeof(struct mapping) +
		4095) & ~4095ull;
}

int record_grow_nodes(struct maptree *t, uint32_t cap)
{
	struct record *r = t->ctx;
	uint64_t bytes = nodes_bytes(cap);
	int rc;

	if (bytes > RECORD_WINDOW)
		return -ENOMEM;
	rc = file_size(r, bytes);
	if (rc)
		return rc;
	r->h->size = bytes;
	t->h->cap = (uint32_t)((bytes - RECORD_NODES_OFF) /
			       sizeof(struct mapping));
	return 0;
}

/*
 * The record's file is an fd type1 does not need: opened with room made
 * above the program's RLIMIT_NOFILE and kept there (fdroom.h).
 */
static int open_roomy(const char *name, int flags, mode_t mode)
{
	struct fdroom room;
	int fd;

	fdroom_enter(&room);
	fd = fdroom_place(&room, real.openat(AT_FDCWD, name, flags, mode));
	fdroom_leave(&room);
	return fd;
}

void record_track(struct record *r)
{
	r->next = records;
	records = r;
	guard_add(r);
}

void record_untrack(struct record *r)
{
	struct record **p;

	for (p = &records; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	guard_drop(r);
}

/* A keyed file for the record, or none (r->fd -1, r->key 0). */
static void record_make_file(struct record *r, int fd)
{
	char name[256];
	uint64_t key = 0;

	/* the key first: a sweep never sees a file whose key nobody holds */
	if (getrandom(&key, sizeof(key), GRND_NONBLOCK) != sizeof(key))
		return;
	key = (key & (IOMMUFD_KEY_BIT - 1)) | IOMMUFD_KEY_BIT;
	if (iommufd_key_set(fd, key))
		return;
	record_name(name, sizeof(name), key);
	r->fd = open_roomy(name,
			   O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			   0600);
	if (r->fd >= 0)
		r->key = key;
	else
		iommufd_key_clear(fd, key);
}

static void record_drop_file(struct record *r, int fd)
{
	char name[256];

	if (r->fd < 0)
		return;
	record_name(name, sizeof(name), r->key);
	unlink(name);
	real.close(r->fd);
	iommufd_key_clear(fd, r->key);
	r->fd = -1;
	r->key = 0;
}

int record_create(struct record *r, int fd)
{
	struct maptree t;
	int rc;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	record_make_file(r, fd);
	for (;;) {
		rc = r->fd < 0 ? 0 : file_window(r);
		if (!rc)
			rc = file_size(r, nodes_bytes(MAPTREE_INIT_NODES));
		if (!rc)
			rc = map_window(r->fd, &r->h);
		if (!rc || r->fd < 0)
			break;
		/* tmpfs full or the like: a record for fork children only */
		record_drop_file(r, fd);
	}
	if (rc)
		return rc;
	if (!r->key)
		shim_dbg(SHIM_CAT_CONTAINER,
			 "container record: no file in %s; shared with fork "
			 "children only",
			 record_dir);
	r->h->magic = RECORD_MAGIC;
	r->h->version = RECORD_VERSION;
	r->h->hdr_size = sizeof(*r->h);
	r->h->key = r->key;
	r->h->uid = (uint32_t)getuid();
	r->h->csum = hdr_csum(r->h);
	r->h->size = nodes_bytes(MAPTREE_INIT_NODES);
	r->h->st.maps.cap = (uint32_t)((r->h->size - RECORD_NODES_OFF) /
				       sizeof(struct mapping));
	maptree_view(&t, &r->h->st.maps, record_nodes(r), record_grow_nodes, r);
	maptree_format(&t);
	record_track(r);
	return 0;
}

int record_open(struct record *r, int fd)
{
	const struct record_hdr *h;
	char name[256];
	struct stat st;
	uint64_t key, size;
	int rc;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	rc = iommufd_key_get(fd, &key);
	if (rc)
		return rc;
	record_name(name, sizeof(name), key);
	r->fd = open_roomy(name, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
	if (r->fd < 0)
		return -ENOENT;
	r->key = key;
	rc = -EUCLEAN;
	if (fstat(r->fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077) ||
	    (uint64_t)st.st_size < nodes_bytes(1))
		goto err_close;
	rc = map_window(r->fd, &r->h);
	if (rc)
		goto err_close;
	h = r->h;
	size = h->size;
	/* the file grows before the size says so: re-read its length after */
	if (fstat(r->fd, &st) || h->magic != RECORD_MAGIC ||
	    h->version != RECORD_VERSION || h->hdr_size != sizeof(*h) ||
	    h->key != key || h->uid != (uint32_t)getuid() ||
	    h->csum != hdr_csum(h) || size > (uint64_t)st.st_size ||
	    size > RECORD_WINDOW || size < nodes_bytes(1) ||
	    h->st.nranges > RECORD_MAX_RANGES) {
		rc = -EUCLEAN;
		goto err_unmap;
	}
	record_track(r);
	return 0;

err_unmap:
	real.munmap(r->h, RECORD_WINDOW);
	r->h = NULL;
err_close:
	real.close(r->fd);
	r->fd = -1;
	return rc;
}

/*
 * Whether the tree's head fits the file (checked under the lock): the size
 * the header says, and the file's own (another process may have cut it).
 */
bool record_fits(const struct record *r)
{
	const struct maptree_head *m = &r->h->st.maps;
	uint64_t size = r->h->size;
	struct stat st;

	if (r->fd >= 0 && (fstat(r->fd, &st) || (uint64_t)st.st_size < size))
		return false;
	return m->cap && m->cap <= MAPTREE_MAX_NODES && size <= RECORD_WINDOW &&
	       nodes_bytes(m->cap) <= size;
}

/* type1's state as the shim writes it; checked with the tree by record_sound(). */
static const char *state_damage(const struct record_state *s)
{
	uint64_t pg = s->pgsizes ? s->pgsizes & -s->pgsizes : 4096;
	uint32_t i;

	if (s->type != 0 && s->type != VFIO_TYPE1_IOMMU &&
	    s->type != VFIO_TYPE1v2_IOMMU)
		return "type";
	if (s->pgmask != pg - 1)
		return "page sizes";
	if (s->nranges > RECORD_MAX_RANGES)
		return "iova range count";
	for (i = 0; i < s->nranges; i++)
		if (s->ranges[i].start > s->ranges[i].last)
			return "iova ranges";
	if (s->dirty_tracking > 1 || s->adopted > 1)
		return "flags";
	return NULL;
}

int record_sound(const struct record *r, const struct maptree *t)
{
	const char *what = NULL;
	uint64_t bytes;

	if (!record_fits(r))
		what = "size";
	else if (maptree_check_bytes(t, &bytes))
		what = "mapping tree";
	else if (bytes != r->h->st.mapped_bytes)
		what = "mapped bytes";
	else
		what = state_damage(&r->h->st);
	if (!what)
		return 0;
	shim_warn(SHIM_CAT_CONTAINER,
		  "container record %016" PRIx64 ": %s not sound", r->key,
		  what);
	return -EUCLEAN;
}

int record_repair(struct record *r)
{
	struct record_state *s = &r->h->st;
	const char *what = state_damage(s);

	if (!what)
		return 0;
	shim_err(SHIM_CAT_CONTAINER,
		 "container record %016" PRIx64 ": %s damaged (not by a "
		 "holder's death); set to the kernel's defaults",
		 r->key, what);
	/* what the next SET_IOMMU or group join sets again */
	if (s->nranges > RECORD_MAX_RANGES)
		s->nranges = 0;
	for (uint32_t i = 0; i < s->nranges; i++)
		if (s->ranges[i].start > s->ranges[i].last)
			s->nranges = 0;
	s->pgmask = (s->pgsizes ? s->pgsizes & -s->pgsizes : 4096) - 1;
	s->dirty_tracking = !!s->dirty_tracking;
	s->adopted = !!s->adopted;
	if (s->type != 0 && s->type != VFIO_TYPE1_IOMMU &&
	    s->type != VFIO_TYPE1v2_IOMMU)
		s->type = VFIO_TYPE1v2_IOMMU;
	return -EUCLEAN;
}

void record_close(struct record *r)
{
	record_untrack(r);
	if (r->h)
		real.munmap(r->h, RECORD_WINDOW);
	if (r->fd >= 0)
		real.close(r->fd);
	r->h = NULL;
	r->fd = -1;
	r->me = 0;
}

/* Whether some process holds a slot of the record's file (it is alive). */
static bool file_has_holder(const char *name)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = SLOT_OFF,
		.l_len = NSLOTS,
	};
	int f = open_roomy(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
	bool held;

	if (f < 0)
		return false;
	held = real.fcntl(f, F_OFD_GETLK, &fl) || fl.l_type != F_UNLCK;
	real.close(f);
	return held;
}

void record_sweep(int fd)
{
	char prefix[64], name[256];
	struct dirent *d;
	uint64_t key;
	DIR *dir;
	int n;

	n = snprintf(prefix, sizeof(prefix), RECORD_PREFIX "%u-",
		     (unsigned int)getuid());
	dir = opendir(record_dir);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char *end;

		if (strncmp(d->d_name, prefix, (size_t)n))
			continue;
		key = strtoull(d->d_name + n, &end, 16);
		if (*end || !(key & IOMMUFD_KEY_BIT) || iommufd_key_held(fd, key))
			continue;
		/*
		 * No file description of our /dev/iommu holds the key; and no
		 * holder has a slot (a container opened through another
		 * /dev/iommu node, in another mount namespace, keeps its file).
		 */
		record_name(name, sizeof(name), key);
		if (file_has_holder(name))
			continue;
		if (!unlink(name))
			shim_dbg(SHIM_CAT_CONTAINER,
				 "container record %s: container gone, removed",
				 name);
	}
	closedir(dir);
}

void record_atfork_child(void)
{
	struct record *r;
	char path[64];
	int nfd;

	for (r = records; r; r = r->next) {
		r->me = 0;
		if (r->fd < 0)
			continue;
		/*
		 * Our own file description: the inherited one is the parent's,
		 * and its slot lock must go with the parent, not live on in us.
		 */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
		nfd = open_roomy(path, O_RDWR | O_CLOEXEC, 0);
		if (nfd < 0) {
			char name[256];

			record_name(name, sizeof(name), r->key);
			nfd = open_roomy(name, O_RDWR | O_CLOEXEC | O_NOFOLLOW,
					 0);
		}
		if (nfd < 0)
			continue;
		real.dup3(nfd, r->fd, O_CLOEXEC);
		real.close(nfd);
	}
}

int record_register(struct record *r)
{
	int s;

	if (r->fd < 0) {
		/* anonymous: fork children only, one pid namespace */
		r->me = (uint32_t)getpid();
		return 0;
	}
	for (s = 0; s < NSLOTS; s++) {
		uint32_t owner = atomic_load(&r->h->lock) & ~RECORD_WAITERS;
		struct flock fl = {
			.l_type = F_WRLCK,
			.l_whence = SEEK_SET,
			.l_start = SLOT_OFF + s,
			.l_len = 1,
		};

		/*
		 * Not the slot of a holder that died holding the lock: its
		 * waiters must see that slot free to take the lock over.
		 */
		if (owner == (uint32_t)s + 1)
			continue;
		if (!real.fcntl(r->fd, F_OFD_SETLK, &fl)) {
			r->me = (uint32_t)s + 1;
			return 0;
		}
		if (errno != EAGAIN && errno != EACCES)
			return -errno;
	}
	return -EUSERS;
}

static bool owner_alive(const struct record *r, uint32_t owner)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = SLOT_OFF + (off_t)owner - 1,
		.l_len = 1,
	};

	if (r->fd < 0)
		return !(kill((pid_t)owner, 0) && errno == ESRCH);
	if (!owner || owner > NSLOTS)
		return false;
	if (real.fcntl(r->fd, F_OFD_GETLK, &fl))
		return true;
	return fl.l_type != F_UNLCK;
}

static int futex_wait(_Atomic uint32_t *w, uint32_t v)
{
	struct timespec ts = { .tv_nsec = DEAD_CHECK_NS };

	/* not FUTEX_PRIVATE: the word is shared between processes */
	if (syscall(SYS_futex, w, FUTEX_WAIT, v, &ts, NULL, 0))
		return -errno;
	return 0;
}

void record_wake(struct record *r)
{
	syscall(SYS_futex, &r->h->lock, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int record_lock_slow(struct record *r)
{
	_Atomic uint32_t *w = &r->h->lock;
	uint32_t v, me;
	int rc;

	if (r->cut) {
		shim_err(SHIM_CAT_CONTAINER,
			 "container record %016" PRIx64 ": its file was cut "
			 "short by another process; it is lost to this process",
			 r->key);
		return -ESTALE;
	}
	if (!r->me) {
		rc = record_register(r);
		if (rc)
			return rc;
		v = 0;
		if (atomic_compare_exchange_strong(w, &v, r->me))
			return 0;
	}
	/* once we have waited, we take it marked: others may wait too */
	me = r->me | RECORD_WAITERS;
	for (;;) {
		v = 0;
		if (atomic_compare_exchange_strong(w, &v, me))
			return 0;
		if (!(v & RECORD_WAITERS)) {
			if (!atomic_compare_exchange_strong(w, &v,
							    v | RECORD_WAITERS))
				continue;
			v |= RECORD_WAITERS;
		}
		rc = futex_wait(w, v);
		if (rc == -ETIMEDOUT &&
		    !owner_alive(r, v & ~RECORD_WAITERS) &&
		    atomic_compare_exchange_strong(w, &v, me)) {
			shim_warn(SHIM_CAT_CONTAINER,
				  "container record: a holder died while "
				  "changing it; recovering");
			return 1;
		}
	}
}
