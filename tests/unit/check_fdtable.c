// SPDX-License-Identifier: MIT
/* The fd table's bookkeeping: an object's own fd, the last-close step. */
#include <check.h>
#include <stdlib.h>

#include "fdtable.h"

struct counted {
	struct shim_obj obj;
	int last_closes, frees;
};

static void counted_last_close(struct shim_obj *obj)
{
	((struct counted *)obj)->last_closes++;
}

static void counted_free(struct shim_obj *obj)
{
	((struct counted *)obj)->frees++;
}

static const struct shim_obj_ops counted_ops = {
	.last_close = counted_last_close,
	.free = counted_free,
};

static struct counted o;

static void setup(void)
{
	ck_assert_int_eq(fdtable_init(), 0);
	o = (struct counted){ .obj = { .ops = &counted_ops,
				       .kind = SHIM_CONTAINER,
				       .refs = 1 } };
	shim_lock();
}

static void teardown(void)
{
	shim_unlock();
}

/* The object knows one of its fds; when that one goes, another. */
START_TEST(test_obj_fd_follows_the_fds)
{
	ck_assert_int_eq(obj_fd(&o.obj), -1);
	ck_assert_int_eq(fdtable_add(40, &o.obj), 0);
	ck_assert_int_eq(fdtable_add(41, &o.obj), 0);
	ck_assert_int_eq(obj_fd(&o.obj), 40);
	fdtable_remove(40);
	ck_assert_int_eq(obj_fd(&o.obj), 41);
	ck_assert_int_eq(o.last_closes, 0);
	ck_assert_int_eq(fdtable_add(42, &o.obj), 0);
	fdtable_remove(42);
	ck_assert_int_eq(obj_fd(&o.obj), 41);
	fdtable_remove(41);
	ck_assert_int_eq(obj_fd(&o.obj), -1);
	ck_assert_int_eq(o.last_closes, 1);
	ck_assert_int_eq(o.frees, 0); /* our own reference is left */
	obj_put(&o.obj);
	ck_assert_int_eq(o.frees, 1);
}
END_TEST

/* fdtable_unbind() hands the last-close step to the caller, with a reference. */
START_TEST(test_unbind_returns_the_last_close)
{
	struct shim_obj *last;

	ck_assert_int_eq(fdtable_add(40, &o.obj), 0);
	ck_assert_int_eq(fdtable_add(41, &o.obj), 0);
	ck_assert_ptr_null(fdtable_unbind(40));
	ck_assert_int_eq(fdtable_kind(40), SHIM_NONE);
	obj_put(&o.obj); /* the caller's own reference: the table's keeps it */
	last = fdtable_unbind(41);
	ck_assert_ptr_eq(last, &o.obj);
	ck_assert_int_eq(o.last_closes, 0);
	ck_assert_int_eq(o.frees, 0);
	obj_last_close(last);
	ck_assert_int_eq(o.last_closes, 1);
	ck_assert_int_eq(o.frees, 1);
	ck_assert_ptr_null(fdtable_unbind(41));
}
END_TEST

Suite *fdtable_suite(void);

Suite *fdtable_suite(void)
{
	Suite *s = suite_create("fdtable");
	TCase *t = tcase_create("objects");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_obj_fd_follows_the_fds);
	tcase_add_test(t, test_unbind_returns_the_last_close);
	suite_add_tcase(s, t);
	return s;
}
