// SPDX-License-Identifier: MIT
/* The container's names (shim/path.c): open()'s spellings, /proc fd names. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "path.h"

static const struct {
	const char *in, *out;
} norm_rows[] = {
	{ "/dev/vfio/vfio", "/dev/vfio/vfio" },
	{ "//dev/vfio/./vfio", "/dev/vfio/vfio" },
	{ "/dev//vfio///vfio", "/dev/vfio/vfio" },
	{ "/dev/vfio/vfio/", "/dev/vfio/vfio" },
	{ "/dev/vfio/vfio/.", "/dev/vfio/vfio" },
	{ "/dev/vfio/../vfio/vfio", "/dev/vfio/vfio" },
	{ "/dev/x/y/../../vfio/vfio", "/dev/vfio/vfio" },
	{ "/../../dev/vfio/vfio", "/dev/vfio/vfio" },	/* .. of / is / */
	{ "/dev/vfio/vfio/..", "/dev/vfio" },
	{ "/dev/vfio/...", "/dev/vfio/..." },		/* a name, not .. */
	{ "/dev/vfio/.vfio", "/dev/vfio/.vfio" },
	{ "/dev/vfio/..vfio", "/dev/vfio/..vfio" },
	{ "/", "/" },
	{ "//", "/" },
	{ "/.", "/" },
	{ "/..", "/" },
	{ "/a/b/../../..", "/" },
};

START_TEST(test_normalize)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", norm_rows[_i].in);
	path_normalize(buf);
	ck_assert_str_eq(buf, norm_rows[_i].out);
}
END_TEST

static const struct {
	const char *path;
	int fd;	/* -1: not an fd name; -2: /proc/<our pid>/fd/N with N 12 */
} fd_rows[] = {
	{ "/proc/self/fd/3", 3 },
	{ "/proc/thread-self/fd/7", 7 },
	{ "/dev/fd/0", 0 },
	{ "/proc/self/fd/2147483647", INT_MAX },
	{ "/proc/self/fd/2147483648", -1 },	/* beyond any fd */
	{ "/proc/self/fd/99999999999999999999", -1 },
	{ "/proc/self/fd/-1", -1 },
	{ "/proc/self/fd/", -1 },
	{ "/proc/self/fd/3/", -1 },		/* trailing slash */
	{ "/proc/self/fd/3x", -1 },
	{ "/proc/self/fd", -1 },
	{ "/proc/self/fdinfo/3", -1 },
	{ "/proc/selfish/fd/3", -1 },
	{ "/proc//fd/3", -1 },
	{ "/proc/1/fd/3", -1 },			/* another process (init) */
	{ "/dev/fd", -1 },
	{ "/dev/vfio/vfio", -1 },
	{ "proc/self/fd/3", -1 },		/* relative */
};

START_TEST(test_proc_fd_number)
{
	ck_assert_int_eq(proc_fd_number(fd_rows[_i].path, getpid()),
			 fd_rows[_i].fd);
}
END_TEST

START_TEST(test_proc_fd_number_pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/12", (int)getpid());
	ck_assert_int_eq(proc_fd_number(path, getpid()), 12);
	ck_assert_int_eq(proc_fd_number(path, getpid() + 1), -1);
	snprintf(path, sizeof(path), "/proc/%d/fd/12/", (int)getpid());
	ck_assert_int_eq(proc_fd_number(path, getpid()), -1);
}
END_TEST

/* Only names ending in "vfio" are looked at (the open() fast path). */
START_TEST(test_may_be_container)
{
	size_t n;

	ck_assert(path_may_be_container("/dev/vfio/vfio", &n));
	ck_assert_uint_eq(n, 14);
	ck_assert(path_may_be_container("vfio", &n));
	ck_assert(!path_may_be_container("/dev/vfio/vfio/", &n));
	ck_assert(!path_may_be_container("/dev/vfio/0", &n));
	ck_assert(!path_may_be_container("fio", &n));
	ck_assert(!path_may_be_container(NULL, &n));
}
END_TEST

/* A scratch directory three levels deep: dirfd and cwd relative names. */
static char scratch[64];

static void make_scratch(void)
{
	char sub[96];

	snprintf(scratch, sizeof(scratch), "/tmp/vfiocompat-path-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(scratch));
	snprintf(sub, sizeof(sub), "%s/a", scratch);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/a/b", scratch);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
}

static void remove_scratch(void)
{
	char sub[96];

	snprintf(sub, sizeof(sub), "%s/a/b", scratch);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", scratch);
	rmdir(sub);
	rmdir(scratch);
}

/* Enough ".." from anywhere under /tmp to reach / (.. of / is /). */
#define UP "../../../../../../../../../../"

START_TEST(test_relative_to_dirfd)
{
	char sub[96], buf[PATH_MAX * 2];
	int dfd;

	make_scratch();
	snprintf(sub, sizeof(sub), "%s/a/b", scratch);
	dfd = open(sub, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(path_absolute(dfd, "x/./y", buf, sizeof(buf)), 0);
	path_normalize(buf);
	ck_assert_str_eq(buf + strlen(sub), "/x/y");
	ck_assert(path_names_container(dfd, UP "dev/vfio/vfio"));
	ck_assert(path_names_container(dfd, UP "/dev/./vfio//vfio"));
	ck_assert(path_names_container(dfd, "/dev/vfio/vfio"));
	ck_assert(!path_names_container(dfd, "dev/vfio/vfio"));
	ck_assert(!path_names_container(dfd, UP "dev/vfio"));
	close(dfd);
	/* an fd that is not open names no directory */
	ck_assert_int_eq(path_absolute(dfd, "vfio", buf, sizeof(buf)), -1);
	ck_assert(!path_names_container(dfd, UP "dev/vfio/vfio"));
	remove_scratch();
}
END_TEST

START_TEST(test_relative_to_cwd)
{
	char old[PATH_MAX], sub[96];

	make_scratch();
	ck_assert_ptr_nonnull(getcwd(old, sizeof(old)));
	snprintf(sub, sizeof(sub), "%s/a", scratch);
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert(path_names_container(AT_FDCWD, UP "dev/vfio/./vfio"));
	ck_assert(path_names_container(AT_FDCWD, "b/" UP "dev/vfio/vfio"));
	ck_assert(!path_names_container(AT_FDCWD, "vfio"));
	ck_assert_int_eq(chdir(old), 0);
	remove_scratch();
}
END_TEST

/* Longer than any path: not recognised by name, no overflow. */
START_TEST(test_overlong)
{
	size_t len = PATH_MAX * 3, i;
	char *p = malloc(len + 1), buf[PATH_MAX * 2];

	ck_assert_ptr_nonnull(p);
	/* "/" then "a/../" repeated, then the container's name */
	p[0] = '/';
	for (i = 1; i + 5 < len - 14; i += 5)
		memcpy(p + i, "a/../", 5);
	strcpy(p + i, "dev/vfio/vfio");
	ck_assert_int_eq(path_absolute(AT_FDCWD, p, buf, sizeof(buf)), -1);
	ck_assert(!path_names_container(AT_FDCWD, p));
	/* relative: cwd plus the name must fit too */
	ck_assert_int_eq(path_absolute(AT_FDCWD, p + 1, buf, sizeof(buf)), -1);
	/* just fitting: the same name, shorter */
	p[PATH_MAX] = '\0';
	ck_assert_int_eq(path_absolute(AT_FDCWD, p, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, p);
	free(p);
}
END_TEST

START_TEST(test_container_link)
{
	char buf[32];

	ck_assert_int_eq(container_link(buf, sizeof(buf)), 14);
	ck_assert(!memcmp(buf, "/dev/vfio/vfio", 14));
	/* readlink truncates silently, without a terminator */
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(container_link(buf, 4), 4);
	ck_assert(!memcmp(buf, "/devx", 5));
}
END_TEST

Suite *path_suite(void);

Suite *path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_normalize, 0,
			    sizeof(norm_rows) / sizeof(norm_rows[0]));
	tcase_add_loop_test(tc, test_proc_fd_number, 0,
			    sizeof(fd_rows) / sizeof(fd_rows[0]));
	tcase_add_test(tc, test_proc_fd_number_pid);
	tcase_add_test(tc, test_may_be_container);
	tcase_add_test(tc, test_relative_to_dirfd);
	tcase_add_test(tc, test_relative_to_cwd);
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_container_link);
	suite_add_tcase(s, tc);
	return s;
}
