/* SPDX-License-Identifier: MIT */
/*
 * Which file a program's fd is, for the mmaps filemap.h notes: the kernel
 * calls (fstatfs, fstat) the shim makes on a program's fd without changing
 * it. Like iommufd.h, >= 0 or -errno; the unit tests link a fake.
 */
#ifndef SHIM_FILEID_H
#define SHIM_FILEID_H

#include <stdint.h>

struct fileid {
	uint64_t dev, ino;
};

/*
 * 1 and the file's identity if fd is a file of tmpfs or hugetlbfs (a memfd,
 * shmem, hugepages: what IOAS_MAP_FILE can pin), 0 for any other file.
 */
int fileid_shmem(int fd, struct fileid *id);
/* 0 if fd is still the file id, else -ENOENT (closed, or another file). */
int fileid_same(int fd, const struct fileid *id);

#endif /* SHIM_FILEID_H */
