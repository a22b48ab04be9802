// SPDX-License-Identifier: MIT
/*
 * A library whose constructor uses open/ioctl/dup/close/readlink before the
 * shim's own constructor may have run (preload order decides): the shim must
 * resolve libc lazily and answer correctly. It records what it saw; the
 * program (preload_checks --early) prints it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

char early_result[128] = "constructor did not run";

__attribute__((constructor)) static void early(void)
{
	int p[2], n = -1, fd, d;
	char link[64];
	ssize_t l;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	d = dup(fd);
	if (pipe(p) == 0 && write(p[1], "abc", 3) == 3)
		ioctl(p[0], FIONREAD, &n);
	l = readlink("/proc/self/exe", link, sizeof(link));
	snprintf(early_result, sizeof(early_result),
		 "open=%s dup=%s fionread=%d readlink=%s", fd >= 0 ? "ok" : "fail",
		 d >= 0 ? "ok" : "fail", n, l > 0 ? "ok" : "fail");
	close(d);
	close(fd);
	close(p[0]);
	close(p[1]);
}
