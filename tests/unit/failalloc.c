// SPDX-License-Identifier: MIT
/*
 * Allocation failure on demand for the unit tests: the test binary is linked
 * with --wrap for malloc, calloc and realloc, so every allocation of the
 * shim's code (and of the tests' own objects) comes here; shared libraries
 * (libcheck, a sanitizer's runtime) keep the real ones.
 */
#include <stddef.h>

#include "failalloc.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

unsigned int failalloc_nth, failalloc_calls, failalloc_failed;

/* Whether this allocation is the one to fail. */
static int fail_now(void)
{
	if (!failalloc_nth)
		return 0;
	if (++failalloc_calls != failalloc_nth)
		return 0;
	failalloc_failed++;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

void failalloc_arm(unsigned int nth)
{
	failalloc_nth = nth;
	failalloc_calls = 0;
	failalloc_failed = 0;
}
