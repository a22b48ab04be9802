// SPDX-License-Identifier: MIT
/*
 * process_vm_readv/writev on our own pid: the kernel checks every page and
 * reports EFAULT instead of delivering SIGSEGV. If a sandbox forbids the
 * syscall, plain copies are used (the pointer is then trusted, as libc does).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uaccess.h"

static pid_t self_pid;

void uaccess_set_pid(pid_t pid)
{
	self_pid = pid;
}

/* x86-64 TASK_SIZE_MAX with 4-level paging: the last user page is excluded */
#define USER_ADDR_LIMIT 0x00007ffffffff000UL

/* initial-exec: the library is preloaded, never dlopen()ed late; no __tls_get_addr */
__thread uintptr_t uaccess_stack_lo __attribute__((tls_model("initial-exec")));
__thread uintptr_t uaccess_stack_hi __attribute__((tls_model("initial-exec")));

/* Learn this thread's stack bounds; 0 if they cannot be known. */
static int stack_lookup(void)
{
	pthread_attr_t attr;
	void *lo;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr))
		return 0;
	if (!pthread_attr_getstack(&attr, &lo, &size)) {
		uaccess_stack_lo = (uintptr_t)lo;
		uaccess_stack_hi = uaccess_stack_lo + size;
	}
	pthread_attr_destroy(&attr);
	return uaccess_stack_hi != 0;
}

/* The copy the inline fast path (uaccess.h) did not take. */
__attribute__((noinline)) int uaccess_copy_slow(void *dst, const void *src,
						size_t n, int write)
{
	struct iovec local = { .iov_base = write ? (void *)src : dst,
			       .iov_len = n };
	struct iovec remote = { .iov_base = write ? dst : (void *)src,
				.iov_len = n };
	static int unavailable;
	ssize_t got;

	if (!n)
		return 0;
	/* a thread's first copy: its stack is not known yet */
	if (!uaccess_stack_hi && stack_lookup() &&
	    uaccess_on_live_stack(write ? dst : src, n)) {
		memcpy(dst, src, n);
		return 0;
	}
	if (!unavailable) {
		int saved = errno;

		got = syscall(write ? SYS_process_vm_writev :
				      SYS_process_vm_readv,
			      self_pid ? self_pid : getpid(), &local, 1, &remote, 1, 0);
		if (got == (ssize_t)n) {
			errno = saved;
			return 0;
		}
		if (got >= 0 || errno == EFAULT || errno == EINVAL) {
			errno = saved;
			return -EFAULT;
		}
		unavailable = 1;
		errno = saved;
	}
	if (!dst || !src)
		return -EFAULT;
	memcpy(dst, src, n);
	return 0;
}

int user_range_ok(unsigned long addr, unsigned long size)
{
	return size <= USER_ADDR_LIMIT && addr <= USER_ADDR_LIMIT - size;
}
