// SPDX-License-Identifier: MIT
/* Resolution of the real libc symbols (see libc.h for why the fallbacks). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "libc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

unsigned long libc_ioctl_tag;

/* Set while this thread runs dlsym, so a nested call takes the syscall. */
static __thread int resolving __attribute__((tls_model("initial-exec")));

static SHIM_NO_TSAN void *next_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static SHIM_NO_TSAN int resolve_once(void)
{
	static atomic_int done;

	if (atomic_load_explicit(&done, memory_order_acquire))
		return 0;
	if (resolving)
		return -1;
	resolving = 1;
	libc_init();
	resolving = 0;
	atomic_store_explicit(&done, 1, memory_order_release);
	return 0;
}

static mode_t mode_arg(int flags, va_list ap)
{
	if (flags & (O_CREAT | __O_TMPFILE))
		return va_arg(ap, mode_t);
	return 0;
}

static int fb_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (!resolve_once() && real.open != fb_open)
		return real.open(path, flags, mode);
	return syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static int fb_openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (!resolve_once() && real.openat != fb_openat)
		return real.openat(dirfd, path, flags, mode);
	return syscall(SYS_openat, dirfd, path, flags, mode);
}

static int fb_open_2(const char *path, int flags)
{
	return fb_open(path, flags);
}

static int fb_openat_2(int dirfd, const char *path, int flags)
{
	return fb_openat(dirfd, path, flags);
}

static int fb_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!resolve_once() && real.ioctl != fb_ioctl)
		return real.ioctl(fd, request, arg);
	return syscall(SYS_ioctl, fd, request, arg);
}

static int fb_close(int fd)
{
	if (!resolve_once() && real.close != fb_close)
		return real.close(fd);
	return syscall(SYS_close, fd);
}

static int fb_close_range(unsigned int first, unsigned int last, int flags)
{
	if (!resolve_once() && real.close_range != fb_close_range)
		return real.close_range(first, last, flags);
	return syscall(SYS_close_range, first, last, flags);
}

static void fb_closefrom(int lowfd)
{
	if (!resolve_once() && real.closefrom != fb_closefrom) {
		real.closefrom(lowfd);
		return;
	}
	syscall(SYS_close_range, lowfd, ~0U, 0);
}

static int fb_dup(int fd)
{
	if (!resolve_once() && real.dup != fb_dup)
		return real.dup(fd);
	return syscall(SYS_dup, fd);
}

static int fb_dup2(int oldfd, int newfd)
{
	if (!resolve_once() && real.dup2 != fb_dup2)
		return real.dup2(oldfd, newfd);
	if (oldfd == newfd)
		return syscall(SYS_fcntl, oldfd, F_GETFD) < 0 ? -1 : newfd;
	return syscall(SYS_dup3, oldfd, newfd, 0);
}

static int fb_dup3(int oldfd, int newfd, int flags)
{
	if (!resolve_once() && real.dup3 != fb_dup3)
		return real.dup3(oldfd, newfd, flags);
	return syscall(SYS_dup3, oldfd, newfd, flags);
}

static int fb_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!resolve_once() && real.fcntl != fb_fcntl)
		return real.fcntl(fd, cmd, arg);
	return syscall(SYS_fcntl, fd, cmd, arg);
}

static int fb_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!resolve_once() && real.fcntl64 != fb_fcntl64)
		return real.fcntl64(fd, cmd, arg);
	return syscall(SYS_fcntl, fd, cmd, arg);
}

static ssize_t fb_readlink(const char *path, char *buf, size_t len)
{
	if (!resolve_once() && real.readlink != fb_readlink)
		return real.readlink(path, buf, len);
	return syscall(SYS_readlinkat, AT_FDCWD, path, buf, len);
}

static ssize_t fb_readlinkat(int dirfd, const char *path, char *buf,
			     size_t len)
{
	if (!resolve_once() && real.readlinkat != fb_readlinkat)
		return real.readlinkat(dirfd, path, buf, len);
	return syscall(SYS_readlinkat, dirfd, path, buf, len);
}

static ssize_t fb_readlink_chk(const char *path, char *buf, size_t len,
			       size_t buflen)
{
	return fb_readlink(path, buf, len < buflen ? len : buflen);
}

static ssize_t fb_readlinkat_chk(int dirfd, const char *path, char *buf,
				 size_t len, size_t buflen)
{
	return fb_readlinkat(dirfd, path, buf, len < buflen ? len : buflen);
}

static void *fb_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off)
{
	if (!resolve_once() && real.mmap != fb_mmap)
		return real.mmap(addr, len, prot, flags, fd, off);
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int fb_munmap(void *addr, size_t len)
{
	if (!resolve_once() && real.munmap != fb_munmap)
		return real.munmap(addr, len);
	return syscall(SYS_munmap, addr, len);
}

static int fb_memfd_create(const char *name, unsigned int flags)
{
	if (!resolve_once() && real.memfd_create != fb_memfd_create)
		return real.memfd_create(name, flags);
	return (int)syscall(SYS_memfd_create, name, flags);
}

static SHIM_NO_TSAN int fb_sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	if (!resolve_once() && real.sigaction != fb_sigaction)
		return real.sigaction(sig, act, old);
	errno = ENOSYS;
	return -1;
}

struct shim_libc real = {
	.open = fb_open,
	.open64 = fb_open,
	.openat = fb_openat,
	.openat64 = fb_openat,
	.open_2 = fb_open_2,
	.open64_2 = fb_open_2,
	.openat_2 = fb_openat_2,
	.openat64_2 = fb_openat_2,
	.ioctl = fb_ioctl,
	.close = fb_close,
	.close_range = fb_close_range,
	.closefrom = fb_closefrom,
	.dup = fb_dup,
	.dup2 = fb_dup2,
	.dup3 = fb_dup3,
	.fcntl = fb_fcntl,
	.fcntl64 = fb_fcntl64,
	.readlink = fb_readlink,
	.readlinkat = fb_readlinkat,
	.readlink_chk = fb_readlink_chk,
	.readlinkat_chk = fb_readlinkat_chk,
	.mmap = fb_mmap,
	.munmap = fb_munmap,
	.memfd_create = fb_memfd_create,
	.sigaction = fb_sigaction,
};

/* A symbol this libc lacks (e.g. closefrom before glibc 2.34) keeps its fallback. */
#define RESOLVE(field, name)                                              \
	do {                                                              \
		void *p = next_sym(name);                                 \
		if (p)                                                    \
			__atomic_store_n((void **)&real.field, p,         \
					 __ATOMIC_RELEASE);               \
	} while (0)

/* may run inside a sanitizer runtime's start-up (see SHIM_NO_TSAN) */
SHIM_NO_TSAN void libc_init(void)
{
	int saved = errno;

	resolving = 1;
	RESOLVE(open, "open");
	RESOLVE(open64, "open64");
	RESOLVE(openat, "openat");
	RESOLVE(openat64, "openat64");
	RESOLVE(open_2, "__open_2");
	RESOLVE(open64_2, "__open64_2");
	RESOLVE(openat_2, "__openat_2");
	RESOLVE(openat64_2, "__openat64_2");
	RESOLVE(ioctl, "ioctl");
	RESOLVE(close, "close");
	RESOLVE(close_range, "close_range");
	RESOLVE(closefrom, "closefrom");
	RESOLVE(dup, "dup");
	RESOLVE(dup2, "dup2");
	RESOLVE(dup3, "dup3");
	RESOLVE(fcntl, "fcntl");
	RESOLVE(fcntl64, "fcntl64");
	RESOLVE(readlink, "readlink");
	RESOLVE(readlinkat, "readlinkat");
	RESOLVE(readlink_chk, "__readlink_chk");
	RESOLVE(readlinkat_chk, "__readlinkat_chk");
	RESOLVE(mmap, "mmap");
	RESOLVE(munmap, "munmap");
	RESOLVE(memfd_create, "memfd_create");
	RESOLVE(sigaction, "sigaction");
	resolving = 0;
	errno = saved;
}
