/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the type1 conformance programs.
 *
 * The programs talk to the VFIO container API exactly as a legacy
 * application would.  Every observation is printed as one canonical line
 *
 *	<case> <call>(<args>) = <rc> <ERRNO> [<field>=<value> ...]
 *
 * so that three runs (real type1, the kernel's iommufd compat, the shim)
 * can be diffed line by line.  Nothing that varies between runs (pointers,
 * fd numbers, timing) may appear in a line: user addresses are printed
 * relative to named buffers, fds as "fd".
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfiotest.h"	/* struct vt_res, VT_DO(), the container calls */

/* ---- case names ---- */

/* The current prefix, e.g. "t2.unmap"; case names are "<prefix>.<name>". */
void conf_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *conf_get_prefix(void);

/* ---- output ---- */

/*
 * Print one line.  @call is the call with its arguments, @r its result;
 * @is_fd prints a non-negative rc as "fd".  @extra (printf format) adds
 * the output fields.
 */
void out(const char *name, const char *call, struct vt_res r, int is_fd,
	 const char *extra, ...) __attribute__((format(printf, 5, 6)));
/* A line that is not a call (a derived observation, e.g. "data=match"). */
void note(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *errname(int err);

/* ---- a growable string for building argument/field text ---- */
struct sbuf {
	char s[4096];
	size_t n;
};
void sb_init(struct sbuf *b);
void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- named buffers: user addresses are printed as NAME+0xOFF ---- */
void *buf_new(const char *name, size_t len, int prot);
/*
 * A memfd of len bytes mapped MAP_SHARED read-write (QEMU's guest RAM with
 * memory-backend-memfd share=on), its pages faulted in; *fd gets the memfd.
 */
void *buf_new_memfd(const char *name, size_t len, int *fd);
/* Another MAP_SHARED mapping of memfd fd from offset off, named name. */
void *buf_map_memfd(const char *name, int fd, size_t len, off_t off);
/* Name memory the program did not allocate with buf_new (e.g. an mmapped BAR). */
void buf_register(const char *name, const void *p, size_t len);
void buf_forget_all(void);
/* "A+0x1000", or the raw value in hex when it lies in no named buffer. */
const char *va_name(uint64_t va, char *tmp, size_t n);

/* Byte ranges that differ between @a and @b, as "[0-3,8-15]" or "none". */
void diff_ranges(const void *a, const void *b, size_t n, char *out, size_t outn);

/* ---- the container and group as every case opens them ---- */
int open_container(void);	/* CONF_CONTAINER, default /dev/vfio/vfio; O_CLOEXEC */
int open_group(int group);	/* /dev/vfio/<group>, O_CLOEXEC */

/* ---- type1 ioctls that print their canonical line ---- */
struct vt_res p_map(const char *name, int c, uint32_t argsz, uint32_t flags,
		 uint64_t vaddr, uint64_t iova, uint64_t size);
/* Plain RW map with full argsz. */
struct vt_res p_map_rw(const char *name, int c, void *va, uint64_t iova, uint64_t size);
/* Unmap; the written-back size is returned through @out_size (may be NULL). */
struct vt_res p_unmap(const char *name, int c, uint32_t argsz, uint32_t flags,
		   uint64_t iova, uint64_t size, uint64_t *out_size);
struct vt_res p_unmap_simple(const char *name, int c, uint64_t iova, uint64_t size);
struct vt_res p_unmap_all(const char *name, int c);
struct vt_res p_ext(const char *name, int c, unsigned long ext);
struct vt_res p_set_iommu(const char *name, int c, unsigned long type);
struct vt_res p_set_container(const char *name, int g, int c);
struct vt_res p_unset_container(const char *name, int g);
/*
 * GET_INFO with the given argsz into a pattern-filled buffer (run twice with
 * two patterns so that bytes written with the pattern value are still seen),
 * printing written ranges, header and decoded caps.  Returns the argsz the
 * kernel reported (0 on failure) through @want.
 */
struct vt_res p_info(const char *name, int c, uint32_t argsz, uint32_t *want);
/* GET_INFO and print only the DMA_AVAIL cap (for the entry-limit cases). */
struct vt_res p_avail(const char *name, int c);

/* Stage a container: open, (group attach), (SET_IOMMU).  Prints setup lines. */
struct stage {
	int c, g, type;
};
enum { ST_OPEN, ST_GROUP, ST_IOMMU };
int stage_up(struct stage *s, int upto, int type);
/* Drop a capability from this process (effective, permitted, inheritable). */
int conf_drop_cap(int cap);
void stage_down(struct stage *s);

/* ---- dirty pages (type1's bitmap: BM_WORDS u64 words, filled first) ---- */
#define BM_WORDS 4
#define PAT 0xa5a5a5a5a5a5a5a5ULL
/* DIRTY_PAGES with only argsz and flags. */
struct vt_res dirty_flags(const char *name, int c, uint32_t argsz, uint32_t flags);
/* DIRTY_PAGES GET_BITMAP; prints the words as type1 left them. */
struct vt_res dirty_get(const char *name, int c, int argsz_delta, uint64_t iova,
			uint64_t size, uint64_t pgsize, uint64_t bmsize, int null_data,
			uint64_t fill);
/* UNMAP_DMA with a vfio_bitmap (GET_DIRTY_BITMAP and its misuses). */
struct vt_res unmap_dirty(const char *name, int c, uint32_t flags, uint64_t iova,
			  uint64_t size, uint64_t pgsize, uint64_t bmsize);

extern const uint32_t RW;
#define PG 0x1000ULL

#endif
