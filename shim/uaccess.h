/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing the caller's ioctl structs without trusting the
 * pointer: a bad address gives -EFAULT, as the kernel's copy_from_user would,
 * never a fault in the host program.
 */
#ifndef SHIM_UACCESS_H
#define SHIM_UACCESS_H

#include <stddef.h>
#include <sys/types.h>

#include <stdint.h>

/* A caller's address plus an offset, without C pointer arithmetic on it. */
static inline void *user_offset(const void *p, uint64_t off)
{
	return (void *)((uintptr_t)p + (uintptr_t)off);
}

int copy_from_user(void *dst, const void *src, size_t n);
int copy_to_user(void *dst, const void *src, size_t n);
/* type1's access_ok(): the range lies below the user address limit. */
int user_range_ok(unsigned long addr, unsigned long size);

/* Our pid, cached (set at load and in a fork child). */
void uaccess_set_pid(pid_t pid);

#endif /* SHIM_UACCESS_H */
