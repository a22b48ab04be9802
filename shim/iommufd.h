/* SPDX-License-Identifier: MIT */
/*
 * One typed wrapper per iommufd ioctl the shim uses, named after the uAPI
 * (IOMMU_IOAS_UNMAP -> iommufd_ioas_unmap()). Each returns 0 (or an fd) or
 * -errno. Nothing here knows about VFIO containers; the unit tests link an
 * in-memory fake of this interface instead (tests/fake/).
 */
#ifndef SHIM_IOMMUFD_H
#define SHIM_IOMMUFD_H

#include <stdbool.h>
#include <stdint.h>

struct iommufd_range {
	uint64_t start;
	uint64_t last;	/* inclusive */
};

/* open("/dev/iommu") with the caller's flags (O_CLOEXEC kept). */
int iommufd_open(int flags);
/* Close an iommufd the shim opened itself. */
void iommufd_close(int fd);
/* Whether fd is an open /dev/iommu (fstat: character device, iommu's rdev). */
bool iommufd_fd_is_iommufd(int fd);
/* The file status flags of an fd (fcntl F_GETFL), or -errno. */
int iommufd_status_flags(int fd);

int iommufd_ioas_alloc(int fd, uint32_t *ioas_id);
int iommufd_destroy(int fd, uint32_t id);
/* IOMMU_OPTION RLIMIT_MODE SET: 1 = per-process accounting (as type1). */
int iommufd_option_rlimit_mode(int fd, uint64_t mode);
/* IOMMU_VFIO_IOAS: op GET (id written back), SET or CLEAR. */
int iommufd_vfio_ioas(int fd, uint16_t op, uint32_t *ioas_id);

/* IOMMU_IOAS_UNMAP; *unmapped gets the length the kernel reports. */
int iommufd_ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova,
		       uint64_t length, uint64_t *unmapped);
/*
 * IOMMU_IOAS_IOVA_RANGES: up to *num ranges into ranges; *num becomes the
 * count (-EMSGSIZE if it did not fit), *alignment the IOAS's iova alignment.
 */
int iommufd_ioas_iova_ranges(int fd, uint32_t ioas_id,
			     struct iommufd_range *ranges, uint32_t *num,
			     uint64_t *alignment);

/*
 * The key of the shim's shared record of a container (record.h), held by the
 * container's file description itself: an open file description lock
 * (F_OFD_SETLK) on one byte at offset key of /dev/iommu, key in
 * [IOMMUFD_KEY_BIT, 2 * IOMMUFD_KEY_BIT). It lives exactly as long as the
 * file description (every dup, fork child, exec'd image and SCM_RIGHTS
 * receiver shares it) and any holder reads it back: F_GETLK from the fd
 * reports every such lock (a POSIX lock owner is never an OFD), and of
 * those only its own does not conflict with an F_OFD_GETLK from the fd.
 * The iommufd state is untouched; a program's own fds carry none.
 */
#define IOMMUFD_KEY_BIT (1ull << 61)
int iommufd_key_set(int fd, uint64_t key);
void iommufd_key_clear(int fd, uint64_t key);
/* The key fd's file description holds: 0, or -ENOENT. */
int iommufd_key_get(int fd, uint64_t *key);
/* Whether some file description of the device holds key. */
bool iommufd_key_held(int fd, uint64_t key);

/*
 * The IOMMU page sizes of the domains attached to the fd's compat IOAS. No
 * native iommufd ioctl reports them, so this asks the kernel's own compat
 * entry on the same fd (VFIO_IOMMU_GET_INFO, whose pgsizes come from the
 * attached domains).
 */
int iommufd_compat_pgsizes(int fd, uint64_t *pgsizes);
/*
 * The kernel's compat VFIO_IOMMU_MAP_DMA / UNMAP_DMA on the fd's compat IOAS
 * (the container's own): the same iopt_map_user_pages() and
 * iopt_unmap_iova() as IOMMU_IOAS_MAP (fixed iova) and IOMMU_IOAS_UNMAP,
 * reached without the ioctl table's struct copy and reply, so the one
 * kernel call of a MAP_DMA or UNMAP_DMA costs what the kernel compat's does.
 * The structs are the shim's own checked copies (flags READ/WRITE for a
 * map, none for an unmap), never the caller's, which another thread could
 * change under the kernel. Unmap: unmap->size becomes what was unmapped;
 * nothing there is 0 with size 0 (IOAS_UNMAP says ENOENT), an area crossing
 * an end is -ENOENT.
 */
struct vfio_iommu_type1_dma_map;
struct vfio_iommu_type1_dma_unmap;
int iommufd_compat_map_dma(int fd, const struct vfio_iommu_type1_dma_map *map);
int iommufd_compat_unmap_dma(int fd, struct vfio_iommu_type1_dma_unmap *unmap);
/* Whether every domain of the compat IOAS enforces cache coherency (compat CHECK_EXTENSION). */
int iommufd_compat_cache_coherent(int fd);

/*
 * IOMMU_IOAS_MAP_FILE at a fixed iova, readable and (writeable) writable:
 * length bytes of file_fd from byte start. The kernel keeps its own
 * reference to the file (a dma-buf since 6.19), so the caller may close it.
 */
int iommufd_ioas_map_file(int fd, uint32_t ioas_id, int file_fd,
			  uint64_t start, uint64_t length, uint64_t iova,
			  bool writeable);

/*
 * IOMMU_IOAS_CHANGE_PROCESS: charge every page the fd's IOASes pin to the
 * calling process (its mm and user) and uncharge the process charged
 * before. -EINVAL if any area is not a file's (IOAS_MAP_FILE): pages pinned
 * from a user address cannot leave the address space they came from. A
 * no-op for the process already charged.
 */
int iommufd_ioas_change_process(int fd);
/*
 * Whether the kernel has IOAS_CHANGE_PROCESS, and with it IOAS_MAP_FILE
 * (both 6.13): a command of size 0 is EINVAL where it exists, ENOTTY where
 * not; nothing is changed either way.
 */
bool iommufd_has_change_process(int fd);

#endif /* SHIM_IOMMUFD_H */
