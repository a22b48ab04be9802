// SPDX-License-Identifier: MIT
/*
 * An in-memory model of the kernel below the shim, for unit tests only: the
 * iommufd calls of shim/iommufd.h (IOAS areas with iommufd's own errnos) and
 * the VFIO group calls of shim/vfiodev.h. Every call is journaled, and the
 * n-th call can be made to fail (as iommufd's fail_nth selftest does).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "fake_kernel.h"
#include "fileid.h"
#include "iommufd.h"
#include "maptree.h"
#include "record.h"
#include "vfiodev.h"

struct fake_state fake;

/*
 * The shared records of a process over the fake go to a directory of its
 * own, removed when it exits: fake fds hold fake keys, so its sweep must
 * never see another process's records (nor a real shim's in /dev/shm).
 */
static char record_tmp[64];
static pid_t record_tmp_pid;

static void remove_dir(const char *dirname)
{
	struct dirent *d;
	char path[400];
	DIR *dir;

	dir = opendir(dirname);
	if (dir) {
		while ((d = readdir(dir))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirname,
				 d->d_name);
			unlink(path);
		}
		closedir(dir);
	}
	rmdir(dirname);
}

static void record_tmp_remove(void)
{
	if (getpid() == record_tmp_pid)
		remove_dir(record_tmp);
}

/* Directories of processes that ended without exit() (_exit, a signal). */
static void record_tmp_sweep(void)
{
	struct dirent *d;
	char path[400];
	DIR *dir;
	long pid;

	dir = opendir("/tmp");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (sscanf(d->d_name, "vfiocompat-fake-%ld-", &pid) != 1 ||
		    pid <= 0 || !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", d->d_name);
		remove_dir(path);
	}
	closedir(dir);
}

static void record_tmp_make(void)
{
	if (record_tmp_pid == getpid())
		return;
	record_tmp_sweep();
	snprintf(record_tmp, sizeof(record_tmp), "/tmp/vfiocompat-fake-%d-XXXXXX",
		 (int)getpid());
	if (!mkdtemp(record_tmp))
		return;
	record_tmp_pid = getpid();
	record_dir = record_tmp;
	atexit(record_tmp_remove);
}

void fake_reset(void)
{
	record_tmp_make();
	/* everything but the (large) area arrays, which narea bounds */
	memset(&fake, 0, offsetof(struct fake_state, ioas));
	fake.nioas = 0;
	fake.calls = 0;
	fake.next_fd = FAKE_FD_BASE;
	fake.next_id = 1;
	fake.released = 1;
	/* what the 6.12 guest's intel-iommu reports with a device attached */
	fake.nresv = 1;
	fake.resv[0].start = 0xfee00000;
	fake.resv[0].last = 0xfeefffff;
	fake.aperture_last = (1ull << 39) - 1;
}

/* Journal the call; returns the injected errno (negative) or 0. */
static int call(const char *name)
{
	fake.journal[fake.calls % FAKE_JOURNAL] = name;
	fake.calls++;
	if (fake.fail_nth && fake.calls == fake.fail_nth)
		return -fake.fail_errno;
	return 0;
}

const char *fake_calls_since(unsigned int mark)
{
	static char buf[FAKE_JOURNAL * 32];
	size_t n = 0;
	unsigned int i;

	buf[0] = '\0';
	if (fake.calls - mark > FAKE_JOURNAL)
		return "(more calls than the journal holds)";
	for (i = mark; i < fake.calls && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      i == mark ? "" : ", ",
				      fake.journal[i % FAKE_JOURNAL]);
	return buf;
}

static struct fake_ioas *ioas_get(uint32_t id)
{
	int i;

	for (i = 0; i < fake.nioas; i++)
		if (fake.ioas[i].id == id)
			return &fake.ioas[i];
	return NULL;
}

int iommufd_open(int flags)
{
	int rc = call("open");

	(void)flags;
	if (rc)
		return rc;
	if (fake.no_iommufd)
		return -ENOENT;
	return fake.next_fd++;
}

void iommufd_close(int fd)
{
	if (iommufd_fd_is_iommufd(fd) && fd - FAKE_FD_BASE < FAKE_MAX_KEYS)
		fake.key[fd - FAKE_FD_BASE] = 0;
	fake.closed_iommufds++;
}

/* what a real open would keep: the access mode and the container's mark */
int iommufd_status_flags(int fd)
{
	if (!iommufd_fd_is_iommufd(fd))
		return -EBADF;
	return fake.foreign_iommufd == fd ? O_RDWR : O_RDWR | O_APPEND;
}

bool iommufd_fd_is_iommufd(int fd)
{
	return fd >= FAKE_FD_BASE && fd < fake.next_fd;
}

/* The record's key: one per fd (each fake fd is its own file description). */
int iommufd_key_set(int fd, uint64_t key)
{
	int i = fd - FAKE_FD_BASE;

	if (!iommufd_fd_is_iommufd(fd) || i >= FAKE_MAX_KEYS)
		return -EBADF;
	fake.key[i] = key;
	return 0;
}

void iommufd_key_clear(int fd, uint64_t key)
{
	int i = fd - FAKE_FD_BASE;

	if (iommufd_fd_is_iommufd(fd) && i < FAKE_MAX_KEYS && fake.key[i] == key)
		fake.key[i] = 0;
}

int iommufd_key_get(int fd, uint64_t *key)
{
	int i = fd - FAKE_FD_BASE;

	if (!iommufd_fd_is_iommufd(fd) || i >= FAKE_MAX_KEYS || !fake.key[i])
		return -ENOENT;
	*key = fake.key[i];
	return 0;
}

bool iommufd_key_held(int fd, uint64_t key)
{
	int i;

	(void)fd;
	for (i = 0; i < FAKE_MAX_KEYS; i++)
		if (fake.key[i] == key)
			return true;
	return false;
}

int iommufd_ioas_alloc(int fd, uint32_t *ioas_id)
{
	int rc = call("IOAS_ALLOC");

	(void)fd;
	if (rc)
		return rc;
	if (fake.nioas == FAKE_MAX_IOAS)
		return -ENOMEM;
	fake.ioas[fake.nioas].narea = 0;
	fake.ioas[fake.nioas].id = fake.next_id++;
	*ioas_id = fake.ioas[fake.nioas++].id;
	return 0;
}

int iommufd_destroy(int fd, uint32_t id)
{
	(void)fd;
	(void)id;
	return call("DESTROY");
}

int iommufd_option_rlimit_mode(int fd, uint64_t mode)
{
	int rc = call("OPTION");

	(void)fd;
	if (rc)
		return rc;
	if (fake.deny_rlimit_mode)
		return -EPERM;
	fake.rlimit_mode = mode;
	return 0;
}

int iommufd_vfio_ioas(int fd, uint16_t op, uint32_t *ioas_id)
{
	int rc = call("VFIO_IOAS");

	(void)fd;
	if (rc)
		return rc;
	switch (op) {
	case IOMMU_VFIO_IOAS_GET:
		if (!fake.compat_ioas)
			return -ENODEV;
		*ioas_id = fake.compat_ioas;
		return 0;
	case IOMMU_VFIO_IOAS_SET:
		if (!ioas_get(*ioas_id))
			return -ENOENT;
		fake.compat_ioas = *ioas_id;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static bool in_reserved(uint64_t start, uint64_t last)
{
	int i;

	if (!fake.domain)
		return false;
	if (last > fake.aperture_last)
		return true;
	for (i = 0; i < fake.nresv; i++)
		if (start <= fake.resv[i].last && last >= fake.resv[i].start)
			return true;
	return false;
}

static int ioas_map(const char *name, uint32_t ioas_id, uint32_t flags,
		    uint64_t vaddr, uint64_t length, uint64_t iova)
{
	struct fake_ioas *ioas = ioas_get(ioas_id);
	int rc = call(name), i;

	if (rc)
		return rc;
	if (!ioas)
		return -ENOENT;
	if (!length || !(flags & (IOMMU_IOAS_MAP_READABLE |
				  IOMMU_IOAS_MAP_WRITEABLE)))
		return -EINVAL;
	if (iova + length - 1 < iova || vaddr + length - 1 < vaddr)
		return -EOVERFLOW;
	for (i = 0; i < ioas->narea; i++)
		if (iova < ioas->area[i].iova + ioas->area[i].length &&
		    ioas->area[i].iova < iova + length)
			return -EEXIST;
	if (in_reserved(iova, iova + length - 1))
		return -EADDRINUSE;
	if (fake.pinned_limit && fake.domain &&
	    fake.pinned + length > fake.pinned_limit)
		return -ENOMEM;
	if (ioas->narea == FAKE_MAX_AREAS)
		return -ENOMEM;
	ioas->area[ioas->narea].iova = iova;
	ioas->area[ioas->narea].length = length;
	ioas->area[ioas->narea].vaddr = vaddr;
	ioas->area[ioas->narea++].flags = flags;
	if (fake.domain)
		fake.pinned += length;
	return 0;
}

/*
 * iommufd's rule: whole areas only (an area crossing an end is ENOENT);
 * nothing unmapped is ENOENT for IOAS_UNMAP, 0 for the compat UNMAP_DMA.
 */
static int ioas_unmap(const char *name, bool compat, uint32_t ioas_id,
		      uint64_t iova, uint64_t length, uint64_t *unmapped)
{
	struct fake_ioas *ioas = ioas_get(ioas_id);
	uint64_t last = iova + length - 1, done = 0;
	int rc = call(name), i;

	*unmapped = 0;
	if (rc)
		return rc;
	if (!ioas)
		return -ENOENT;
	if (!length)
		return -EINVAL;
	for (i = 0; i < ioas->narea; i++) {
		struct fake_area *a = &ioas->area[i];
		uint64_t alast = a->iova + a->length - 1;

		if (alast < iova || a->iova > last)
			continue;
		if (a->iova < iova || alast > last)
			return -ENOENT;
	}
	for (i = 0; i < ioas->narea;) {
		struct fake_area *a = &ioas->area[i];

		if (a->iova >= iova && a->iova + a->length - 1 <= last) {
			done += a->length;
			if (fake.domain)
				fake.pinned -= a->length;
			*a = ioas->area[--ioas->narea];
		} else {
			i++;
		}
	}
	if (!done)
		return compat ? 0 : -ENOENT;
	*unmapped = done;
	return 0;
}

int iommufd_ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova,
		       uint64_t length, uint64_t *unmapped)
{
	(void)fd;
	return ioas_unmap("IOAS_UNMAP", false, ioas_id, iova, length, unmapped);
}

/* The compat entry works on the fd's compat IOAS. */
int iommufd_compat_map_dma(int fd, const struct vfio_iommu_type1_dma_map *map)
{
	uint32_t f = 0;

	(void)fd;
	if (map->argsz < 32 || map->flags & ~(uint32_t)(VFIO_DMA_MAP_FLAG_READ |
							VFIO_DMA_MAP_FLAG_WRITE))
		return call("compat MAP_DMA") ?: -EINVAL;
	if (map->flags & VFIO_DMA_MAP_FLAG_READ)
		f |= IOMMU_IOAS_MAP_READABLE;
	if (map->flags & VFIO_DMA_MAP_FLAG_WRITE)
		f |= IOMMU_IOAS_MAP_WRITEABLE;
	if (!fake.compat_ioas)
		return call("compat MAP_DMA") ?: -ENODEV;
	return ioas_map("compat MAP_DMA", fake.compat_ioas, f, map->vaddr,
			map->size, map->iova);
}

int iommufd_compat_unmap_dma(int fd, struct vfio_iommu_type1_dma_unmap *unmap)
{
	uint64_t done;
	int rc;

	(void)fd;
	if (unmap->argsz < 24 || unmap->flags) {
		unmap->size = 0;
		return call("compat UNMAP_DMA") ?: -EINVAL;
	}
	if (!fake.compat_ioas) {
		unmap->size = 0;
		return call("compat UNMAP_DMA") ?: -ENODEV;
	}
	rc = ioas_unmap("compat UNMAP_DMA", true, fake.compat_ioas, unmap->iova,
			unmap->size, &done);
	unmap->size = done;
	return rc;
}

int iommufd_ioas_iova_ranges(int fd, uint32_t ioas_id,
			     struct iommufd_range *ranges, uint32_t *num,
			     uint64_t *alignment)
{
	struct iommufd_range out[FAKE_MAX_RESV + 1];
	uint32_t n = 0, i;
	uint64_t start = 0;
	int rc = call("IOAS_IOVA_RANGES");

	(void)fd;
	if (rc)
		return rc;
	if (!ioas_get(ioas_id))
		return -ENOENT;
	if (!fake.domain) {
		out[n].start = 0;
		out[n++].last = UINT64_MAX;
		*alignment = 1;
	} else {
		for (i = 0; i < (uint32_t)fake.nresv; i++) {
			out[n].start = start;
			out[n++].last = fake.resv[i].start - 1;
			start = fake.resv[i].last + 1;
		}
		out[n].start = start;
		out[n++].last = fake.aperture_last;
		*alignment = 4096;
	}
	if (*num < n) {
		*num = n;
		return -EMSGSIZE;
	}
	memcpy(ranges, out, n * sizeof(*out));
	*num = n;
	return 0;
}

int iommufd_compat_pgsizes(int fd, uint64_t *pgsizes)
{
	int rc = call("compat GET_INFO");

	(void)fd;
	if (rc)
		return rc;
	*pgsizes = fake.domain ? 0x40201000ull : 0xfffffffffffff000ull;
	return 0;
}

int iommufd_compat_cache_coherent(int fd)
{
	(void)fd;
	return call("compat CHECK_EXTENSION") ?: 1;
}

/* ---- VFIO groups ---------------------------------------------------- */

int vfiodev_group_number(int group_fd)
{
	return group_fd - FAKE_GROUP_FD_BASE;
}

int vfiodev_open_any_device(int group_fd, int group_no)
{
	int rc = call("GET_DEVICE_FD(attach)");

	(void)group_fd;
	(void)group_no;
	if (rc)
		return rc;
	if (fake.attach_errno)
		return -fake.attach_errno;
	fake.domain++;
	fake.attach_fd = fake.next_fd++;
	return fake.attach_fd;
}

int vfiodev_group_get_device_fd(int group_fd, const char *name)
{
	int rc = call("GET_DEVICE_FD");

	(void)group_fd;
	(void)name;
	if (rc)
		return rc;
	fake.device_fds++;
	return fake.next_fd++;
}

int vfiodev_group_set_container(int group_fd, int container_fd)
{
	int rc = call("SET_CONTAINER");

	(void)group_fd;
	(void)container_fd;
	if (rc)
		return rc;
	fake.groups_set++;
	return 0;
}

int vfiodev_group_unset_container(int group_fd)
{
	int rc = call("UNSET_CONTAINER");

	(void)group_fd;
	if (rc)
		return rc;
	fake.groups_set--;
	return 0;
}

int vfiodev_group_released(int group_no)
{
	(void)group_no;
	return fake.released;
}

/* The fake has no devices, so no BARs to export (a kernel before 6.19). */
int vfiodev_bar_at(int device_fd, uint64_t offset, uint64_t len,
		   uint32_t *index, uint64_t *bar_offset)
{
	(void)device_fd;
	(void)offset;
	(void)len;
	(void)index;
	(void)bar_offset;
	return -ENOENT;
}

int vfiodev_feature_dma_buf(int device_fd, uint32_t index, uint64_t offset,
			    uint64_t len)
{
	(void)device_fd;
	(void)index;
	(void)offset;
	(void)len;
	return -ENOTTY;
}

/* Only the program's memfd maps (no dma-buf in the fake); its offset is its vaddr. */
int iommufd_ioas_map_file(int fd, uint32_t ioas_id, int file_fd,
			  uint64_t start, uint64_t length, uint64_t iova,
			  bool writeable)
{
	(void)fd;
	if (!fake.change_process)
		return call("IOAS_MAP_FILE") ?: -ENOTTY;
	if (!fake.shmem_fd || file_fd != fake.shmem_fd)
		return call("IOAS_MAP_FILE") ?: -EBADF;
	return ioas_map("IOAS_MAP_FILE", ioas_id,
			FAKE_AREA_FILE | IOMMU_IOAS_MAP_READABLE |
				(writeable ? IOMMU_IOAS_MAP_WRITEABLE : 0),
			start, length, iova);
}

/* Every IOAS of the fd: only files' pages move. */
int iommufd_ioas_change_process(int fd)
{
	int rc = call("IOAS_CHANGE_PROCESS"), i, j;

	(void)fd;
	if (rc)
		return rc;
	if (!fake.change_process)
		return -ENOTTY;
	for (i = 0; i < fake.nioas; i++)
		for (j = 0; j < fake.ioas[i].narea; j++)
			if (!(fake.ioas[i].area[j].flags & FAKE_AREA_FILE))
				return -EINVAL;
	if (fake.change_process_errno)
		return -fake.change_process_errno;
	fake.change_processes++;
	return 0;
}

bool iommufd_has_change_process(int fd)
{
	(void)fd;
	return fake.change_process;
}

int fileid_shmem(int fd, struct fileid *id)
{
	if (!fake.shmem_fd || fd != fake.shmem_fd)
		return 0;
	id->dev = 1;
	id->ino = (uint64_t)fd;
	return 1;
}

int fileid_same(int fd, const struct fileid *id)
{
	return fake.shmem_fd && fd == fake.shmem_fd && id->dev == 1 &&
			       id->ino == (uint64_t)fd ?
		       0 :
		       -ENOENT;
}

void vfiodev_close(int fd)
{
	if (fd == fake.attach_fd && fake.domain)
		fake.domain--;
}

uint64_t fake_mapped_bytes(uint32_t ioas_id)
{
	struct fake_ioas *ioas = ioas_get(ioas_id);
	uint64_t n = 0;
	int i;

	for (i = 0; ioas && i < ioas->narea; i++)
		n += ioas->area[i].length;
	return n;
}

const struct fake_ioas *fake_ioas(uint32_t ioas_id)
{
	return ioas_get(ioas_id);
}

uint64_t record_bytes(const struct maptree *t)
{
	const struct mapping *m;
	uint64_t n = 0;

	for (m = maptree_first_from(t, 0); m; m = maptree_next(t, m))
		n += m->size;
	return n;
}
