/* SPDX-License-Identifier: MIT */
/*
 * The type1 test library: what every test program that talks to a VFIO
 * container needs, written once.  Plain C against <linux/vfio.h> only, like
 * the legacy programs the tests stand in for; nothing of the shim's
 * internals, so the unit tests can use it over the fake kernel too (see
 * vt_route_ioctl()).
 *
 * Calls follow libc's convention (-1 and errno), as the programs under test
 * see them; VT_DO() and VT_NEG() capture the errno.
 */
#ifndef VFIOTEST_H
#define VFIOTEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/vfio.h>

/* ---- errno capture ---- */

/* A call's result and its errno, captured right after it. */
struct vt_res {
	long rc;
	int err;
};

/*
 * Evaluate @expr and capture errno before anything else can clobber it
 * (never in an argument list).  errno is cleared first, so a success never
 * reports a stale value.
 */
#define VT_DO(expr)                                                           \
	({                                                                    \
		errno = 0;                                                    \
		long _vt_rc = (long)(expr);                                   \
		int _vt_e = errno;                                            \
		(struct vt_res){.rc = _vt_rc, .err = _vt_rc < 0 ? _vt_e : 0}; \
	})

/* @expr's result, or -errno when it failed: the kernel's ">= 0 or -errno". */
#define VT_NEG(expr)                                \
	({                                          \
		long _vt_rc = (long)(expr);         \
		_vt_rc < 0 ? -(long)errno : _vt_rc; \
	})

/* ---- ok/FAIL lines ---- */

/* Failed VT_CHECKs so far in this process. */
extern int vt_failures;

/* Print "ok: <what>" or "FAIL: <what>" (flushed: the programs fork). */
#define VT_CHECK(cond, ...)                             \
	do {                                            \
		int _vt_ok = !!(cond);                  \
		printf("%s: ", _vt_ok ? "ok" : "FAIL"); \
		printf(__VA_ARGS__);                    \
		printf("\n");                           \
		fflush(stdout);                         \
		vt_failures += !_vt_ok;                 \
	} while (0)

/* ---- where the ioctls go ---- */

/* An ioctl with the kernel's contract: >= 0 or -errno. */
typedef long (*vt_ioctl_fn)(int fd, unsigned long req, void *arg);

/*
 * Route every ioctl of this library through @fn instead of ioctl(2) (NULL:
 * back to ioctl(2)), so that tests without a kernel (the unit tests over the
 * fake kernel) can use the same helpers.
 */
void vt_route_ioctl(vt_ioctl_fn fn);
/* ioctl(2), or the routed function: -1 and errno on failure. */
int vt_ioctl(int fd, unsigned long req, void *arg);

/* ---- devices under test: the guest's edu and e1000e (tests/vm) ---- */

/* $VM_EDU_GROUP, or the IOMMU group of $VM_EDU_BDF from sysfs; -1 if none. */
int vt_edu_group(void);
const char *vt_edu_bdf(void); /* $VM_EDU_BDF, or NULL */
int vt_nic_group(void);	      /* the same for VM_NIC_GROUP/VM_NIC_BDF */
const char *vt_nic_bdf(void);
/* The IOMMU group of the PCI device @bdf (sysfs), or -1. */
int vt_group_of_bdf(const char *bdf);

/* ---- edu as a DMA engine (QEMU hw/misc/edu.c) ---- */

/* edu's 4 KiB DMA buffer in its own address space */
#define VT_EDU_BUF 0x40000ULL
/*
 * Keep transfers below 4 KiB: QEMU 7.2's edu aborts on one that ends at the
 * end of its buffer.  IOVAs stay below 256 MiB (edu's 28-bit DMA mask).
 */

struct vt_edu {
	int fd; /* the device fd (not owned) */
	volatile uint8_t *bar0;
	size_t bar0_size;
	uint64_t cfg_off; /* offset of the config region in the device fd */
};

/* Find the config region and mmap BAR0 of the edu device @device_fd: 0 or -1. */
int vt_edu_open(struct vt_edu *e, int device_fd);
/* PCI_COMMAND |= @set, &= ~@clear (both 0: read only); the result in @now. */
int vt_edu_command(struct vt_edu *e, uint16_t set, uint16_t clear,
		   uint16_t *now);
/*
 * One transfer of @len bytes, @src -> @dst (RAM -> edu, or edu -> RAM with
 * @to_ram), waited for: 0, or -1 with ETIMEDOUT when edu stays busy 10 s.
 */
int vt_edu_dma(struct vt_edu *e, uint64_t src, uint64_t dst, uint32_t len,
	       int to_ram);
/* munmap BAR0 (the device fd stays open). */
void vt_edu_close(struct vt_edu *e);

/* ---- the container ioctls, one helper each ---- */

/* $@var if set and not empty, else /dev/vfio/vfio. */
const char *vt_container_path(const char *var);
int vt_open_container(const char *path, int flags);
/* open("/dev/vfio/@group", @flags) */
int vt_open_group(int group, int flags);
int vt_group_set_container(int group_fd, int container);
int vt_group_unset_container(int group_fd);
/* VFIO_GROUP_GET_STATUS: the flags into @flags; 0 or -1 */
int vt_group_get_status(int group_fd, uint32_t *flags);
/* the device fd, or -1 */
int vt_group_get_device_fd(int group_fd, const char *bdf);
int vt_get_api_version(int container);
int vt_check_extension(int container, unsigned long ext);
int vt_set_iommu(int container, unsigned long type);

/* VFIO_IOMMU_MAP_DMA with a full argsz: 0 or -1. */
int vt_dma_map(int container, uint64_t iova, uint64_t size, const void *vaddr,
	       uint32_t flags);
/* VFIO_IOMMU_UNMAP_DMA: 0 or -1; the size type1 wrote back into @unmapped. */
int vt_dma_unmap(int container, uint64_t iova, uint64_t size, uint32_t flags,
		 uint64_t *unmapped);
#define VT_RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/*
 * VFIO_IOMMU_GET_INFO into @buf, whose first @argsz bytes are zeroed first
 * (the header's argsz is set to @argsz): 0 or -1.
 */
int vt_iommu_get_info(int container, void *buf, uint32_t argsz);
/* The IOMMU page sizes GET_INFO reports, or 0 when it fails. */
uint64_t vt_iommu_pgsizes(int container);

/* ---- a container as a program sets one up ---- */

struct vt_container {
	int container; /* fds, -1 when not open */
	int group;
	int device;
	int flags;	    /* open flags of the container and group */
	const char *failed; /* the step that failed, for the message */
};

/*
 * Open the container at @path with @flags and check its API version (the
 * first steps of the VFIO documentation's example).  0, or -1 with errno
 * and ->failed set.  Whatever was opened stays for vt_container_close().
 */
int vt_container_init(struct vt_container *v, const char *path, int flags);
/*
 * Open IOMMU group @group with the container's flags, check it is viable,
 * VFIO_GROUP_SET_CONTAINER, then VFIO_SET_IOMMU(@type).  0, or -1 with
 * errno and ->failed set.
 */
int vt_container_attach(struct vt_container *v, int group, unsigned long type);
/* Both of the above. */
int vt_container_setup(struct vt_container *v, const char *path, int flags,
		       int group, unsigned long type);
/* VFIO_GROUP_GET_DEVICE_FD(@bdf) into ->device: 0, or -1 with ->failed. */
int vt_container_open_device(struct vt_container *v, const char *bdf);
/* Close the device, unset and close the group, close the container. */
void vt_container_close(struct vt_container *v);

/* ---- the capability chain of a GET_INFO reply ---- */

/* Unaligned reads out of a reply buffer. */
static inline uint16_t vt_rd16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t vt_rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t vt_rd64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* At most this many caps are walked: a chain is never trusted to end. */
#define VT_INFO_MAX_CAPS 8

/*
 * Walking the chain of struct vfio_info_cap_header by cap_offset/next:
 *
 *	struct vt_caps it;
 *
 *	for (vt_caps_init(&it, buf, len); vt_caps_next(&it);)
 *		use it.off, it.id, it.version, it.next;
 *
 * The walk ends at next == 0, at a cap that is not past the previous one,
 * that overlaps the header or does not fit in @len, and after
 * VT_INFO_MAX_CAPS caps.  A reply without VFIO_IOMMU_INFO_CAPS has none.
 */
struct vt_caps {
	const uint8_t *buf;
	size_t len;
	uint32_t off; /* this cap's offset in the reply */
	uint16_t id;
	uint16_t version;
	uint32_t next; /* its next field as the kernel wrote it */
	int n;	       /* caps seen so far */
};
void vt_caps_init(struct vt_caps *it, const void *info, size_t len);
int vt_caps_next(struct vt_caps *it);
/*
 * The offset of the first cap with @id (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
 * _CAP_MIGRATION, _DMA_AVAIL) whose @size bytes fit in @len, or 0.
 */
uint32_t vt_info_cap_find(const void *info, size_t len, uint16_t id,
			  size_t size);

/* ---- fds ---- */

/* Entries of /proc/self/fd ("." and ".." included), or -1. */
int vt_count_fds(void);
/* Pass @fd over the unix socket @sock with SCM_RIGHTS (one byte): 0 or -1. */
int vt_send_fd(int sock, int fd);
/* The fd received over @sock, or -1. */
int vt_recv_fd(int sock);

#endif /* VFIOTEST_H */
