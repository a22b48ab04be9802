// SPDX-License-Identifier: MIT
/*
 * trapcost: what VFIOCOMPAT_TRAP=1 costs, in wall time (the seccomp filter
 * runs in the kernel, so callgrind cannot see it).
 *   trapcost fionread N   N ioctl(FIONREAD) on a pipe: the filter on the
 *                         pass-through path (not trapped)
 *   trapcost raw N        N syscall(SYS_ioctl, pipe, VFIO_GET_API_VERSION):
 *                         trapped in trap mode (SIGSYS, the shim's handler,
 *                         the real ioctl, sigreturn), ENOTTY either way
 * Prints the best ns/call of 5 rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int p[2], n, raw, round;
	long i, count;
	double best = 1e30;

	if (argc != 3 || pipe(p))
		return 2;
	raw = !strcmp(argv[1], "raw");
	count = atol(argv[2]);
	for (round = 0; round < 5; round++) {
		double t0 = now(), t;

		for (i = 0; i < count; i++) {
			if (raw)
				syscall(SYS_ioctl, p[0], VFIO_GET_API_VERSION, 0);
			else
				ioctl(p[0], FIONREAD, &n);
		}
		t = (now() - t0) / count;
		if (t < best)
			best = t;
	}
	printf("%.1f\n", best);
	return 0;
}
