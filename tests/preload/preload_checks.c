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

#include "vfiotest.h"

/*
 * The log file the shim opened (VFIOCOMPAT_LOG_FILE=path): append-only,
 * close-on-exec, and it is the file itself (O_NOFOLLOW: a symlink there is
 * refused, so nothing is written through it).
 */
static int check_log_fd(const char *path)
{
	char link[64], target[4096], fdinfo[64], line[128];
	unsigned long flags = 0;
	int fd, found = -1;
	ssize_t n;
	FILE *f;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path))
			found = fd;
	}
	VT_CHECK(found >= 0, "the shim holds its log file %s open", path);
	if (found < 0)
		return 1;
	snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", found);
	f = fopen(fdinfo, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags:", 6))
			flags = strtoul(line + 6, NULL, 8);
	if (f)
		fclose(f);
	VT_CHECK(flags & O_APPEND, "log fd is O_APPEND (flags %#lo)", flags);
	VT_CHECK(flags & O_CLOEXEC, "log fd is O_CLOEXEC");
	return vt_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *(*version)(void) = (const char *(*)(void))dlsym(
		RTLD_DEFAULT, "vfiocompat_version");
	int p[2], n, fd, e;
	const char *mode = getenv("VFIOCOMPAT_FALLBACK");

	if (argc == 3 && !strcmp(argv[1], "--log-fd"))
		return check_log_fd(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--early")) {
		/* set by tests/preload/early_ctor.c, preloaded beside the shim */
		const char *r = dlsym(RTLD_DEFAULT, "early_result");

		VT_CHECK(r && !strcmp(r, "open=ok dup=ok fionread=3 readlink=ok"),
			 "a constructor running before or after the shim's: %s",
			 r ? r : "(not loaded)");
		return vt_failures ? 1 : 0;
	}

	VT_CHECK(version && strlen(version()) > 0, "vfiocompat_version() = %s",
		 version ? version() : "(missing)");
	if (pipe(p))
		return 2;
	errno = 4242;
	VT_CHECK(ioctl(p[0], FIONREAD, &n) == 0 && errno == 4242,
		 "errno untouched by a successful pass-through ioctl");
	errno = 4242;
	VT_CHECK(ioctl(p[0], _IO(';', 100)) == -1 && errno == ENOTTY,
		 "VFIO request on a pipe: the kernel's ENOTTY");
	errno = 4242;
	VT_CHECK(close(dup(p[0])) == 0 && errno == 4242, "errno untouched by dup+close");

	if (access("/dev/iommu", F_OK) == 0) {
		printf("skip: this host has /dev/iommu; fallback checks need a host without it\n");
	} else if (mode && !strcmp(mode, "never")) {
		errno = 0;
		fd = open("/dev/vfio/vfio", O_RDWR);
		e = errno;
		VT_CHECK(fd == -1 && e == ENOENT,
			 "FALLBACK=never: open fails with /dev/iommu's errno (%s)",
			 strerrorname_np(e));
	} else {
		errno = 0;
		fd = open("/dev/vfio/vfio", O_RDWR);
		e = errno;
		/* the real container's own answer: here, no such device */
		VT_CHECK(fd >= 0 || e == ENOENT || e == ENODEV,
			 "FALLBACK=auto: the real container opened or its errno (%s)",
			 fd >= 0 ? "opened" : strerrorname_np(e));
		if (fd >= 0)
			close(fd);
	}
	close(p[0]);
	close(p[1]);
	return vt_failures ? 1 : 0;
}
