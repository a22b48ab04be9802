// SPDX-License-Identifier: MIT
/*
 * A preloaded library whose constructor runs before the shim's and installs
 * a SIGUSR1 handler that opens and closes the container path (open and close
 * are async-signal-safe). init-signal.sh delivers SIGUSR1 while the shim's
 * constructor is blocked in its own set-up: the handler must not wait for
 * that set-up on its own thread. It writes what open returned to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void on_usr1(int sig)
{
	static const char ok[] = "handler: open(/dev/vfio/vfio) = fd\n";
	char line[80] = "handler: open(/dev/vfio/vfio) = -1 ";
	int saved = errno, fd;

	(void)sig;
	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		write(2, ok, sizeof(ok) - 1);
	} else {
		/* strerrorname_np is not async-signal-safe either; the number */
		int e = errno, n = (int)strlen(line);

		line[n++] = (char)('0' + e / 10 % 10);
		line[n++] = (char)('0' + e % 10);
		line[n++] = '\n';
		write(2, line, (size_t)n);
	}
	errno = saved;
}

__attribute__((constructor)) static void install(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}
