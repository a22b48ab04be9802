// SPDX-License-Identifier: MIT
/* The container's names; see path.h. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fdtable.h"
#include "libc.h"
#include "path.h"

/* the legacy container's misc device: major 10 (misc), minor 196 (VFIO_MINOR) */
#define CONTAINER_MAJOR 10
#define CONTAINER_MINOR 196

void path_normalize(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		if (in[0] == '.' && (in[1] == '/' || !in[1])) {
			in++;
			continue;
		}
		if (in[0] == '.' && in[1] == '.' && (in[2] == '/' || !in[2])) {
			in += 2;
			while (out > p && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		while (*in && *in != '/')
			*out++ = *in++;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

int path_absolute(int dirfd, const char *path, char *buf, size_t len)
{
	char link[64];
	size_t n = 0;
	ssize_t got;

	if (path[0] != '/') {
		if (len < PATH_MAX + 1)
			return -1;
		if (dirfd == AT_FDCWD) {
			if (!getcwd(buf, PATH_MAX))
				return -1;
		} else {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			got = real.readlink(link, buf, PATH_MAX - 1);
			if (got < 0)
				return -1;
			buf[got] = '\0';
		}
		n = strlen(buf);
		buf[n++] = '/';
	}
	if (strlen(path) >= len - n)
		return -1;
	strcpy(buf + n, path);
	return 0;
}

bool path_names_container(int dirfd, const char *path)
{
	char buf[PATH_MAX * 2];
	struct stat st;

	if (!path_absolute(dirfd, path, buf, sizeof(buf))) {
		path_normalize(buf);
		if (!strcmp(buf, CONTAINER_PATH))
			return true;
	}
	/* any other name of the legacy container device itself */
	return fstatat(dirfd, path, &st, 0) == 0 && S_ISCHR(st.st_mode) &&
	       major(st.st_rdev) == CONTAINER_MAJOR &&
	       minor(st.st_rdev) == CONTAINER_MINOR;
}

int proc_fd_number(const char *path, pid_t pid)
{
	const char *p;
	char *end;
	long fd;

	if (!strncmp(path, "/proc/self/fd/", 14)) {
		p = path + 14;
	} else if (!strncmp(path, "/proc/thread-self/fd/", 21)) {
		p = path + 21;
	} else if (!strncmp(path, "/dev/fd/", 8)) {
		p = path + 8;
	} else if (!strncmp(path, "/proc/", 6)) {
		long n = strtol(path + 6, &end, 10);

		if (end == path + 6 || n != pid || strncmp(end, "/fd/", 4))
			return -1;
		p = end + 4;
	} else {
		return -1;
	}
	fd = strtol(p, &end, 10);
	if (end == p || *end || fd < 0 || fd > INT_MAX)
		return -1;
	return (int)fd;
}

static int names_ours(const char *path)
{
	int fd;

	if (!path ||
	    (strncmp(path, "/proc/", 6) && strncmp(path, "/dev/fd/", 8)))
		return -1;
	fd = proc_fd_number(path, getpid());
	if (fd < 0)
		return -1;
	switch (fdtable_kind(fd)) {
	case SHIM_CONTAINER:
	case SHIM_GROUP:
		return fd;
	default:
		return -1;
	}
}

int proc_names_ours(int dirfd, const char *path)
{
	char link[64], dir[PATH_MAX + 8];
	ssize_t n;

	if (dirfd == AT_FDCWD || !path || path[0] == '/')
		return names_ours(path);
	/* dirfd is /proc/<us>/fd (or /dev/fd) and path a bare number */
	if (path[0] < '0' || path[0] > '9')
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = real.readlink(link, dir, PATH_MAX);
	if (n < 0)
		return -1;
	dir[n] = '\0';
	strcat(dir, "/");
	if (strlen(dir) + strlen(path) >= sizeof(dir))
		return -1;
	strcat(dir, path);
	return names_ours(dir);
}

/* readlink()'s copy: truncated to len, no NUL */
static ssize_t link_copy(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	if (n > len)
		n = len;
	memcpy(buf, name, n);
	return (ssize_t)n;
}

/* SPDK checks that the link reads exactly this. */
ssize_t container_link(char *buf, size_t len)
{
	return link_copy(CONTAINER_PATH, buf, len);
}

/*
 * A container's link is container_link()'s. A group
 * reads /dev/vfio/N, whether the kernel's (already so) or the shim's (a
 * directory of /sys/kernel/iommu_groups: its last part is N).
 */
ssize_t ours_link(int fd, char *buf, size_t len)
{
	char path[64], link[PATH_MAX], name[PATH_MAX + 16];
	const char *base;
	ssize_t n;

	if (fdtable_kind(fd) == SHIM_CONTAINER)
		return container_link(buf, len);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = real.readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(name, sizeof(name), "/dev/vfio/%s", base ? base + 1 : link);
	return link_copy(name, buf, len);
}

/* "/dev/vfio/N" with N in canonical decimal: N, else -1. */
static int group_number(const char *p)
{
	long no;
	char *end;

	if (strncmp(p, "/dev/vfio/", 10))
		return -1;
	p += 10;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1]))
		return -1;
	no = strtol(p, &end, 10);
	if (*end || no > INT_MAX)
		return -1;
	return (int)no;
}

int path_names_group(int dirfd, const char *path)
{
	char buf[PATH_MAX * 2];
	int fd;

	if (path_absolute(dirfd, path, buf, sizeof(buf)))
		return -1;
	path_normalize(buf);
	fd = proc_fd_number(buf, getpid());
	if (fd >= 0)
		return fdtable_kind(fd) == SHIM_GROUP ? -2 : -1;
	return group_number(buf);
}
