/* SPDX-License-Identifier: MIT */
/* The fake kernel's state, for unit tests to arrange and to inspect. */
#ifndef FAKE_KERNEL_H
#define FAKE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "iommufd.h"

#define FAKE_FD_BASE 1000
#define FAKE_GROUP_FD_BASE 900	/* group fd 903 is group 3 */
#define FAKE_MAX_IOAS 8
#define FAKE_MAX_AREAS 70000
#define FAKE_MAX_RESV 4
#define FAKE_JOURNAL 64
#define FAKE_MAX_KEYS 64

/* fake_area.flags: mapped by IOAS_MAP_FILE */
#define FAKE_AREA_FILE 0x80000000u

struct fake_area {
	uint64_t iova, length, vaddr;
	uint32_t flags;
};

struct fake_ioas {
	uint32_t id;
	int narea;
	struct fake_area area[FAKE_MAX_AREAS];
};

struct fake_state {
	/* arranged by tests */
	bool no_iommufd;
	bool deny_rlimit_mode;
	int foreign_iommufd;	/* opened by the program itself: no mark */
	int attach_errno;
	int released;
	unsigned int fail_nth;	/* 1-based call number to fail, 0 none */
	int fail_errno;
	uint64_t pinned_limit;	/* 0: no memlock limit */
	struct iommufd_range resv[FAKE_MAX_RESV];
	int nresv;
	uint64_t aperture_last;
	bool change_process;	/* 6.13+: IOAS_MAP_FILE, IOAS_CHANGE_PROCESS */
	int change_process_errno;	/* what CHANGE_PROCESS of files answers */
	int shmem_fd;		/* a memfd of the program (fileid.h), 0 none */
	/* kernel state */
	int change_processes;	/* CHANGE_PROCESS calls that moved pages */
	int next_fd;
	uint32_t next_id;
	uint32_t compat_ioas;
	uint64_t rlimit_mode;
	int domain;		/* devices attached: the IOAS has a domain */
	int attach_fd;
	int device_fds;
	int groups_set;
	int closed_iommufds;
	uint64_t pinned;
	/* the shared record's key each fd's file description holds (0: none) */
	uint64_t key[FAKE_MAX_KEYS];
	struct fake_ioas ioas[FAKE_MAX_IOAS];
	int nioas;
	/* journal: every call counted; the last FAKE_JOURNAL named */
	unsigned int calls;
	const char *journal[FAKE_JOURNAL];
};

extern struct fake_state fake;

void fake_reset(void);
uint64_t fake_mapped_bytes(uint32_t ioas_id);
/* Bytes in the shim's record, to hold against fake_mapped_bytes(). */
struct maptree;
uint64_t record_bytes(const struct maptree *t);
const struct fake_ioas *fake_ioas(uint32_t ioas_id);
/*
 * The kernel calls made since fake.calls was mark, by name, comma-separated
 * ("compat MAP_DMA, IOAS_UNMAP"); "" for none. Static buffer.
 */
const char *fake_calls_since(unsigned int mark);

#endif /* FAKE_KERNEL_H */
