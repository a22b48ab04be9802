// SPDX-License-Identifier: MIT
/*
 * A program at its RLIMIT_NOFILE: with 0 to 4 fd numbers left, it opens the
 * container and the group, joins them, sets the IOMMU, opens the device,
 * maps and unmaps, and closes everything. It prints each step's answer;
 * guest-fdlimit.sh runs it on type1 and under the shim and compares the two
 * line for line (the kernel decides). Then the fd numbers the program gets
 * after SET_IOMMU, and that nothing is left open.
 *   fdlimit GROUP_NUMBER BDF [hard]
 * "hard": the soft limit equals the hard one (no room for the shim to make).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vfiotest.h"

#define LIMIT 64
#define SZ 0x10000

static void step(int free_fds, const char *what, long rc)
{
	printf("free=%d %-14s %s\n", free_fds, what,
	       rc >= 0 ? "ok" : strerrorname_np((int)-rc));
}

/* Fill every number below the limit but @free_fds; returns the fillers. */
static int fill(int free_fds, int *fillers)
{
	int n = 0, fd, i;

	while ((fd = dup(0)) >= 0)
		fillers[n++] = fd;
	for (i = 0; i < free_fds && n > 0; i++)
		close(fillers[--n]);
	return n;
}

static void run(int group, const char *bdf, int free_fds, void *mem)
{
	int fillers[LIMIT], n, c, g = -1, d = -1, i;
	uint64_t size;
	long rc;

	n = fill(free_fds, fillers);
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	step(free_fds, "open container", VT_NEG(c));
	if (c >= 0) {
		g = vt_open_group(group, O_RDWR | O_CLOEXEC);
		step(free_fds, "open group", VT_NEG(g));
	}
	if (g >= 0) {
		step(free_fds, "SET_CONTAINER",
		     VT_NEG(vt_group_set_container(g, c)));
		step(free_fds, "SET_IOMMU",
		     VT_NEG(vt_set_iommu(c, VFIO_TYPE1v2_IOMMU)));
		d = vt_group_get_device_fd(g, bdf);
		step(free_fds, "GET_DEVICE_FD", VT_NEG(d));
		step(free_fds, "MAP_DMA",
		     VT_NEG(vt_dma_map(c, 0x100000, SZ, mem, VT_RW)));
		rc = VT_NEG(vt_dma_unmap(c, 0x100000, SZ, 0, &size));
		step(free_fds, "UNMAP_DMA", rc < 0 ? rc : (long)size - SZ);
	}
	if (d >= 0)
		close(d);
	if (g >= 0)
		close(g);
	if (c >= 0)
		close(c);
	for (i = 0; i < n; i++)
		close(fillers[i]);
}

int main(int argc, char **argv)
{
	struct rlimit lim, was;
	int group, before, free_fds, c, g, next;
	void *mem;

	if (argc < 3) {
		fprintf(stderr, "usage: fdlimit GROUP BDF [hard]\n");
		return 2;
	}
	group = atoi(argv[1]);
	mem = mmap(NULL, SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	getrlimit(RLIMIT_NOFILE, &was);
	lim.rlim_cur = LIMIT;
	lim.rlim_max = argc > 3 && !strcmp(argv[3], "hard") ? LIMIT :
							      was.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &lim)) {
		perror("setrlimit");
		return 2;
	}
	before = vt_count_fds();
	for (free_fds = 0; free_fds <= 4; free_fds++)
		run(group, argv[2], free_fds, mem);
	printf("fds left open: %d\n", vt_count_fds() - before);

	/* the numbers the program gets are type1's */
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	g = vt_open_group(group, O_RDWR | O_CLOEXEC);
	vt_group_set_container(g, c);
	vt_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	next = dup(0);
	printf("after SET_IOMMU the next fd is container + %d\n", next - c);
	close(next);
	close(g);
	close(c);
	printf("fds left open: %d\n", vt_count_fds() - before);
	return 0;
}
