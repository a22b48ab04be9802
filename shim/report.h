/* SPDX-License-Identifier: MIT */
/*
 * What a program did with its containers, for VFIOCOMPAT_REPORT: each
 * container request with its count and the errnos returned, how it was
 * served, the listed type1 differences it ran into, peaks. Counted under the
 * shim lock; written as one JSON line per process at exit.
 */
#ifndef SHIM_REPORT_H
#define SHIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>

enum report_diff {
	REPORT_DIFF_VADDR,		/* VFIO_UPDATE_VADDR / VADDR flags refused */
	REPORT_DIFF_NESTING,		/* TYPE1_NESTING answered as type1 >= 6.13 */
	REPORT_DIFF_MEMLOCK_PER_USER,	/* RLIMIT_MODE per-process refused */
	REPORT_DIFF_MAP_EFAULT,		/* MAP_DMA EFAULT: an MMIO/P2P vaddr type1 would map */
	REPORT_DIFF_ADOPTED,		/* a container adopted without its record */
	REPORT_DIFF_VADDR_NOT_REHOMED,	/* a vaddr update left pages charged elsewhere */
	REPORT_DIFF_COUNT,
};

/* Where event lines and the summary go (VFIOCOMPAT_REPORT), or NULL. */
void report_set_file(const char *path);

/* One container request and its result (>= 0 or -errno). */
void report_call(unsigned int cmd, long rc);
void report_difference(enum report_diff d);
void report_fallback(void);
void report_container_opened(void);
/* open("/dev/vfio/N") served over the device cdevs (a group-less kernel) */
void report_cdev_group_opened(void);
/* Mappings and mapped bytes now live in one container. */
void report_mappings(uint32_t count, uint64_t bytes);

/* Forget every count (unit tests). */
void report_reset(void);

/* Append this process's report as one JSON line to path (O_APPEND). */
int report_write(const char *path);
/* Whether anything was counted (a process that never met VFIO writes nothing). */
bool report_used(void);

#endif /* SHIM_REPORT_H */
