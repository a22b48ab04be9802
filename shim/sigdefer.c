// SPDX-License-Identifier: MIT
/* The program's signal handlers, deferred while the shim runs; see sigdefer.h. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"
#include "libc.h"
#include "sigdefer.h"

__thread struct sigdefer_thread sigdefer_self;

#define SIG_LAST 64	/* the kernel's _NSIG */

/* The program's action for each signal we wrap, as it gave it. */
struct program_action {
	_Atomic(void *) handler;	/* sa_handler or sa_sigaction */
	atomic_int flags;
};

static struct program_action actions[SIG_LAST + 1];
static atomic_ulong deferred;	/* for the report */
/* serializes sigaction's read-modify-write of a signal's two halves */
static atomic_flag actions_busy = ATOMIC_FLAG_INIT;

/*
 * Faults stay unwrapped: a SIGSEGV raised inside the shim must reach its
 * handler now (returning would fault again), and SIGSYS belongs to the
 * trap (trap.c chains the program's own).
 */
static bool wrapped(int sig)
{
	switch (sig) {
	case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP:
	case SIGSYS: case SIGKILL: case SIGSTOP:
		return false;
	default:
		return sig >= 1 && sig <= SIG_LAST;
	}
}

static bool is_function(void *h)
{
	return h != (void *)SIG_DFL && h != (void *)SIG_IGN;
}

/* The signal again, to this thread, with its siginfo (any si_code may be
 * queued to oneself). */
static void requeue(int sig, siginfo_t *info)
{
	int saved = errno;

	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
		sig, info);
	errno = saved;
}

/*
 * Real-time signals keep their order: those of the same number queued behind
 * this one (it is blocked while we run) are taken out and queued again after
 * it. Standard signals have at most one pending.
 */
static void requeue_first(int sig, siginfo_t *info)
{
	const struct timespec now = { 0, 0 };
	siginfo_t later[32];
	int n = 0, i, saved = errno;
	sigset_t one;

	if (sig < SIGRTMIN) {
		requeue(sig, info);
		return;
	}
	sigemptyset(&one);
	sigaddset(&one, sig);
	while (n < (int)ARRAY_SIZE(later) &&
	       sigtimedwait(&one, &later[n], &now) == sig)
		n++;
	requeue(sig, info);
	for (i = 0; i < n; i++)
		requeue(sig, &later[i]);
	errno = saved;
}

/*
 * Requeued and blocked in the context we return to, the signal waits in the
 * kernel until sigdefer_flush() unblocks it.
 */
static void defer(int sig, siginfo_t *info, ucontext_t *uc)
{
	requeue_first(sig, info);
	sigaddset(&uc->uc_sigmask, sig);
	atomic_fetch_add_explicit(&deferred, 1, memory_order_relaxed);
	sigdefer_self.pending |= 1ull << (sig - 1);
}

/* SA_RESETHAND, done here so that a deferred signal keeps its handler. */
static void reset_to_default(int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int saved = errno;

	atomic_store(&actions[sig].handler, (void *)SIG_DFL);
	atomic_store(&actions[sig].flags, 0);
	real.sigaction(sig, &dfl, NULL);
	errno = saved;
}

static SHIM_NO_TSAN void wrapper(int sig, siginfo_t *info, void *uc)
{
	void *h;
	int flags;

	if (sigdefer_self.depth) {
		defer(sig, info, uc);
		return;
	}
	h = atomic_load(&actions[sig].handler);
	flags = atomic_load(&actions[sig].flags);
	if (!is_function(h)) {
		/*
		 * Changed to SIG_DFL or SIG_IGN while this one was on its way:
		 * take it as the kernel would with the new action.
		 */
		if (h == (void *)SIG_DFL) {
			reset_to_default(sig);
			requeue(sig, info);
		}
		return;
	}
	if (flags & SA_RESETHAND)
		reset_to_default(sig);
	if (flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))h)(sig, info, uc);
	else
		((void (*)(int))h)(sig);
}

void sigdefer_flush(void)
{
	uint64_t p = sigdefer_self.pending;
	int saved = errno, sig;
	sigset_t set;

	sigdefer_self.pending = 0;
	sigemptyset(&set);
	for (sig = 1; sig <= SIG_LAST; sig++)
		if (p & (1ull << (sig - 1)))
			sigaddset(&set, sig);
	/* the deferred signals are delivered on the way out of this call */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	errno = saved;
}

unsigned long sigdefer_count(void)
{
	return atomic_load_explicit(&deferred, memory_order_relaxed);
}

void sigdefer_fork_child(void)
{
	/* atfork's lock was taken in the parent; the child starts outside */
	sigdefer_self.depth = 0;
	if (sigdefer_self.pending) {
		/* queued to the parent's thread: the child has none to take */
		sigdefer_flush();
	}
}

static void actions_lock(sigset_t *saved)
{
	sigset_t all;

	/* a handler of this thread may call sigaction too */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	while (atomic_flag_test_and_set_explicit(&actions_busy,
						 memory_order_acquire))
		;
}

static void actions_unlock(const sigset_t *saved)
{
	atomic_flag_clear_explicit(&actions_busy, memory_order_release);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* Returns what real sigaction returns; errno is its own. */
int sigdefer_sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old)
{
	struct sigaction k, prev;
	void *was_h = NULL;
	int was_flags = 0, rc, err;
	sigset_t mask;

	if (!wrapped(sig))
		return real.sigaction(sig, act, old);
	if (act && is_function((void *)act->sa_handler)) {
		k = *act;
		k.sa_sigaction = wrapper;
		k.sa_flags = (act->sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
	}
	actions_lock(&mask);
	was_h = atomic_load(&actions[sig].handler);
	was_flags = atomic_load(&actions[sig].flags);
	if (act) {
		/* before the kernel's: a signal that finds the wrapper finds it */
		atomic_store(&actions[sig].handler, (void *)act->sa_handler);
		atomic_store(&actions[sig].flags, act->sa_flags);
	}
	rc = real.sigaction(sig, act && is_function((void *)act->sa_handler) ?
				    &k : act,
			    &prev);
	err = errno;
	if (rc && act) {
		atomic_store(&actions[sig].handler, was_h);
		atomic_store(&actions[sig].flags, was_flags);
	}
	actions_unlock(&mask);
	if (!rc && old) {
		*old = prev;
		if (prev.sa_sigaction == wrapper) {
			/* the program's flags, and what libc adds (SA_RESTORER) */
			old->sa_handler = (sighandler_t)was_h;
			old->sa_flags = was_flags |
					(prev.sa_flags & ~(was_flags | SA_SIGINFO));
		}
	}
	errno = err;
	return rc;
}
