/* SPDX-License-Identifier: MIT */
/*
 * VFIOCOMPAT_TRAP=1: serve VFIO requests that bypass the ioctl() symbol
 * (syscall(SYS_ioctl, ...), static code) through a seccomp SECCOMP_RET_TRAP
 * filter and a SIGSYS handler. Off by default. x86-64 only.
 */
#ifndef SHIM_TRAP_H
#define SHIM_TRAP_H

#include <signal.h>
#include <stdbool.h>

/*
 * serve() is the ioctl entry's slow path (libc convention: -1 and errno).
 * Returns 0 or -errno; on success the shim's own VFIO requests are tagged
 * (libc_ioctl_tag) so that they pass the filter.
 */
int trap_init(int (*serve)(int fd, unsigned long request, void *arg));
bool trap_active(void);
/* sigaction/signal for SIGSYS while trapping: recorded, chained to. */
int trap_sigaction(const struct sigaction *act, struct sigaction *old);

#endif /* SHIM_TRAP_H */
