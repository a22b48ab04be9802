/* SPDX-License-Identifier: MIT */
/*
 * The real libc functions behind every name the shim interposes.
 *
 * Each pointer starts at a fallback that resolves the table on first use and
 * otherwise issues the raw syscall, so a call that arrives before our
 * constructor (another library's constructor may call open first) or from
 * inside dlsym itself (which may allocate, and an allocator may open files)
 * still works.
 */
#ifndef SHIM_LIBC_H
#define SHIM_LIBC_H

#include <signal.h>
#include <sys/types.h>

struct shim_libc {
	int (*open)(const char *path, int flags, ...);
	int (*open64)(const char *path, int flags, ...);
	int (*openat)(int dirfd, const char *path, int flags, ...);
	int (*openat64)(int dirfd, const char *path, int flags, ...);
	int (*open_2)(const char *path, int flags);
	int (*open64_2)(const char *path, int flags);
	int (*openat_2)(int dirfd, const char *path, int flags);
	int (*openat64_2)(int dirfd, const char *path, int flags);
	int (*ioctl)(int fd, unsigned long request, ...);
	int (*close)(int fd);
	int (*close_range)(unsigned int first, unsigned int last, int flags);
	void (*closefrom)(int lowfd);
	int (*dup)(int fd);
	int (*dup2)(int oldfd, int newfd);
	int (*dup3)(int oldfd, int newfd, int flags);
	int (*fcntl)(int fd, int cmd, ...);
	int (*fcntl64)(int fd, int cmd, ...);
	ssize_t (*readlink)(const char *path, char *buf, size_t len);
	ssize_t (*readlinkat)(int dirfd, const char *path, char *buf,
			      size_t len);
	ssize_t (*readlink_chk)(const char *path, char *buf, size_t len,
				size_t buflen);
	ssize_t (*readlinkat_chk)(int dirfd, const char *path, char *buf,
				  size_t len, size_t buflen);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*munmap)(void *addr, size_t len);
	int (*memfd_create)(const char *name, unsigned int flags);
	int (*sigaction)(int sig, const struct sigaction *act,
			 struct sigaction *old);
};

extern struct shim_libc real __attribute__((visibility("hidden")));

/*
 * OR'ed into every VFIO-type request the shim itself passes to the kernel:
 * 0, or in trap mode a bit above the 32 the kernel reads, which the seccomp
 * filter (comparing all 64) lets through.
 */
extern unsigned long libc_ioctl_tag __attribute__((visibility("hidden")));

static inline unsigned long tagged(unsigned long request)
{
	return request | libc_ioctl_tag;
}

/* Resolve every pointer with dlsym(RTLD_NEXT); safe to call repeatedly. */
void libc_init(void);

#endif /* SHIM_LIBC_H */
