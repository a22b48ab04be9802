// SPDX-License-Identifier: MIT
/*
 * passthru: the calls every program makes on fds that are not VFIO, N times,
 * for counting instructions under callgrind with and without a preload.
 *
 *   passthru ROW N
 *     fionread   ioctl(FIONREAD) on a pipe
 *     tcgets     ioctl(TCGETS) on a pty
 *     openclose  open + close of a regular file
 *     dupclose   dup + close
 *     mmapanon   mmap + munmap of one anonymous page
 *     mmapfile   mmap + munmap of one page of a regular file (the shim
 *                looks the fd up: it notes mmaps of device fds)
 *
 * Everything is set up before the loop and torn down after it, the same for
 * every N, so the difference between runs with N and 2N iterations is
 * exactly N loop bodies (scripts/bench divides it by N). The calls go
 * through the PLT as a program's would (ioctl, not tcgetattr, whose ioctl is
 * libc-internal and never reaches a preload).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

static int fail(const char *what)
{
	perror(what);
	return 2;
}

int main(int argc, char **argv)
{
	const char *row;
	char path[4096];
	long n, i;
	int fds[2], fd = -1, rc = 0, v;
	struct termios t;

	if (argc != 3) {
		fprintf(stderr, "usage: passthru "
				"fionread|tcgets|openclose|dupclose|mmapanon|mmapfile N\n");
		return 2;
	}
	row = argv[1];
	n = atol(argv[2]);

	if (!strcmp(row, "fionread")) {
		if (pipe(fds))
			return fail("pipe");
		for (i = 0; i < n; i++)
			rc |= ioctl(fds[0], FIONREAD, &v);
	} else if (!strcmp(row, "tcgets")) {
		fd = posix_openpt(O_RDWR | O_NOCTTY);
		if (fd < 0 || grantpt(fd) || unlockpt(fd))
			return fail("posix_openpt");
		for (i = 0; i < n; i++)
			rc |= ioctl(fd, TCGETS, &t);
	} else if (!strcmp(row, "mmapanon")) {
		for (i = 0; i < n; i++) {
			void *p = mmap(NULL, 4096, PROT_READ,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			rc |= p == MAP_FAILED;
			rc |= munmap(p, 4096);
		}
	} else if (!strcmp(row, "mmapfile")) {
		FILE *f = tmpfile();

		if (!f || ftruncate(fileno(f), 4096))
			return fail("tmpfile");
		fd = fileno(f);
		for (i = 0; i < n; i++) {
			void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

			rc |= p == MAP_FAILED;
			rc |= munmap(p, 4096);
		}
	} else if (!strcmp(row, "openclose")) {
		/* a regular file of our own, so nothing else changes it */
		const char *dir = getenv("TMPDIR");

		snprintf(path, sizeof(path), "%s/vfiocompat-bench-%d",
			 dir && *dir ? dir : "/tmp", (int)getpid());
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return fail(path);
		close(fd);
		for (i = 0; i < n; i++) {
			fd = open(path, O_RDONLY);
			rc |= fd < 0;
			rc |= close(fd);
		}
		unlink(path);
	} else if (!strcmp(row, "dupclose")) {
		if (pipe(fds))
			return fail("pipe");
		for (i = 0; i < n; i++) {
			fd = dup(fds[0]);
			rc |= fd < 0;
			rc |= close(fd);
		}
	} else {
		fprintf(stderr, "passthru: unknown row %s\n", row);
		return 2;
	}
	if (rc) {
		fprintf(stderr, "passthru: %s failed\n", row);
		return 1;
	}
	return 0;
}
