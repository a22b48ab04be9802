// SPDX-License-Identifier: MIT
/*
 * Signal handlers that use the container while the code they interrupted was
 * using it too. Everything a handler does here is async-signal-safe in POSIX
 * (open, close, dup, dup2, dup3, fcntl, close_range, ioctl). type1 serves it
 * all in the kernel, so the same program must finish under the shim: a
 * handler must neither wait for a lock its own thread holds (a hang, caught
 * by the watchdog) nor get answers type1 would not give.
 *   sighandler GROUP_NUMBER [CASE]
 * Cases:
 *   same-thread   SIGALRM every 100 us on the thread that maps and unmaps
 *   other-thread  the handler runs on a thread while another one maps
 *   rt-order      sigqueue'd real-time signals keep value and order
 *   actions       sigaction/signal/sysv_signal read back what was set;
 *                 SA_RESETHAND runs once
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "vfiotest.h"

#define SZ 0x10000
#define MAIN_IOVA 0x10000000ull
#define HANDLER_IOVA 0x20000000ull
#define SPARE_FD 900

sighandler_t sysv_signal(int sig, sighandler_t handler);

static int container;
static uint8_t *mem;
static volatile sig_atomic_t handled, handler_errors;
/* the first failing step in a handler and its errno, for the message */
static volatile sig_atomic_t first_step, first_errno;

static void handler_failed(int step)
{
	if (!handler_errors++) {
		first_step = step;
		first_errno = errno;
	}
}
static atomic_int done, mapper_done;

/* What a handler may do with a container, each result checked. */
static void use_container(void)
{
	uint64_t size;
	int d, fd;

	d = dup(container);
	if (d < 0 || fcntl(d, F_GETFL) < 0)
		handler_failed(1);
	if (dup2(d, SPARE_FD) != SPARE_FD)
		handler_failed(2);
	if (dup3(d, SPARE_FD + 1, O_CLOEXEC) != SPARE_FD + 1)
		handler_failed(3);
	if (close_range(SPARE_FD + 1, SPARE_FD + 1, 0))
		handler_failed(4);
	if (close(SPARE_FD))
		handler_failed(5);
	if (close(d))
		handler_failed(6);
	if (vt_check_extension(container, VFIO_TYPE1v2_IOMMU) != 1)
		handler_failed(7);
	if (vt_dma_map(container, HANDLER_IOVA, SZ, mem + SZ, VT_RW))
		handler_failed(8);
	if (vt_dma_unmap(container, HANDLER_IOVA, SZ, 0, &size) || size != SZ)
		handler_failed(9);
	/* a second container, opened and closed inside the handler */
	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0 || vt_get_api_version(fd) != VFIO_API_VERSION || close(fd))
		handler_failed(10);
	handled++;
}

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	use_container();
	errno = saved;
}

/* MAP+UNMAP at the main thread's own iova; 0 or the step that failed */
static int map_unmap_once(void)
{
	uint64_t size;

	if (vt_dma_map(container, MAIN_IOVA, SZ, mem, VT_RW))
		return 1;
	if (vt_dma_unmap(container, MAIN_IOVA, SZ, 0, &size) || size != SZ)
		return 2;
	return 0;
}

/*
 * Helper threads take no signal: they start with every signal blocked (set
 * in the creator around pthread_create, so there is no window in which a
 * process-directed signal could pick the new thread).
 */
static void spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, was;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &was);
	pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
}

static void *watchdog(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 240 && !atomic_load(&done); i++)
		usleep(500000);
	if (!atomic_load(&done)) {
		/* the failure this test is about: a handler waits forever */
		fprintf(stderr, "FAIL: no progress in 120 s (handler deadlock), "
				"%d handlers ran\n", (int)handled);
		_exit(3);
	}
	return NULL;
}

static void same_thread(void)
{
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	int i, rc = 0;

	handled = handler_errors = first_step = first_errno = 0;
	signal(SIGALRM, on_signal);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; (i < 2000 || handled < 200) && i < 200000 && !rc; i++)
		rc = map_unmap_once();
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_DFL);
	VT_CHECK(!rc, "same-thread: main thread MAP/UNMAP (failed step: %d, at %d: %s)",
		 rc, i, rc ? strerror(errno) : "none");
	VT_CHECK(!handler_errors && handled >= 200,
		 "same-thread: %d iterations, %d handlers, %d handler errors "
		 "(first: step %d, %s)", i, (int)handled, (int)handler_errors,
		 (int)first_step, strerror(first_errno));
}

static void *mapper(void *arg)
{
	int i, *rc = arg;

	for (i = 0; i < 4000 && !*rc; i++)
		*rc = map_unmap_once();
	atomic_store(&mapper_done, 1);
	return NULL;
}

static void other_thread(void)
{
	pthread_t t;
	int rc = 0, sent = 0;

	handled = handler_errors = first_step = first_errno = 0;
	signal(SIGUSR1, on_signal);
	spawn(&t, mapper, &rc);
	while (!atomic_load(&mapper_done)) {
		pthread_kill(pthread_self(), SIGUSR1);
		sent++;
	}
	pthread_join(t, NULL);
	signal(SIGUSR1, SIG_DFL);
	VT_CHECK(!rc, "other-thread: mapper MAP/UNMAP (failed step: %d)", rc);
	VT_CHECK(!handler_errors && handled == sent,
		 "other-thread: %d sent, %d handled, %d handler errors", sent,
		 (int)handled, (int)handler_errors);
}

static volatile sig_atomic_t rt_next, rt_bad, rt_count;

static void on_rt(int sig, siginfo_t *info, void *uc)
{
	(void)sig;
	(void)uc;
	if (info->si_code != SI_QUEUE || info->si_value.sival_int != rt_next ||
	    info->si_pid != getpid())
		rt_bad++;
	rt_next = info->si_value.sival_int + 1;
	/* most are quick, so that the main thread is mostly in MAP/UNMAP */
	if (rt_count++ % 50 == 0)
		use_container();
}

/* Another thread queues; the main thread, mapping, takes them. */
static void *rt_sender(void *arg)
{
	int i, *sent = arg;

	for (i = 0; i < 1000; i++) {
		union sigval v = { .sival_int = *sent };

		if (!sigqueue(getpid(), SIGRTMIN, v))
			(*sent)++;
		usleep(20);
	}
	atomic_store(&mapper_done, 1);
	return NULL;
}

static void rt_order(void)
{
	struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
	int i, rc = 0, sent = 0;
	pthread_t t;

	handled = handler_errors = first_step = first_errno = 0;
	atomic_store(&mapper_done, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, NULL);
	spawn(&t, rt_sender, &sent);
	for (i = 0; !rc && (!atomic_load(&mapper_done) || rt_count < sent);
	     i++)
		rc = map_unmap_once();
	pthread_join(t, NULL);
	signal(SIGRTMIN, SIG_DFL);
	VT_CHECK(!rc, "rt-order: main thread MAP/UNMAP (failed step: %d)", rc);
	VT_CHECK(rt_count == sent && !rt_bad && !handler_errors,
		 "rt-order: %d queued, %d taken in %d MAP/UNMAPs, %d out of "
		 "order or with a changed siginfo, %d handler errors",
		 sent, (int)rt_count, i, (int)rt_bad, (int)handler_errors);
}

static volatile sig_atomic_t once_count;

static void on_once(int sig)
{
	(void)sig;
	once_count++;
}

static void actions(void)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART | SA_NODEFER },
			 got;
	const int mine = SA_RESTART | SA_NODEFER | SA_SIGINFO | SA_RESETHAND |
			 SA_ONSTACK;

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	VT_CHECK(!sigaction(SIGHUP, &sa, NULL) && !sigaction(SIGHUP, NULL, &got),
		 "actions: sigaction");
	VT_CHECK(got.sa_handler == on_signal &&
			 (unsigned int)(got.sa_flags & mine) ==
				 (unsigned int)(SA_RESTART | SA_NODEFER) &&
			 sigismember(&got.sa_mask, SIGUSR2) == 1,
		 "actions: read back handler %p flags %#x", (void *)got.sa_handler,
		 got.sa_flags);
	VT_CHECK(signal(SIGHUP, SIG_IGN) == on_signal &&
			 signal(SIGHUP, SIG_DFL) == SIG_IGN,
		 "actions: signal() returns the previous handler");
	VT_CHECK(sysv_signal(SIGHUP, on_once) == SIG_DFL &&
			 !sigaction(SIGHUP, NULL, &got) &&
			 got.sa_handler == on_once &&
			 (unsigned int)(got.sa_flags & mine) ==
				 (unsigned int)(SA_RESETHAND | SA_NODEFER),
		 "actions: sysv_signal reads back with SA_RESETHAND|SA_NODEFER "
		 "(%#x)", got.sa_flags);
	/* one-shot: the first raise runs it, and then the action is SIG_DFL */
	raise(SIGHUP);
	VT_CHECK(once_count == 1 && !sigaction(SIGHUP, NULL, &got) &&
			 got.sa_handler == SIG_DFL,
		 "actions: SA_RESETHAND ran once (%d) and reset (%p)",
		 (int)once_count, (void *)got.sa_handler);
}

int main(int argc, char **argv)
{
	struct vt_container vc;
	pthread_t dog;

	static const struct {
		const char *name;
		void (*run)(void);
	} cases[] = {
		{ "actions", actions },
		{ "same-thread", same_thread },
		{ "other-thread", other_thread },
		{ "rt-order", rt_order },
	};
	unsigned int i, ran = 0;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: sighandler GROUP [CASE]\n");
		return 2;
	}
	mem = mmap(NULL, 2 * SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	VT_CHECK(mem != MAP_FAILED, "mmap");
	VT_CHECK(!vt_container_setup(&vc, "/dev/vfio/vfio", O_RDWR, atoi(argv[1]),
				     VFIO_TYPE1v2_IOMMU),
		 "container set up");
	container = vc.container;
	spawn(&dog, watchdog, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (argc == 3 && strcmp(argv[2], cases[i].name))
			continue;
		cases[i].run();
		ran++;
	}
	atomic_store(&done, 1);
	pthread_join(dog, NULL);
	vt_container_close(&vc);
	VT_CHECK(ran, "%u case(s) ran", ran);
	return vt_failures ? 1 : 0;
}
