/* SPDX-License-Identifier: MIT */
/* Fail the nth allocation from now (1-based; 0 disarms). See failalloc.c. */
#ifndef TEST_FAILALLOC_H
#define TEST_FAILALLOC_H

extern unsigned int failalloc_nth, failalloc_calls, failalloc_failed;
void failalloc_arm(unsigned int nth);

#endif
