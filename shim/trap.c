// SPDX-License-Identifier: MIT
/*
 * The raw-syscall backstop (see trap.h). The filter traps only ioctls whose
 * request is _IO(';', 0..127), all 64 bits compared: VFIO's container, group
 * and device requests. iommufd's own requests (';' 0x80 and up) are not
 * trapped, and neither are the shim's own VFIO requests, which carry a bit
 * above the 32 the kernel reads (libc_ioctl_tag). The handler runs the same
 * code as the ioctl() entry and writes its result into the trapped
 * syscall's return register.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "libc.h"
#include "log.h"
#include "trap.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* set in the environment once a filter is loaded: an exec'd image with the
 * shim inherits the filter and must not stack another */
#define TRAP_MARK "VFIOCOMPAT_TRAP_FILTER"

static int (*serve_fn)(int fd, unsigned long request, void *arg);
static atomic_bool active;
/* the program's own SIGSYS disposition, chained to for what is not ours */
static struct sigaction chained = { .sa_handler = SIG_DFL };

bool trap_active(void)
{
	return atomic_load_explicit(&active, memory_order_relaxed);
}

static void chain(int sig, siginfo_t *info, void *uc)
{
	if (chained.sa_flags & SA_SIGINFO) {
		chained.sa_sigaction(sig, info, uc);
	} else if (chained.sa_handler == SIG_DFL) {
		/* what SIGSYS would have done: die with it */
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		real.sigaction(SIGSYS, &dfl, NULL);
		raise(SIGSYS);
	} else if (chained.sa_handler != SIG_IGN) {
		chained.sa_handler(sig);
	}
}

#if defined(__x86_64__)
static void on_sigsys(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *r = uc->uc_mcontext.gregs;
	int saved = errno, rc;

	if (info->si_code != SYS_SECCOMP || info->si_syscall != SYS_ioctl) {
		chain(sig, info, ucv);
		return;
	}
	rc = serve_fn((int)r[REG_RDI], (unsigned long)r[REG_RSI],
		      (void *)r[REG_RDX]);
	r[REG_RAX] = rc < 0 ? -errno : rc;
	errno = saved;
}

static int load_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (!ctx)
		return -ENOMEM;
	/* a 32-bit (int 0x80) caller must not be killed by the default */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ,
					      0xffffffffffffff80ULL, 0x3b00));
	/*
	 * NO_NEW_PRIVS is required to load a filter without CAP_SYS_ADMIN;
	 * with it, keep setuid helpers (qemu-bridge-helper) working.
	 */
	if (!rc && prctl(PR_CAPBSET_READ, 21 /* CAP_SYS_ADMIN */) == 1 &&
	    geteuid() == 0)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

int trap_init(int (*serve)(int fd, unsigned long request, void *arg))
{
	struct sigaction sa = { .sa_flags = SA_SIGINFO | SA_RESTART };
	int rc;

	serve_fn = serve;
	sa.sa_sigaction = on_sigsys;
	sigemptyset(&sa.sa_mask);
	if (real.sigaction(SIGSYS, &sa, &chained))
		return -errno;
	/* from here on, the shim's own VFIO requests must pass the filter */
	libc_ioctl_tag = 1UL << 32;
	if (getenv(TRAP_MARK) && prctl(PR_GET_SECCOMP) == 2) {
		shim_dbg(SHIM_CAT_INIT, "trap: inherited filter kept");
	} else {
		rc = load_filter();
		if (rc) {
			real.sigaction(SIGSYS, &chained, NULL);
			libc_ioctl_tag = 0;
			return rc;
		}
		setenv(TRAP_MARK, "1", 1);
	}
	atomic_store(&active, true);
	return 0;
}
#else
int trap_init(int (*serve)(int fd, unsigned long request, void *arg))
{
	(void)serve;
	return -ENOSYS;
}
#endif

int trap_sigaction(const struct sigaction *act, struct sigaction *old)
{
	if (old)
		*old = chained;
	if (act)
		chained = *act;
	return 0;
}
