/* SPDX-License-Identifier: MIT */
/*
 * Recognising the container by name: the spellings of /dev/vfio/vfio that
 * open() may get, and the /proc/self/fd/N (or /dev/fd/N) names of our
 * container fds that readlink() may get. No libc names defined here and no
 * errno kept: the interposer decides what to do with the answer.
 */
#ifndef SHIM_PATH_H
#define SHIM_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONTAINER_PATH "/dev/vfio/vfio"

/* Collapse "//", "/./", "/../" of an absolute path in place (no symlinks). */
void path_normalize(char *p);

/*
 * path as an absolute name: relative ones under the cwd (AT_FDCWD) or under
 * what dirfd names. 0, or -1 when it cannot be said or does not fit in len.
 */
int path_absolute(int dirfd, const char *path, char *buf, size_t len);

/* Cheap, for every path: only names ending in "vfio" can be the container. */
static inline bool path_may_be_container(const char *path, size_t *n)
{
	if (!path)
		return false;
	*n = __builtin_strlen(path);
	return *n >= 4 && !__builtin_memcmp(path + *n - 4, "vfio", 4);
}

/* Any spelling of /dev/vfio/vfio, or another name of its device (10:196). */
bool path_names_container(int dirfd, const char *path);

/* Cheap, for every path: only names ending in a digit can be a group. */
static inline bool path_may_be_group(const char *path)
{
	size_t n;

	if (!path)
		return false;
	n = __builtin_strlen(path);
	return n && path[n - 1] >= '0' && path[n - 1] <= '9';
}

/*
 * The group number N when path is a spelling of /dev/vfio/N, -2 when it
 * names one of our group fds through /proc (or /dev/fd), else -1.
 */
int path_names_group(int dirfd, const char *path);

/* N when path names fd N of process pid through /proc or /dev/fd, else -1. */
int proc_fd_number(const char *path, pid_t pid);

/*
 * path (or a bare number under dirfd, /proc/<us>/fd) names our container or
 * one of our group fds: that fd, else -1.
 */
int proc_names_ours(int dirfd, const char *path);

/* What readlink() of our container reads: the name the caller opened. */
ssize_t container_link(char *buf, size_t len);

/*
 * What readlink() of that fd reads: the name the caller opened,
 * /dev/vfio/vfio or /dev/vfio/N.
 */
ssize_t ours_link(int fd, char *buf, size_t len);

#endif /* SHIM_PATH_H */
