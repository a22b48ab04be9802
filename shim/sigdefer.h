/* SPDX-License-Identifier: MIT */
/*
 * Signal handlers and the shim's critical sections.
 *
 * type1 runs in the kernel: a signal never interrupts it half way, so a
 * program's handler may dup(), close() or ioctl() a container while the
 * interrupted code was in the middle of a MAP_DMA. The shim's equivalent
 * runs in the program's thread under a lock, and a handler that came in on
 * that thread and waited for the lock would wait forever.
 *
 * So the program's handlers (installed through sigaction and signal) are
 * wrapped: a signal that lands while its thread is inside the shim is put
 * back to the thread, pending and blocked, with its own siginfo, and the
 * thread takes it when it leaves the shim: the handler then runs as if the
 * signal had come a moment later, with a real ucontext. Entering and leaving
 * costs a thread-local add each way; only a deferred signal costs syscalls.
 */
#ifndef SHIM_SIGDEFER_H
#define SHIM_SIGDEFER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

struct sigdefer_thread {
	unsigned int depth;	/* inside the shim: defer the program's handlers */
	uint64_t pending;	/* bit sig - 1: deferred, blocked until we leave */
};

extern __thread struct sigdefer_thread sigdefer_self
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

void sigdefer_flush(void);

static inline void sigdefer_enter(void)
{
	sigdefer_self.depth++;
	atomic_signal_fence(memory_order_seq_cst);
}

static inline void sigdefer_leave(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	if (--sigdefer_self.depth == 0 &&
	    __builtin_expect(sigdefer_self.pending != 0, 0))
		sigdefer_flush();
}

/* sigaction() as the program sees it: its handlers, wrapped underneath. */
int sigdefer_sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old);

/* How many signals were deferred so far (the report's signals_deferred). */
unsigned long sigdefer_count(void);

/* In a fork child: the parent's deferred signals stayed with the parent. */
void sigdefer_fork_child(void);

#endif /* SHIM_SIGDEFER_H */
