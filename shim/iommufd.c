// SPDX-License-Identifier: MIT
/* The iommufd uAPI, one wrapper per ioctl; see iommufd.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "internal.h"
#include "iommufd.h"
#include "libc.h"
#include "log.h"

#define IOMMUFD_PATH "/dev/iommu"

/* errno right after a failed call, or 0; logged with the call. */
__attribute__((format(printf, 2, 3))) static int done(int rc,
						      const char *what, ...)
{
	int err = rc < 0 ? errno : 0;

	if (log_enabled(SHIM_LOG_DEBUG, SHIM_CAT_IOMMUFD)) {
		char b[16], call[128];
		va_list ap;

		va_start(ap, what);
		vsnprintf(call, sizeof(call), what, ap);
		va_end(ap);
		shim_log(SHIM_LOG_DEBUG, SHIM_CAT_IOMMUFD, "  iommufd %s = %s",
			 call, err ? errno_name(err, b) : "0");
	}
	return err ? -err : rc;
}

int iommufd_open(int flags)
{
	/* the access mode, O_CLOEXEC and O_APPEND (a container's mark) */
	int fd = real.openat(AT_FDCWD, IOMMUFD_PATH,
			     (flags & (O_ACCMODE | O_CLOEXEC | O_APPEND)) |
				     O_NOCTTY);

	return done(fd, "%s", "open(" IOMMUFD_PATH ")");
}

void iommufd_close(int fd)
{
	real.close(fd);
}

int iommufd_status_flags(int fd)
{
	int flags = real.fcntl(fd, F_GETFL);

	return flags < 0 ? -errno : flags;
}

bool iommufd_fd_is_iommufd(int fd)
{
	/* looked up once; threads may race to store the same value */
	static _Atomic dev_t cached;
	dev_t iommu_rdev = atomic_load_explicit(&cached, memory_order_relaxed);
	struct stat st;
	int saved = errno;
	bool ok;

	if (!iommu_rdev) {
		struct stat dev;

		if (stat(IOMMUFD_PATH, &dev) == 0 && S_ISCHR(dev.st_mode)) {
			iommu_rdev = dev.st_rdev;
			atomic_store_explicit(&cached, iommu_rdev,
					      memory_order_relaxed);
		}
	}
	ok = iommu_rdev && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	     st.st_rdev == iommu_rdev;
	errno = saved;
	return ok;
}

int iommufd_ioas_alloc(int fd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc = done(real.ioctl(fd, tagged(IOMMU_IOAS_ALLOC), &cmd), "IOAS_ALLOC");

	if (!rc)
		*ioas_id = cmd.out_ioas_id;
	return rc;
}

int iommufd_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return done(real.ioctl(fd, tagged(IOMMU_DESTROY), &cmd), "DESTROY");
}

int iommufd_option_rlimit_mode(int fd, uint64_t mode)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = mode,
	};

	return done(real.ioctl(fd, tagged(IOMMU_OPTION), &cmd), "OPTION(RLIMIT_MODE)");
}

int iommufd_vfio_ioas(int fd, uint16_t op, uint32_t *ioas_id)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.ioas_id = *ioas_id,
		.op = op,
	};
	int rc = done(real.ioctl(fd, tagged(IOMMU_VFIO_IOAS), &cmd), "VFIO_IOAS");

	if (!rc && op == IOMMU_VFIO_IOAS_GET)
		*ioas_id = cmd.ioas_id;
	return rc;
}

int iommufd_ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova,
		       uint64_t length, uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int rc = done(real.ioctl(fd, tagged(IOMMU_IOAS_UNMAP), &cmd),
		      "IOAS_UNMAP(ioas=%u iova=%#llx length=%#llx)", ioas_id,
		      (unsigned long long)iova, (unsigned long long)length);

	*unmapped = rc ? 0 : cmd.length;
	return rc;
}

int iommufd_ioas_iova_ranges(int fd, uint32_t ioas_id,
			     struct iommufd_range *ranges, uint32_t *num,
			     uint64_t *alignment)
{
	/* struct iommufd_range has the layout of struct iommu_iova_range */
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int rc = done(real.ioctl(fd, tagged(IOMMU_IOAS_IOVA_RANGES), &cmd),
		      "IOAS_IOVA_RANGES");

	if (!rc || rc == -EMSGSIZE) {
		*num = cmd.num_iovas;
		*alignment = cmd.out_iova_alignment;
	}
	return rc;
}

/* ---- the shared record's key on the container's file description ---- */

static int key_lock(int fd, int cmd, short type, uint64_t start, uint64_t len,
		    struct flock *out)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)start,
		.l_len = (off_t)len,
	};
	int rc = real.fcntl(fd, cmd, &fl);

	if (out)
		*out = fl;
	return rc < 0 ? -errno : 0;
}

int iommufd_key_set(int fd, uint64_t key)
{
	int mode = iommufd_status_flags(fd);

	if (mode < 0)
		return mode;
	/* a read lock needs the fd readable, a write lock writable */
	return done(key_lock(fd, F_OFD_SETLK,
			     (mode & O_ACCMODE) == O_WRONLY ? F_WRLCK : F_RDLCK,
			     key, 1, NULL),
		    "OFD_SETLK(key %#llx)", (unsigned long long)key);
}

void iommufd_key_clear(int fd, uint64_t key)
{
	key_lock(fd, F_OFD_SETLK, F_UNLCK, key, 1, NULL);
}

int iommufd_key_get(int fd, uint64_t *key)
{
	uint64_t at = IOMMUFD_KEY_BIT;
	struct flock fl;
	int n;

	/* every key lock on the device, lowest first; ours is the one that
	 * does not conflict with our own file description */
	for (n = 0; n < 4096 && at < 2 * IOMMUFD_KEY_BIT; n++) {
		if (key_lock(fd, F_GETLK, F_WRLCK, at,
			     2 * IOMMUFD_KEY_BIT - at, &fl) ||
		    fl.l_type == F_UNLCK)
			break;
		if ((uint64_t)fl.l_start > at)
			at = (uint64_t)fl.l_start;
		if (fl.l_len == 1 && (uint64_t)fl.l_start == at &&
		    !key_lock(fd, F_OFD_GETLK, F_WRLCK, at, 1, &fl) &&
		    fl.l_type == F_UNLCK) {
			*key = at;
			return 0;
		}
		at++;
	}
	return -ENOENT;
}

bool iommufd_key_held(int fd, uint64_t key)
{
	struct flock fl;

	if (key_lock(fd, F_GETLK, F_WRLCK, key, 1, &fl))
		return true;	/* cannot tell: keep the file */
	return fl.l_type != F_UNLCK;
}

_Static_assert(sizeof(struct iommufd_range) == sizeof(struct iommu_iova_range),
	       "range layout");

int iommufd_compat_pgsizes(int fd, uint64_t *pgsizes)
{
	struct vfio_iommu_type1_info info = {
		.argsz = offsetof(struct vfio_iommu_type1_info, cap_offset),
	};
	int rc = done(real.ioctl(fd, tagged(VFIO_IOMMU_GET_INFO), &info),
		      "compat GET_INFO");

	if (!rc)
		*pgsizes = info.iova_pgsizes;
	return rc;
}

/* done() for the hot path's calls, out of line: their error or their trace. */
static __attribute__((noinline, cold)) int
done_compat(int ret, const char *what, uint64_t iova, uint64_t size)
{
	int rc = ret < 0 ? -errno : ret;

	if (log_enabled(SHIM_LOG_DEBUG, SHIM_CAT_IOMMUFD)) {
		char b[16];

		shim_log(SHIM_LOG_DEBUG, SHIM_CAT_IOMMUFD,
			 "  iommufd compat %s(iova=%#llx size=%#llx) = %s",
			 what, (unsigned long long)iova,
			 (unsigned long long)size,
			 rc ? errno_name(-rc, b) : "0");
	}
	return rc;
}

SHIM_HOT int iommufd_compat_map_dma(int fd,
				    const struct vfio_iommu_type1_dma_map *map)
{
	int ret = real.ioctl(fd, tagged(VFIO_IOMMU_MAP_DMA), map);

	if (ret < 0 || log_enabled(SHIM_LOG_DEBUG, SHIM_CAT_IOMMUFD))
		return done_compat(ret, "MAP_DMA", map->iova, map->size);
	return ret;
}

SHIM_HOT int iommufd_compat_unmap_dma(int fd,
				      struct vfio_iommu_type1_dma_unmap *unmap)
{
	int ret = real.ioctl(fd, tagged(VFIO_IOMMU_UNMAP_DMA), unmap);

	if (ret < 0 || log_enabled(SHIM_LOG_DEBUG, SHIM_CAT_IOMMUFD)) {
		ret = done_compat(ret, "UNMAP_DMA", unmap->iova, unmap->size);
		if (ret)
			unmap->size = 0;
	}
	return ret;
}

int iommufd_compat_cache_coherent(int fd)
{
	return done(real.ioctl(fd, tagged(VFIO_CHECK_EXTENSION), VFIO_DMA_CC_IOMMU),
		    "compat CHECK_EXTENSION(DMA_CC)");
}

/* ---- IOMMU_IOAS_MAP_FILE (6.13; a VFIO PCI dma-buf since 6.19) --------- */

/*
 * The uAPI struct, spelled here because the build's headers may predate it
 * (command 0x8f of the ';' type, 40 bytes).
 */
struct ioas_map_file_cmd {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	uint64_t start;
	uint64_t length;
	uint64_t iova;
};
_Static_assert(sizeof(struct ioas_map_file_cmd) == 40, "map_file layout");

#define SHIM_IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, 0x8f)

int iommufd_ioas_map_file(int fd, uint32_t ioas_id, int file_fd,
			  uint64_t start, uint64_t length, uint64_t iova,
			  bool writeable)
{
	struct ioas_map_file_cmd cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 (writeable ? IOMMU_IOAS_MAP_WRITEABLE : 0),
		.ioas_id = ioas_id,
		.fd = file_fd,
		.start = start,
		.length = length,
		.iova = iova,
	};

	return done(real.ioctl(fd, tagged(SHIM_IOMMU_IOAS_MAP_FILE), &cmd),
		    "IOAS_MAP_FILE(fd=%d iova=%#llx length=%#llx)", file_fd,
		    (unsigned long long)iova, (unsigned long long)length);
}

/* ---- IOMMU_IOAS_CHANGE_PROCESS (6.13) ----------------------------------- */

/* The uAPI struct (command 0x92 of the ';' type, 8 bytes), as above. */
struct ioas_change_process_cmd {
	uint32_t size;
	uint32_t reserved;
};
_Static_assert(sizeof(struct ioas_change_process_cmd) == 8,
	       "change_process layout");

#define SHIM_IOMMU_IOAS_CHANGE_PROCESS _IO(IOMMUFD_TYPE, 0x92)

int iommufd_ioas_change_process(int fd)
{
	struct ioas_change_process_cmd cmd = { .size = sizeof(cmd) };

	return done(real.ioctl(fd, tagged(SHIM_IOMMU_IOAS_CHANGE_PROCESS), &cmd),
		    "IOAS_CHANGE_PROCESS");
}

bool iommufd_has_change_process(int fd)
{
	/* size 0 is below every command's minimum: EINVAL, and nothing done */
	struct ioas_change_process_cmd cmd = { .size = 0 };
	int rc = real.ioctl(fd, tagged(SHIM_IOMMU_IOAS_CHANGE_PROCESS), &cmd);

	return rc < 0 && errno == EINVAL;
}
