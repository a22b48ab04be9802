// SPDX-License-Identifier: MIT
/* Which file a program's fd is; see fileid.h. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "fileid.h"

int fileid_shmem(int fd, struct fileid *id)
{
	struct statfs fs;
	struct stat st;

	if (fstatfs(fd, &fs) || fstat(fd, &st))
		return -errno;
	if (fs.f_type != TMPFS_MAGIC && fs.f_type != HUGETLBFS_MAGIC)
		return 0;
	if (!S_ISREG(st.st_mode))
		return 0;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 1;
}

int fileid_same(int fd, const struct fileid *id)
{
	struct stat st;

	if (fstat(fd, &st))
		return -ENOENT;
	return st.st_dev == id->dev && st.st_ino == id->ino ? 0 : -ENOENT;
}
