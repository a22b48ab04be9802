// SPDX-License-Identifier: MIT
/*
 * vfiocompat-probe: the kernel questions `vfiocompat-run --check` cannot
 * answer from a shell. Each subcommand prints key=value lines; a value is OK,
 * a number, a word, or the errno name of the call that failed. The exit
 * status is 0 whatever the answers are (2: usage).
 *
 *   vfiocompat-probe iommufd PATH
 *       open=       open(PATH, O_RDWR)
 *       rlimit_mode= IOMMU_OPTION SET RLIMIT_MODE=1 (per-process accounting:
 *                   EPERM without CAP_SYS_RESOURCE)
 *       ioas=       IOMMU_IOAS_ALLOC (destroyed again)
 *   vfiocompat-probe container PATH
 *       open=, api= (VFIO_GET_API_VERSION),
 *       kind=       type1 | iommufd | unknown-ERRNO: what serves PATH, told by
 *                   IOMMU_DESTROY(0): iommufd says ENOENT, type1 EINVAL
 *   vfiocompat-probe group GROUP-PATH IOMMUFD-PATH
 *       open=, viable= (VFIO_GROUP_GET_STATUS),
 *       join=       VFIO_GROUP_SET_CONTAINER with an iommufd fd (then unset):
 *                   what vfiocompat does for every group
 *   vfiocompat-probe library
 *       version=    vfiocompat_version() of a preloaded libvfiocompat, or none
 *   vfiocompat-probe host ROOT [RELEASE]
 *       the kernel release's feature levels, the device nodes, IOMMU groups,
 *       their devices and drivers, from files only (probe-host.c); ROOT is ""
 *       or a directory standing in for / (the doctor's tests)
 *
 * Only raw system calls touch the devices, so a preloaded vfiocompat (or any
 * other interposer) never answers in the kernel's place.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "probe.h"

static const char *ename(int err)
{
	const char *n = strerrorname_np(err);
	static char buf[24];

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno%d", err);
	return buf;
}

static int sys_open(const char *path, int flags)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
}

static long sys_ioctl(int fd, unsigned long req, void *arg)
{
	return syscall(SYS_ioctl, fd, req, arg);
}

static void sys_close(int fd)
{
	if (fd >= 0)
		syscall(SYS_close, fd);
}

/* key=OK or key=ERRNO for a call's result; returns rc >= 0 */
static int put(const char *key, long rc)
{
	if (rc < 0)
		printf("%s=%s\n", key, ename(errno));
	else
		printf("%s=OK\n", key);
	return rc >= 0;
}

static int probe_iommufd(const char *path)
{
	struct iommu_option opt = {
		.size = sizeof(opt),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET,
		.val64 = 1,
	};
	struct iommu_ioas_alloc alloc = {.size = sizeof(alloc)};
	int fd = sys_open(path, O_RDWR);

	if (!put("open", fd))
		return 0;
	/* before any object exists: the kernel refuses the option after (EBUSY)
	 */
	put("rlimit_mode", sys_ioctl(fd, IOMMU_OPTION, &opt));
	if (put("ioas", sys_ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))) {
		struct iommu_destroy d = {.size = sizeof(d),
					  .id = alloc.out_ioas_id};
		sys_ioctl(fd, IOMMU_DESTROY, &d);
	}
	sys_close(fd);
	return 0;
}

static int probe_container(const char *path)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = 0};
	int fd = sys_open(path, O_RDWR);
	long rc;

	if (!put("open", fd))
		return 0;
	rc = sys_ioctl(fd, VFIO_GET_API_VERSION, NULL);
	if (rc < 0)
		printf("api=%s\n", ename(errno));
	else
		printf("api=%ld\n", rc);
	/* no object 0 in an iommufd; type1 refuses any other request before
	 * SET_IOMMU */
	rc = sys_ioctl(fd, IOMMU_DESTROY, &d);
	if (rc < 0 && errno == ENOENT)
		printf("kind=iommufd\n");
	else if (rc < 0 && errno == EINVAL)
		printf("kind=type1\n");
	else
		printf("kind=unknown-%s\n", rc < 0 ? ename(errno) : "OK");
	sys_close(fd);
	return 0;
}

static int probe_group(const char *path, const char *iommufd_path)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	int fd = sys_open(path, O_RDWR), ifd;

	if (!put("open", fd))
		return 0;
	if (sys_ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0)
		printf("viable=%s\n", ename(errno));
	else
		printf("viable=%d\n", !!(st.flags & VFIO_GROUP_FLAGS_VIABLE));
	ifd = sys_open(iommufd_path, O_RDWR);
	if (ifd < 0) {
		printf("join=iommufd-%s\n", ename(errno));
	} else if (put("join", sys_ioctl(fd, VFIO_GROUP_SET_CONTAINER, &ifd))) {
		sys_ioctl(fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
	}
	sys_close(ifd);
	sys_close(fd);
	return 0;
}

static int probe_library(void)
{
	const char *(*version)(void);

	*(void **)&version = dlsym(RTLD_DEFAULT, "vfiocompat_version");
	printf("version=%s\n", version ? version() : "none");
	return 0;
}

static int run_iommufd(char **argv)
{
	return probe_iommufd(argv[0]);
}

static int run_container(char **argv)
{
	return probe_container(argv[0]);
}

static int run_group(char **argv)
{
	return probe_group(argv[0], argv[1]);
}

static int run_library(char **argv)
{
	(void)argv;
	return probe_library();
}

static int run_host(char **argv)
{
	return probe_host(argv[0], argv[1] ? argv[1] : "");
}

static const struct {
	const char *name;
	int min_args, max_args;
	int (*run)(char **argv);
} subcommands[] = {
	{"iommufd", 1, 1, run_iommufd}, {"container", 1, 1, run_container},
	{"group", 2, 2, run_group},	{"library", 0, 0, run_library},
	{"host", 1, 2, run_host},
};

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0;
	     argc > 1 && i < sizeof(subcommands) / sizeof(subcommands[0]);
	     i++) {
		if (!strcmp(argv[1], subcommands[i].name) &&
		    argc - 2 >= subcommands[i].min_args &&
		    argc - 2 <= subcommands[i].max_args)
			return subcommands[i].run(argv + 2);
	}
	fprintf(stderr,
		"usage: vfiocompat-probe iommufd PATH | container PATH | "
		"group GROUP-PATH IOMMUFD-PATH | library | host ROOT "
		"[RELEASE]\n");
	return 2;
}
