/* SPDX-License-Identifier: MIT */
/* "ok: ..." / "FAIL: ..." lines for the hardening programs; failures counts. */
#ifndef HARDENING_CHECK_H
#define HARDENING_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		int ok_ = !!(cond);                             \
		printf("%s: ", ok_ ? "ok" : "FAIL");            \
		printf(__VA_ARGS__);                            \
		printf("\n");                                   \
		fflush(stdout);                                 \
		failures += !ok_;                               \
	} while (0)

#endif /* HARDENING_CHECK_H */
