// SPDX-License-Identifier: MIT
/*
 * Ordinary fd traffic, printed line by line. Run once without and once with
 * the shim preloaded: the two outputs must be identical (the shim must be
 * invisible to everything that is not a VFIO container). Built plain and
 * with _FORTIFY_SOURCE + _FILE_OFFSET_BITS=64, which route open() through
 * __open64_2 / open64 / openat64.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "vfiotest.h"

/* not a constant: fortify then calls __open_2 / __open64_2 */
int volatile_flags;

#define SHOW(name, expr)                                                  \
	do {                                                              \
		struct vt_res r_ = VT_DO(expr);                           \
		printf("%-28s = %ld errno=%s\n", name,                    \
		       r_.rc >= 0 ? 0 : r_.rc,                            \
		       r_.rc < 0 ? strerrorname_np(r_.err) : "-");        \
	} while (0)

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/vfiocompat-transp-XXXXXX", path[256], buf[64];
	int fds_before = vt_count_fds(), p[2], fd, fd2, n, mfd, sfd;
	struct termios tio;
	struct stat st;
	pid_t pid;
	int status;

	if (argc > 1 && !strcmp(argv[1], "child"))
		return 7;
	volatile_flags = argc > 5 ? O_RDWR : O_RDONLY;
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(path, sizeof(path), "%s/file", tmpl);

	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	SHOW("open(O_CREAT)", fd);
	SHOW("write", write(fd, "hello", 5));
	SHOW("ioctl(FIONREAD,file)", ioctl(fd, FIONREAD, &n));
	printf("fionread file n=%d\n", n);
	SHOW("fcntl(F_GETFD)", fcntl(fd, F_GETFD));
	printf("cloexec=%d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	SHOW("open(nonexistent)", open("/nonexistent/x", O_RDONLY));
	SHOW("open(var flags)", (fd2 = open(path, volatile_flags)));
	SHOW("close", close(fd2));
	SHOW("openat(AT_FDCWD)", (fd2 = openat(AT_FDCWD, path, O_RDONLY)));
	SHOW("close", close(fd2));
	SHOW("openat(bad dirfd)", openat(9999, "x", O_RDONLY));
	SHOW("open(/dev/vfio)", open("/dev/vfio", O_RDONLY));
	SHOW("open(dir/vfio ENOENT)", open("/tmp/vfio", O_RDONLY));

	SHOW("pipe", pipe(p));
	SHOW("write(pipe)", write(p[1], "abc", 3));
	SHOW("ioctl(FIONREAD,pipe)", ioctl(p[0], FIONREAD, &n));
	printf("fionread pipe n=%d\n", n);
	SHOW("ioctl(bad fd)", ioctl(9999, FIONREAD, &n));
	SHOW("ioctl(';' on pipe)", ioctl(p[0], _IO(';', 100)));
	SHOW("ioctl(';' 101 on pipe)", ioctl(p[0], _IO(';', 101), 3));
	SHOW("ioctl(';' 104 on pipe)", ioctl(p[0], _IO(';', 104), &p[1]));
	SHOW("ioctl(';' 0x81 on pipe)", ioctl(p[0], _IO(';', 0x81), buf));

	SHOW("openpty", openpty(&mfd, &sfd, NULL, NULL, NULL));
	SHOW("ioctl(TCGETS)", ioctl(sfd, TCGETS, &tio));
	SHOW("tcgetattr", tcgetattr(sfd, &tio));
	SHOW("ioctl(TCGETS,pipe)", ioctl(p[0], TCGETS, &tio));

	SHOW("dup", (fd2 = dup(fd)));
	SHOW("close(dup)", close(fd2));
	SHOW("dup2", dup2(fd, 100));
	SHOW("dup2(same)", dup2(100, 100));
	SHOW("dup3(cloexec)", dup3(fd, 101, O_CLOEXEC));
	SHOW("dup3(same) EINVAL", dup3(101, 101, 0));
	SHOW("fcntl(F_DUPFD)", (fd2 = fcntl(fd, F_DUPFD, 200)));
	printf("dupfd>=200: %d\n", fd2 >= 200);
	SHOW("fcntl(F_DUPFD_CLOEXEC)", fcntl(fd, F_DUPFD_CLOEXEC, 300));
	SHOW("close_range(100,101)", close_range(100, 101, 0));
	SHOW("close(100) after range", close(100));
	SHOW("close_range(CLOEXEC)", close_range(fd2, fd2, CLOSE_RANGE_CLOEXEC));
	printf("cloexec(dupfd)=%d\n", fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	closefrom(200);
	SHOW("fcntl(F_GETFD) after closefrom", fcntl(fd2, F_GETFD));
	SHOW("close(bad)", close(9999));
	SHOW("close(-1)", close(-1));

	SHOW("readlink(len 0)", readlink("/proc/self/fd/0", buf, 0));
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd);
	{
		char link[512];
		ssize_t l = readlink(buf, link, sizeof(link) - 1);

		link[l > 0 ? l : 0] = '\0';
		printf("readlink(file fd) tail=%s\n",
		       strrchr(link, '/') ? strrchr(link, '/') : link);
		l = readlinkat(AT_FDCWD, buf, link, sizeof(link) - 1);
		printf("readlinkat ok=%d\n", l > 0);
	}
	SHOW("readlink(ENOENT)", readlink("/nonexistent", buf, sizeof(buf)));
	SHOW("fstat", fstat(fd, &st));

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fd);
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		_exit(99);
	}
	waitpid(pid, &status, 0);
	printf("fork+exec child exit=%d\n", WEXITSTATUS(status));
	pid = vfork();
	if (pid == 0) {
		close(p[0]);
		_exit(5);
	}
	waitpid(pid, &status, 0);
	printf("vfork child exit=%d\n", WEXITSTATUS(status));
	SHOW("pipe fd still open", fcntl(p[0], F_GETFD));

	close(fd);
	close(p[0]);
	close(p[1]);
	close(mfd);
	close(sfd);
	close(fd2);
	unlink(path);
	rmdir(tmpl);
	printf("fds before=%d after=%d\n", fds_before, vt_count_fds());
	return 0;
}
