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

/* This thread's stack, [lo, hi); 0 until its first copy looks it up. */
extern __thread uintptr_t uaccess_stack_lo
	__attribute__((tls_model("initial-exec")));
extern __thread uintptr_t uaccess_stack_hi
	__attribute__((tls_model("initial-exec")));

int uaccess_copy_slow(void *dst, const void *src, size_t n, int write);

/*
 * Whether [p, p + n) lies in the live part of this thread's stack, between
 * the calling function's frame and the top: that memory is mapped and
 * writable (the kernel grew the stack down to us to call us), so it needs no
 * check. The structs QEMU, DPDK and SPDK pass are locals, so MAP_DMA and
 * UNMAP_DMA copy them inline; heap and others take process_vm_readv/writev.
 * On another stack (a coroutine, sigaltstack) the frame is not between lo and
 * hi, and nothing is taken for granted.
 */
static inline __attribute__((always_inline)) int
uaccess_on_live_stack(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t lo = uaccess_stack_lo, hi = uaccess_stack_hi;

	/* unsigned: lo <= sp < hi, then sp <= a and a + n <= hi, no overflow */
	return sp - lo < hi - lo && a - sp < hi - sp && n <= hi - a;
}

/*
 * For a struct the call reads and then writes back (UNMAP_DMA's): read it
 * with copy_from_user_keep(), which says where it found it, and write it
 * back with copy_to_user_kept(), which need not look again.
 */
static inline __attribute__((always_inline)) int
copy_from_user_keep(void *dst, const void *src, size_t n, int *on_stack)
{
	*on_stack = uaccess_on_live_stack(src, n);
	if (__builtin_expect(*on_stack, 1)) {
		__builtin_memcpy(dst, src, n);
		return 0;
	}
	return uaccess_copy_slow(dst, src, n, 0);
}

static inline __attribute__((always_inline)) int
copy_to_user_kept(void *dst, const void *src, size_t n, int on_stack)
{
	if (__builtin_expect(on_stack, 1)) {
		__builtin_memcpy(dst, src, n);
		return 0;
	}
	return uaccess_copy_slow(dst, src, n, 1);
}

static inline __attribute__((always_inline)) int
copy_from_user(void *dst, const void *src, size_t n)
{
	int on_stack;

	return copy_from_user_keep(dst, src, n, &on_stack);
}

static inline __attribute__((always_inline)) int
copy_to_user(void *dst, const void *src, size_t n)
{
	return copy_to_user_kept(dst, src, n, uaccess_on_live_stack(dst, n));
}

/* type1's access_ok(): the range lies below the user address limit. */
int user_range_ok(unsigned long addr, unsigned long size);

/* Our pid, cached (set at load and in a fork child). */
void uaccess_set_pid(pid_t pid);

#endif /* SHIM_UACCESS_H */
