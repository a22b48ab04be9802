// SPDX-License-Identifier: MIT
/*
 * A holder of the container killed at every point of an update, and two
 * holders at once with one killed at random: the survivor is not blocked,
 * its answers are those of the ops that returned plus the killed op's one
 * legitimate outcome (a MAP that never returned is not there, an UNMAP is
 * all done or, killed before it began, not at all), the device's DMA agrees
 * (edu copies through every mapping that is there and never reaches one that
 * is not), and another container and the program's own memory are as they
 * were. The same program runs on type1 (the oracle) and under the shim.
 *
 * The holder is a fork child traced with ptrace: a kill point is every
 * syscall entry and every syscall exit of its ops (the shim's ioctls, its
 * lock's fcntl and futex, the record's fallocate), so the points between a
 * kernel call and the record's update are among them.
 *   recfault EDU_GROUP NIC_GROUP v1|v2 [ITERATIONS]
 *   recfault --raw-unmap FD IOVA SIZE   (a holder without the shim)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfiotest.h"

#define PG 0x1000ull
#define BASE 0x100000ull   /* edu reaches 28 bits of iova */
#define MEMSZ 0x2000000ull /* iova BASE + x is mem + x */
#define LIMIT 65535u	   /* type1's dma_entry_limit */
#define MAXMAPS 64

/* ---- edu: its DMA engine through the container's mappings ---- */

#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_BUF 0x40000
#define XFER 2048u

static volatile uint8_t *bar0;
static uint8_t *mem; /* shared: what a child maps, the parent sees */

static int edu_xfer(uint64_t src, uint64_t dst, uint32_t to_ram)
{
	struct timespec t0, t1;

	*(volatile uint64_t *)(bar0 + EDU_DMA_SRC) = src;
	*(volatile uint64_t *)(bar0 + EDU_DMA_DST) = dst;
	*(volatile uint64_t *)(bar0 + EDU_DMA_CNT) = XFER;
	*(volatile uint32_t *)(bar0 + EDU_DMA_CMD) = 1 | to_ram;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (*(volatile uint32_t *)(bar0 + EDU_DMA_CMD) & 1) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 10)
			return -1;
		usleep(100);
	}
	return 0;
}

static uint8_t *va(uint64_t iova)
{
	return mem + (iova - BASE);
}

/* RAM(iova) -> edu -> RAM(iova + XFER): the mapping is live both ways. */
static int dma_works(uint64_t iova)
{
	static uint8_t seed;
	uint8_t *s = va(iova), *d = va(iova + XFER);
	unsigned int i;

	seed += 29;
	for (i = 0; i < XFER; i++)
		s[i] = (uint8_t)(i * 7 + seed);
	memset(d, 0, XFER);
	if (edu_xfer(iova, EDU_BUF, 0) || edu_xfer(EDU_BUF, iova + XFER, 2))
		return 0;
	return !memcmp(s, d, XFER);
}

/* edu -> RAM(iova) must not land: the memory stays as it was. */
static int dma_blocked(uint64_t iova)
{
	uint8_t *d = va(iova);
	unsigned int i;

	memset(d, 0x5a, XFER);
	edu_xfer(EDU_BUF, iova, 2);
	for (i = 0; i < XFER; i++)
		if (d[i] != 0x5a)
			return 0;
	return 1;
}

static int edu_open(int group)
{
	struct vfio_region_info cfg = {.argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX};
	struct vfio_region_info bar = {.argsz = sizeof(bar),
				       .index = VFIO_PCI_BAR0_REGION_INDEX};
	uint16_t cmd = 0;
	int fd = vt_group_get_device_fd(group, vt_edu_bdf());
	void *p;

	if (fd < 0 || ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &bar))
		return -1;
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)bar.offset);
	if (p == MAP_FAILED)
		return -1;
	bar0 = p;
	/* memory decoding and bus mastering are the user's to turn on */
	if (pread(fd, &cmd, 2, (off_t)cfg.offset + 4) != 2)
		return -1;
	cmd |= 6;
	return pwrite(fd, &cmd, 2, (off_t)cfg.offset + 4) == 2 ? 0 : -1;
}

/* ---- requests ---- */

static long map(int c, uint64_t iova, uint64_t size)
{
	return VT_NEG(vt_dma_map(c, iova, size, va(iova), VT_RW));
}

/* the size unmapped, or -errno */
static long unmap(int c, uint64_t iova, uint64_t size, uint32_t flags)
{
	uint64_t done = 0;

	if (vt_dma_unmap(c, iova, size, flags, &done))
		return -errno;
	return (long)done;
}

static long avail(int c)
{
	uint64_t buf[64];
	struct vfio_iommu_type1_info *info = (void *)buf;
	uint32_t off;

	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	if (ioctl(c, VFIO_IOMMU_GET_INFO, info))
		return -errno;
	off = vt_info_cap_find(info, sizeof(buf),
			       VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			       sizeof(struct vfio_iommu_type1_info_dma_avail));
	if (!off)
		return -ENOENT;
	return vt_rd32((uint8_t *)buf + off +
		       offsetof(struct vfio_iommu_type1_info_dma_avail, avail));
}

/* ---- the model: the container's mappings as type1 has them ---- */

struct range {
	uint64_t iova, size;
};

struct model {
	struct range m[MAXMAPS];
	int n;
};

static void model_add(struct model *s, uint64_t iova, uint64_t size)
{
	s->m[s->n++] = (struct range){iova, size};
}

/*
 * Drop what an unmap of [iova, iova + size) removes: v2 whole mappings
 * inside, v1 every mapping starting inside (unless one straddles the start);
 * flags ALL: everything. Returns the bytes.
 */
static uint64_t model_unmap(struct model *s, uint64_t iova, uint64_t size,
			    bool all)
{
	uint64_t done = 0;
	int i, j;

	for (i = j = 0; i < s->n; i++) {
		struct range r = s->m[i];

		if (all || (r.iova >= iova && r.iova - iova < size)) {
			done += r.size;
			continue;
		}
		s->m[j++] = r;
	}
	s->n = j;
	return done;
}

/* Whether a mapping of the model covers iova. */
static bool model_has(const struct model *s, uint64_t iova)
{
	for (int i = 0; i < s->n; i++)
		if (iova - s->m[i].iova < s->m[i].size)
			return true;
	return false;
}

/* ---- the shapes a holder's update takes ---- */

enum op_kind { OP_MAP, OP_UNMAP, OP_UNMAP_ALL };

struct op {
	enum op_kind kind;
	uint64_t iova, size;
};

struct shape {
	const char *name;
	bool v1_only;
	struct range pre[4]; /* mapped by the survivor first */
	bool stale;	     /* pre[0] then unmapped behind the shim */
	struct op ops[6];
};

#define A(x) (BASE + (x)*PG)

static const struct shape shapes[] = {
	{"hot path: map, unmap, map, map, unmap",
	 false,
	 {{0}},
	 false,
	 {{OP_MAP, A(0), PG},
	  {OP_UNMAP, A(0), PG},
	  {OP_MAP, A(16), 4 * PG},
	  {OP_MAP, A(32), 2 * PG},
	  {OP_UNMAP, A(16), 4 * PG}}},
	{"general unmap over three mappings, map again",
	 false,
	 {{A(64), PG}, {A(65), PG}, {A(67), 2 * PG}},
	 false,
	 {{OP_UNMAP, A(64), 5 * PG}, {OP_MAP, A(64), PG}}},
	{"unmap all, map again",
	 false,
	 {{A(64), PG}, {A(80), 2 * PG}, {A(96), PG}},
	 false,
	 {{OP_UNMAP_ALL, 0, 0}, {OP_MAP, A(80), PG}}},
	{"map over a stale entry (unmapped by a holder without the shim)",
	 false,
	 {{A(128), 2 * PG}, {A(140), PG}},
	 true,
	 {{OP_MAP, A(128), 2 * PG}, {OP_UNMAP, A(140), PG}}},
	{"v1: unmap that ends inside a mapping takes all of it",
	 true,
	 {{A(160), 2 * PG}, {A(162), 2 * PG}, {A(170), PG}},
	 false,
	 {{OP_UNMAP, A(160), 3 * PG}, {OP_MAP, A(161), PG}}},
};

/* What the killed holder got done, written without a syscall. */
struct progress {
	volatile int started, done; /* ops begun, ops returned */
	volatile long rc[8];
};

static struct progress *prog;
/* the op a holder was killed in: found done, found not done */
static int in_flight_done, in_flight_undone;
static long last_stops; /* of the last run that was not killed */

static long do_op(int c, const struct op *o)
{
	switch (o->kind) {
	case OP_MAP:
		return map(c, o->iova, o->size);
	case OP_UNMAP:
		return unmap(c, o->iova, o->size, 0);
	default:
		return unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL);
	}
}

static void run_ops(int c, const struct op *ops, int n)
{
	for (int i = 0; i < n; i++) {
		prog->started = i + 1;
		prog->rc[i] = do_op(c, &ops[i]);
		prog->done = i + 1;
	}
}

/* A holder without the shim: the kernel's own compat unmap on the fd. */
static int raw_unmap(int argc, char **argv)
{
	int c;

	if (argc != 5)
		return 2;
	c = atoi(argv[2]);
	return unmap(c, strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
		     0) == (long)strtoull(argv[4], NULL, 0)
		       ? 0
		       : 1;
}

static char *self;

static int unmap_behind(int c, uint64_t iova, uint64_t size)
{
	char fd[16], a[32], s[32];
	int st;
	pid_t pid;

	snprintf(fd, sizeof(fd), "%d", c);
	snprintf(a, sizeof(a), "%#llx", (unsigned long long)iova);
	snprintf(s, sizeof(s), "%#llx", (unsigned long long)size);
	pid = fork();
	if (pid == 0) {
		unsetenv("LD_PRELOAD");
		execl(self, self, "--raw-unmap", fd, a, s, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/*
 * Fork a holder that runs ops, traced; kill it at its kill-th syscall stop
 * (entries and exits counted from its first op), 0: never. Returns whether
 * it was killed before it finished.
 */
static bool run_killed(int c, const struct op *ops, int n, long kill_at)
{
	long stops = 0;
	int st;
	pid_t pid;

	memset((void *)prog, 0, sizeof(*prog));
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(120);
		raise(SIGSTOP);
		run_ops(c, ops, n);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))
		abort();
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	for (int sig = 0;;) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig))
			abort();
		if (waitpid(pid, &st, 0) != pid)
			abort();
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			last_stops = stops;
			return false;
		}
		sig = 0;
		if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			sig = WSTOPSIG(st);
			continue;
		}
		if (++stops == kill_at) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return true;
		}
	}
}

static struct model other; /* the second container's */
static uint8_t canary[4096];
static int c2;

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "FAIL: the survivor is blocked (10 s)\n";

	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

/*
 * The survivor's view after a kill: the count, each mapping's DMA and
 * unmap size, the absent ones blocked; then the container is emptied.
 * 0 if all agree.
 */
static int verify(int c, const struct model *s, const struct range *gone,
		  int ngone, bool stale, const char *what)
{
	long av;
	int bad = 0, i;

	alarm(10);
	av = avail(c);
	alarm(0);
	/*
	 * Under the shim an entry a holder without it unmapped is counted
	 * until a map or unmap over it asks the kernel (the record learns of
	 * it then): stale says one such may be left; the unmaps below drop it.
	 */
	if (av != (long)(LIMIT - (unsigned int)s->n) &&
	    !(stale && av == (long)(LIMIT - (unsigned int)s->n - 1))) {
		printf("FAIL: %s: DMA_AVAIL %ld, want %u\n", what, av,
		       LIMIT - (unsigned int)s->n);
		bad++;
	}
	for (i = 0; i < s->n; i++)
		if (!dma_works(s->m[i].iova)) {
			printf("FAIL: %s: no DMA through %#llx\n", what,
			       (unsigned long long)s->m[i].iova);
			bad++;
		}
	for (i = 0; i < ngone; i++)
		if (!model_has(s, gone[i].iova) && !dma_blocked(gone[i].iova)) {
			printf("FAIL: %s: DMA reaches %#llx, not mapped\n",
			       what, (unsigned long long)gone[i].iova);
			bad++;
		}
	for (i = 0; i < s->n; i++) {
		long got = unmap(c, s->m[i].iova, s->m[i].size, 0);

		if (got != (long)s->m[i].size) {
			printf("FAIL: %s: unmap %#llx: %ld, want %llu\n", what,
			       (unsigned long long)s->m[i].iova, got,
			       (unsigned long long)s->m[i].size);
			bad++;
		}
	}
	for (i = 0; i < ngone; i++)
		if (!model_has(s, gone[i].iova) &&
		    unmap(c, gone[i].iova, gone[i].size, 0) != 0) {
			printf("FAIL: %s: %#llx is still mapped\n", what,
			       (unsigned long long)gone[i].iova);
			bad++;
		}
	if (avail(c) != LIMIT) {
		printf("FAIL: %s: not empty after the unmaps\n", what);
		bad++;
	}
	/* nothing outside the container */
	if (avail(c2) != (long)(LIMIT - (unsigned int)other.n)) {
		printf("FAIL: %s: the other container changed\n", what);
		bad++;
	}
	for (i = 0; i < (int)sizeof(canary); i++)
		if (canary[i] != (uint8_t)(i * 3 + 1)) {
			printf("FAIL: %s: the program's memory changed\n",
			       what);
			bad++;
			break;
		}
	return bad;
}

/* Every op's outcome applied to the model: ops that returned, then the killed
 * one's. */
static int expect(const struct shape *sh, struct model *s, const char *what)
{
	int bad = 0, i;

	for (i = 0; i < prog->done; i++) {
		const struct op *o = &sh->ops[i];
		long want;

		if (o->kind == OP_MAP) {
			want = 0;
			model_add(s, o->iova, o->size);
		} else {
			want = (long)model_unmap(s, o->iova, o->size,
						 o->kind == OP_UNMAP_ALL);
		}
		if (prog->rc[i] != want) {
			printf("FAIL: %s: op %d returned %ld, want %ld\n", what,
			       i, prog->rc[i], want);
			bad++;
		}
	}
	return bad;
}

/*
 * The op the holder was killed in: all done or not at all, whichever the
 * count says (on type1 a MAP whose syscall finished stays, under the shim
 * it is undone: either is what a program killed in the call may find);
 * verify() then checks every answer agrees with that one.
 */
static int in_flight(int c, const struct op *ops, struct model *s, bool by_dma,
		     const char *what)
{
	const struct op *o = &ops[prog->done];
	struct model after = *s;
	long n;

	if (prog->started <= prog->done)
		return 0;
	if (o->kind == OP_MAP)
		model_add(&after, o->iova, o->size);
	else
		model_unmap(&after, o->iova, o->size, o->kind == OP_UNMAP_ALL);
	alarm(10);
	n = avail(c);
	alarm(0);
	/* over a stale entry the count cannot tell (see verify()): DMA can */
	if (by_dma ? dma_works(o->iova)
		   : n == (long)(LIMIT - (unsigned int)after.n)) {
		*s = after;
		in_flight_done++;
	} else if (!by_dma && n != (long)(LIMIT - (unsigned int)s->n)) {
		printf("FAIL: %s: DMA_AVAIL %ld: neither before (%d) nor after "
		       "(%d) the op in flight\n",
		       what, n, s->n, after.n);
		return 1;
	} else {
		in_flight_undone++;
	}
	return 0;
}

/* One shape, killed at every stop in turn until a run completes. */
static void every_point(int c, const struct shape *sh, bool v1)
{
	int nops = 0, bad = 0;
	long k;

	while (nops < 6 && (sh->ops[nops].size || sh->ops[nops].kind))
		nops++;
	for (k = 1;; k++) {
		struct model s = {.n = 0};
		struct range gone[12];
		int ngone = 0, i;
		bool killed;
		char what[160];

		for (i = 0; i < 4 && sh->pre[i].size; i++) {
			if (map(c, sh->pre[i].iova, sh->pre[i].size))
				bad++;
			if (i || !sh->stale)
				model_add(&s, sh->pre[i].iova, sh->pre[i].size);
			gone[ngone++] = sh->pre[i];
		}
		if (sh->stale &&
		    unmap_behind(c, sh->pre[0].iova, sh->pre[0].size))
			bad++;
		for (i = 0; i < nops; i++)
			if (sh->ops[i].kind == OP_MAP)
				gone[ngone++] = (struct range){sh->ops[i].iova,
							       sh->ops[i].size};
		killed = run_killed(c, sh->ops, nops, k);
		snprintf(what, sizeof(what), "%s: killed at stop %ld", sh->name,
			 k);
		bad += expect(sh, &s, what);
		if (killed)
			bad += in_flight(c, sh->ops, &s,
					 sh->stale && !prog->done, what);
		bad += verify(c, &s, gone, ngone,
			      sh->stale && !prog->done &&
				      !model_has(&s, sh->pre[0].iova),
			      what);
		if (!killed)
			break;
		if (bad > 20)
			break;
	}
	VT_CHECK(!bad,
		 "%s (%s): killed at each of %ld stops; the survivor "
		 "recovered every time (op in flight found done %d, not done "
		 "%d)",
		 sh->name, v1 ? "v1" : "v2", k - 1, in_flight_done,
		 in_flight_undone);
	in_flight_done = in_flight_undone = 0;
}

/*
 * Two holders at once on their own iovas, one killed at a random stop:
 * the other's answers stay exact, and the dead one's mappings are those it
 * saw made (and not the one it was making, or all of an unmap).
 */
static void two_at_once(int c, int iterations)
{
	struct op aops[6] = {
		{OP_MAP, A(256), PG},	    {OP_MAP, A(260), 2 * PG},
		{OP_UNMAP, A(256), PG},	    {OP_MAP, A(270), PG},
		{OP_UNMAP, A(260), 2 * PG}, {OP_MAP, A(280), 4 * PG},
	};
	struct shape sh = {.name = "two holders"};
	unsigned int seed = 12345;
	int bad = 0, it, kills = 0, st;

	memcpy(sh.ops, aops, sizeof(aops));
	/* a run alone first: how many stops there are to pick from */
	run_killed(c, aops, 6, 0);
	{
		struct model s = {.n = 0};
		struct range gone[6];

		for (int i = 0; i < 6; i++)
			gone[i] = (struct range){aops[i].iova, aops[i].size};
		bad += expect(&sh, &s, "two holders, alone");
		bad += verify(c, &s, gone, 6, false, "two holders, alone");
	}
	for (it = 0; it < iterations && bad < 20; it++) {
		struct model s = {.n = 0};
		struct range gone[6];
		char what[96];
		pid_t other_pid;
		int i;
		bool killed;

		for (i = 0; i < 6; i++)
			gone[i] = (struct range){aops[i].iova, aops[i].size};
		other_pid = fork();
		if (other_pid == 0) {
			int wrong = 0;

			for (i = 0; i < 40; i++) {
				uint64_t iova = A(512 + (i % 8) * 4);

				wrong += map(c, iova, 2 * PG) != 0;
				wrong += unmap(c, iova, 2 * PG, 0) != 2 * PG;
			}
			_exit(wrong ? 1 : 0);
		}
		/* the other holder's calls make more stops: up to twice */
		killed = run_killed(
			c, aops, 6,
			1 + (long)(rand_r(&seed) % (2 * last_stops)));
		kills += killed;
		alarm(30);
		waitpid(other_pid, &st, 0);
		alarm(0);
		snprintf(what, sizeof(what), "two holders, iteration %d", it);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL: %s: the other holder got a wrong "
			       "answer\n",
			       what);
			bad++;
		}
		bad += expect(&sh, &s, what);
		if (killed)
			bad += in_flight(c, aops, &s, false, what);
		bad += verify(c, &s, gone, 6, false, what);
	}
	VT_CHECK(!bad,
		 "two holders at once, one killed at a random stop: %d "
		 "iterations, %d kills (op in flight found done %d, not done "
		 "%d), every answer right",
		 it, kills, in_flight_done, in_flight_undone);
}

/*
 * The record cannot grow (a full tmpfs under it): maps until one fails.
 * type1 maps them all; under the shim a MAP whose record cannot grow fails
 * with ENOMEM (type1's answer when it cannot allocate its own entry) and
 * changes nothing: the count, the unmaps and DMA agree with the maps that
 * succeeded, and a map succeeds again once one is unmapped.
 */
static int fill(int group, int n)
{
	struct vt_container vc;
	long rc = 0;
	int i, ok = 0, first, bad;

	if (vt_container_setup(&vc, "/dev/vfio/vfio", O_RDWR, group,
			       VFIO_TYPE1v2_IOMMU) ||
	    edu_open(vc.group)) {
		printf("FAIL: edu container: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < n && !(rc = map(vc.container, A(i), PG)); i++)
		ok++;
	VT_CHECK(ok == n || rc == -ENOMEM,
		 "full record file: %d of %d maps, then %s", ok, n,
		 ok == n ? "none failed" : strerror((int)-rc));
	VT_CHECK(avail(vc.container) == (long)(LIMIT - (unsigned int)ok),
		 "DMA_AVAIL counts the %d maps that succeeded", ok);
	VT_CHECK(ok && dma_works(A(ok - 1)) && (ok == n || dma_blocked(A(ok))),
		 "DMA through the last map, not through the one refused");
	first = 0;
	if (ok < n) {
		VT_CHECK(unmap(vc.container, A(0), PG, 0) == (long)PG &&
				 map(vc.container, A(ok), PG) == 0 &&
				 map(vc.container, A(0), PG) == -ENOMEM,
			 "an unmap makes room for one map, and only one");
		first = 1; /* A(1) .. A(ok) are mapped now */
	}
	for (i = first, bad = 0; i < first + ok; i++)
		bad += unmap(vc.container, A(i), PG, 0) != (long)PG;
	VT_CHECK(!bad, "every map unmaps once, with its size");
	VT_CHECK(avail(vc.container) == LIMIT, "and the container is empty");
	return vt_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct vt_container vc, v2c;
	unsigned long type;
	int iterations;
	size_t i;

	if (argc > 1 && !strcmp(argv[1], "--raw-unmap"))
		return raw_unmap(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "--fill")) {
		mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		return mem == MAP_FAILED ? 2
					 : fill(atoi(argv[2]), atoi(argv[3]));
	}
	if (argc < 4) {
		fprintf(stderr,
			"usage: recfault EDU_GROUP NIC_GROUP v1|v2 [N]\n");
		return 2;
	}
	self = argv[0];
	type = !strcmp(argv[3], "v1") ? VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;
	iterations = argc > 4 ? atoi(argv[4]) : 30;
	signal(SIGALRM, on_alarm);
	mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	prog = mmap(NULL, sizeof(*prog), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || prog == MAP_FAILED)
		return 2;
	for (i = 0; i < sizeof(canary); i++)
		canary[i] = (uint8_t)(i * 3 + 1);
	if (vt_container_setup(&vc, "/dev/vfio/vfio", O_RDWR, atoi(argv[1]),
			       type) ||
	    edu_open(vc.group)) {
		printf("FAIL: edu container: %s: %s\n",
		       vc.failed ? vc.failed : "device", strerror(errno));
		return 1;
	}
	/* the other container, with mappings of its own */
	if (vt_container_setup(&v2c, "/dev/vfio/vfio", O_RDWR, atoi(argv[2]),
			       type)) {
		printf("FAIL: second container: %s\n", v2c.failed);
		return 1;
	}
	c2 = v2c.container;
	for (i = 0; i < 2; i++) {
		uint64_t iova = A(1024 + i * 8);

		if (map(c2, iova, PG))
			printf("FAIL: second container map\n");
		model_add(&other, iova, PG);
	}
	VT_CHECK(dma_works(A(0)) == 0 && dma_blocked(A(0)),
		 "edu's DMA to an unmapped iova does not land");
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (!shapes[i].v1_only || type == VFIO_TYPE1_IOMMU)
			every_point(vc.container, &shapes[i],
				    type == VFIO_TYPE1_IOMMU);
	two_at_once(vc.container, iterations);
	for (i = 0; i < (size_t)other.n; i++)
		VT_CHECK(unmap(c2, other.m[i].iova, other.m[i].size, 0) ==
				 (long)other.m[i].size,
			 "the other container's mapping %zu is intact", i);
	return vt_failures ? 1 : 0;
}
