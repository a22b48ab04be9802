// SPDX-License-Identifier: MIT
/* The program's shared mmaps of tmpfs and hugetlbfs files; see filemap.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fdtable.h"
#include "fileid.h"
#include "filemap.h"
#include "log.h"

/* One mmap: [start, end) shows file id (the program's fd) from offset off. */
struct filenote {
	uintptr_t start, end;
	uint64_t off;
	struct fileid id;
	int fd;
	int prot;
};

static void memfd_nop(struct shim_obj *obj)
{
	(void)obj;
}

/* One object for every memfd: nothing per fd but the mark. */
static const struct shim_obj_ops memfd_ops = { .free = memfd_nop };
static struct shim_obj memfd_obj = { .ops = &memfd_ops,
				     .kind = SHIM_MEMFD,
				     .refs = 1 };

atomic_uint filemap_nmmaps;

void filemap_memfd_created(int fd)
{
	shim_lock();
	if (fdtable_add(fd, &memfd_obj))
		shim_dbg(SHIM_CAT_FD, "memfd %d: not marked (fd table)", fd);
	shim_unlock();
}
static struct filenote *notes; /* under the shim lock */
static unsigned int nnotes, cap;

static int add(const struct filenote *n)
{
	struct filenote *p;

	if (nnotes == cap) {
		p = realloc(notes, (cap ? 2 * cap : 8) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		notes = p;
		cap = cap ? 2 * cap : 8;
	}
	notes[nnotes++] = *n;
	fdtable_mmap_notes_set(&filemap_nmmaps, nnotes);
	return 0;
}

/* Cut [a, b) out of every note, as the kernel cuts the VMAs. */
static void cut(uintptr_t a, uintptr_t b)
{
	unsigned int i = 0;
	struct filenote n, tail;

	while (i < nnotes) {
		n = notes[i];
		if (n.end <= a || n.start >= b) {
			i++;
			continue;
		}
		if (n.end > b) {
			tail = n;
			tail.start = b;
			tail.off = n.off + (b - n.start);
			if (add(&tail))
				shim_warn(SHIM_CAT_FD,
					  "no memory to note a file mmap");
		}
		if (n.start < a) {
			notes[i++].end = a;
			continue;
		}
		notes[i] = notes[--nnotes];
	}
	fdtable_mmap_notes_set(&filemap_nmmaps, nnotes);
}

void filemap_note_mmap(void *addr, size_t len, int prot, int fd, off_t off)
{
	struct filenote n = {.start = (uintptr_t)addr,
			     .fd = fd,
			     .off = (uint64_t)off,
			     .prot = prot};
	bool shmem = false;

	if (!len || n.start + len < n.start)
		return;
	n.end = n.start + len;
	/* the file's kind before the lock: a kernel call */
	if (fd >= 0 && !(prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		shmem = fileid_shmem(fd, &n.id) > 0;
	if (!shmem &&
	    !atomic_load_explicit(&filemap_nmmaps, memory_order_relaxed))
		return;
	shim_lock();
	cut(n.start, n.end);
	if (shmem && add(&n))
		shim_warn(SHIM_CAT_FD, "no memory to note a file mmap");
	shim_unlock();
}

void filemap_note_munmap(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (!len || a + len < a)
		return;
	shim_lock();
	cut(a, a + len);
	shim_unlock();
}

int filemap_lookup(uint64_t vaddr, uint64_t size, bool write, int *fd,
		   uint64_t *off)
{
	int need = PROT_READ | (write ? PROT_WRITE : 0);
	const struct filenote *n;
	unsigned int i;

	for (i = 0; i < nnotes; i++) {
		n = &notes[i];
		if (vaddr < n->start || vaddr >= n->end)
			continue;
		if (size > n->end - vaddr || (n->prot & need) != need)
			return -ENOENT;
		if (fileid_same(n->fd, &n->id))
			return -ENOENT;
		*fd = n->fd;
		*off = n->off + (vaddr - n->start);
		return 0;
	}
	return -ENOENT;
}
