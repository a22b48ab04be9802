// SPDX-License-Identifier: MIT
/*
 * Process life around a container, with the answers type1 gives: fork,
 * vfork + exec, posix_spawn of a child that inherits a container that is not
 * O_CLOEXEC (the shim adopts it), SCM_RIGHTS, close_range/closefrom across a
 * container and across the shim's own fd, dup2 over a container, and no fd
 * left behind. Runs the same on real type1 (without the shim) as under it.
 *   lifecycle GROUP_NUMBER
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfiotest.h"

#define SZ 0x10000

extern char **environ;
static uint8_t *mem;

/* 0 or -errno */
static long map(int c, uint64_t iova)
{
	return VT_NEG(vt_dma_map(c, iova, SZ, mem, VT_RW));
}

/* the size unmapped, or -errno */
static long unmap(int c, uint64_t iova)
{
	uint64_t size;

	if (vt_dma_unmap(c, iova, SZ, 0, &size))
		return -errno;
	return (long)size;
}

/* Child of posix_spawn: the container fd came across exec. */
static int adopt_child(int c)
{
	if (vt_get_api_version(c) != VFIO_API_VERSION)
		return 10;
	if (vt_check_extension(c, VFIO_TYPE1v2_IOMMU) != 1)
		return 11;
	return map(c, 0x30000000) ? 12 : 0;
}

int main(int argc, char **argv)
{
	int before, c, g, c2, sv[2], status, null;
	struct vt_container vc;
	char arg[16];
	pid_t pid;

	mem = mmap(NULL, SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (argc == 3 && !strcmp(argv[1], "--adopt"))
		return adopt_child(atoi(argv[2]));
	if (argc != 2) {
		fprintf(stderr, "usage: lifecycle GROUP\n");
		return 2;
	}
	before = vt_count_fds();
	/* not O_CLOEXEC, as DPDK */
	VT_CHECK(!vt_container_setup(&vc, "/dev/vfio/vfio", O_RDWR, atoi(argv[1]),
				     VFIO_TYPE1v2_IOMMU),
		 "container set up");
	c = vc.container;
	g = vc.group;

	/* fork: the child's mapping is the parent's to unmap */
	pid = fork();
	if (pid == 0)
		_exit(map(c, 0x10000000) ? 1 : 0);
	waitpid(pid, &status, 0);
	VT_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "fork child maps");
	VT_CHECK(unmap(c, 0x10000000) == SZ, "parent unmaps the fork child's mapping");
	VT_CHECK(unmap(c, 0x10000000) == 0, "and then it is gone");

	/* vfork + exec: nothing of the parent's changes */
	pid = vfork();
	if (pid == 0) {
		close(g); /* the vfork child's close must not touch our table */
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	VT_CHECK(map(c, 0x11000000) == 0 && unmap(c, 0x11000000) == SZ,
		 "container works after vfork + exec");

	/* posix_spawn: the container survives exec and is adopted */
	snprintf(arg, sizeof(arg), "%d", c);
	{
		char adopt[] = "--adopt";
		char *args[] = { argv[0], adopt, arg, NULL };

		VT_CHECK(!posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args,
				   environ),
			 "posix_spawn");
	}
	waitpid(pid, &status, 0);
	VT_CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
		 "spawned child uses the inherited container (exit %d)",
		 WEXITSTATUS(status));
	VT_CHECK(unmap(c, 0x30000000) == SZ, "parent unmaps the spawned child's mapping");

	/* SCM_RIGHTS */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = fork();
	if (pid == 0) {
		int fd = vt_recv_fd(sv[1]);

		if (fd < 0)
			_exit(1);
		_exit(map(fd, 0x31000000) ? 2 : 0);
	}
	vt_send_fd(sv[0], c);
	waitpid(pid, &status, 0);
	VT_CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
		 "SCM_RIGHTS receiver maps");
	VT_CHECK(unmap(c, 0x31000000) == SZ, "sender unmaps the receiver's mapping");
	close(sv[0]);
	close(sv[1]);

	/* close_range / closefrom over everything above the container */
	c2 = open("/dev/vfio/vfio", O_RDWR);
	VT_CHECK(c2 > c, "second container above the first");
	close_range(c2, ~0U, 0);
	errno = 0;
	VT_CHECK(vt_get_api_version(c2) == -1 && errno == EBADF,
		 "close_range closed the second container");
	closefrom(g + 1);
	VT_CHECK(vt_iommu_pgsizes(c) == vt_iommu_pgsizes(c) && vt_iommu_pgsizes(c) != 0 &&
			 map(c, 0x12000000) == 0 && unmap(c, 0x12000000) == SZ,
		 "closefrom above the group leaves the container working (pgsizes %#llx)",
		 (unsigned long long)vt_iommu_pgsizes(c));

	/* dup2 over a container: it is forgotten */
	c2 = open("/dev/vfio/vfio", O_RDWR);
	null = open("/dev/null", O_RDONLY);
	dup2(null, c2);
	errno = 0;
	VT_CHECK(vt_get_api_version(c2) == -1 && errno == ENOTTY,
		 "dup2(/dev/null) over a container: the number is /dev/null's");
	close(c2);
	close(null);

	/* every spelling of the container's path is the container */
	{
		static const char *const names[] = {
			"//dev/vfio/./vfio", "/dev/../dev/vfio/vfio",
			"/dev/vfio//vfio",
		};
		struct stat ref, st;
		int fd, dfd, cwd = open(".", O_RDONLY | O_DIRECTORY);
		size_t i;

		fd = open("/dev/vfio/vfio", O_RDWR);
		fstat(fd, &ref);
		close(fd);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			fd = open(names[i], O_RDWR);
			VT_CHECK(fd >= 0 && !fstat(fd, &st) &&
					 st.st_rdev == ref.st_rdev,
				 "%s opens the container", names[i]);
			close(fd);
		}
		if (!chdir("/dev")) {
			fd = open("vfio/vfio", O_RDWR);
			VT_CHECK(fd >= 0 && !fstat(fd, &st) &&
					 st.st_rdev == ref.st_rdev,
				 "vfio/vfio relative to the cwd /dev");
			close(fd);
			if (fchdir(cwd))
				return 2;
		}
		dfd = open("/dev/vfio", O_RDONLY | O_DIRECTORY);
		fd = openat(dfd, "vfio", O_RDWR);
		VT_CHECK(fd >= 0 && !fstat(fd, &st) && st.st_rdev == ref.st_rdev,
			 "openat(dirfd of /dev/vfio, \"vfio\")");
		close(fd);
		fd = openat(dfd, "../vfio/./vfio", O_RDWR);
		VT_CHECK(fd >= 0 && !fstat(fd, &st) && st.st_rdev == ref.st_rdev,
			 "openat(dirfd of /dev/vfio, \"../vfio/./vfio\")");
		close(fd);
		close(dfd);
		close(cwd);
	}

	/* nothing left behind */
	VT_CHECK(!vt_group_unset_container(g), "unset container");
	close(g);
	close(c);
	VT_CHECK(vt_count_fds() == before, "fds after = before (%d)", before);
	return vt_failures ? 1 : 0;
}
