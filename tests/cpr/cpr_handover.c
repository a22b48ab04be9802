// SPDX-License-Identifier: MIT
/*
 * cpr_handover: QEMU's legacy-container cpr (hw/vfio/cpr-legacy.c, QEMU
 * 10.1+), call for call, with real DMA through the guest's edu device
 * before and after the handover.
 *
 * Guest RAM is a memfd mapped MAP_SHARED and mapped into the container in
 * sections with holes between them, as QEMU's memory listener does.  The
 * old process checks VFIO_UPDATE_VADDR and VFIO_UNMAP_ALL (QEMU blocks cpr
 * when either is 0), then, as its pre_save does, invalidates every vaddr
 * with one UNMAP_DMA(VADDR | ALL).  The new process never joins the group
 * nor sets the IOMMU type nor gets the device again: it receives the
 * container, group, device and memfd fds, maps the memfd at another
 * address, asks GET_INFO and the two extensions, and gives every section
 * its new vaddr with MAP_DMA(VADDR), same IOVA, same size.
 *
 * Three modes, one after the other, each with its own container:
 *
 *	transfer  cpr-transfer: the new image is started beside the old one
 *		  and gets the fds over a UNIX socket (SCM_RIGHTS)
 *	exec      cpr-exec: the old process execs itself; the fds survive
 *		  exec and the state travels in a memfd named by the
 *		  environment
 *	fail      the new image gets the fds and gives up; the old process
 *		  puts its own vaddrs back (QEMU's failure path)
 *
 * and each once more as "<mode>_unpriv": without CAP_IPC_LOCK and with a
 * 64 MiB RLIMIT_MEMLOCK, as an unprivileged QEMU runs (with CAP_IPC_LOCK
 * iommufd pins without per-user accounting, which changes what moves).
 *
 * Every step prints one canonical line (tests/conformance/conf.h), so that
 * a run on real type1 and one under the shim compare line by line.  The
 * memory charge of each process is printed as charge_kb: the larger of
 * VmLck (type1 charges mm->locked_vm) and VmPin (iommufd charges
 * mm->pinned_vm), or the negative one if a counter went below zero; the
 * raw values go to stderr.
 *
 * Environment: CONF_CONTAINER (default /dev/vfio/vfio), VM_EDU_GROUP and
 * VM_EDU_BDF (tests/vm/vm-run sets them in the guest).
 *
 * usage: cpr_handover [transfer|exec|fail][_unpriv]...   (default: all six)
 * The other argv[1] values are the roles the program execs itself into.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>

#include "conf.h"

/* cpr-exec: the environment variable that names the state memfd */
#define STATE_ENV "CPR_HANDOVER_STATE"
/* the unprivileged variant of a mode: no CAP_IPC_LOCK, this memlock limit */
#define UNPRIV "_unpriv"
#define UNPRIV_MEMLOCK (64ULL << 20)
#define RAM_SIZE 0x400000ULL
#define XFER 2048 /* below edu's 4 KiB buffer (vfiotest.h) */
#define SZ_UNMAP ((uint32_t)sizeof(struct vfio_iommu_type1_dma_unmap))
#define SZ_MAP ((uint32_t)sizeof(struct vfio_iommu_type1_dma_map))

/*
 * Guest RAM as QEMU's listener maps it on a PC: IOVA = offset in the memfd,
 * holes between the sections (0xa0000 VGA, 0x100000 left out), one section
 * of 2 MiB.
 */
static const struct section {
	const char *name;
	uint64_t iova, size;
} sections[] = {
	{"s0", 0x0, 0xa0000},
	{"s1", 0xc0000, 0x40000},
	{"s2", 0x200000, 0x200000},
};
#define NSEC (sizeof(sections) / sizeof(sections[0]))
/* a hole (memfd offset = IOVA): nothing may ever reach it */
#define HOLE_IOVA 0xa0000ULL
/* mapped fresh by the new process after the handover, then unmapped */
#define FRESH_IOVA 0x100000ULL
#define FRESH_SIZE 0x100000ULL

/* What the old process hands over besides the fds. */
struct cpr_state {
	uint32_t magic;
	int32_t pid;
	int32_t container, group, device, ram; /* fd numbers (cpr-exec) */
	uint64_t old_ram;		       /* the old process's mapping */
	uint32_t seed;
	uint32_t avail0; /* DMA_AVAIL before any map */
};
#define STATE_MAGIC 0x43505231u

/* One process's view: its fds, its mapping of the memfd, edu. */
struct proc {
	int c, g, dev, ram;
	uint8_t *va;
	struct vt_edu edu;
	uint32_t avail0;
};

static uint32_t seed;

/* ------------------------------------------------------------- lines */

/*
 * A "Vm...: N kB" field of /proc/self/status.  The kernel prints the
 * counter unsigned: a counter that went below zero reads back negative.
 */
static long long status_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = (long long)strtoull(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* This process's memory charge: one line, raw values on stderr. */
static void memlock(const char *name)
{
	long long lck = status_kb("VmLck"), pin = status_kb("VmPin");
	/* the larger, unless a counter went negative: that must show */
	long long charge = lck < 0 || pin < 0 ? (lck < pin ? lck : pin)
			   : lck > pin	      ? lck
					      : pin;

	note(name, "charge_kb=%lld", charge);
	fprintf(stderr, "%s.%s VmLck=%lld kB VmPin=%lld kB pid=%d\n",
		conf_get_prefix(), name, lck, pin, (int)getpid());
}

/* DMA_AVAIL, also as the number of entries in use since avail0. */
static void entries(const char *name, struct proc *p)
{
	uint8_t buf[512];
	uint32_t off;
	struct vt_res r = VT_DO(vt_iommu_get_info(p->c, buf, sizeof(buf)));

	off = r.rc ? 0
		   : vt_info_cap_find(buf, sizeof(buf),
				      VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 12);
	if (!off) {
		out(name, "GET_INFO(DMA_AVAIL)", r, 0, "avail=none");
		return;
	}
	out(name, "GET_INFO(DMA_AVAIL)", r, 0, "avail=%u in_use=%ld",
	    vt_rd32(buf + off + 8), (long)p->avail0 - vt_rd32(buf + off + 8));
}

static uint32_t avail_now(int c)
{
	uint8_t buf[512];
	uint32_t off;

	if (vt_iommu_get_info(c, buf, sizeof(buf)))
		return 0;
	off = vt_info_cap_find(buf, sizeof(buf),
			       VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 12);
	return off ? vt_rd32(buf + off + 8) : 0;
}

/* ------------------------------------------------------------- DMA */

static void fill(uint8_t *p)
{
	/* a new pattern per check, so a stale copy never looks like success */
	seed += 37;
	for (int i = 0; i < XFER; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

static int is_zero(const uint8_t *p)
{
	for (int i = 0; i < XFER; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * Through section @s: the CPU writes a pattern near its end, edu reads it
 * (RAM -> edu) and writes it near its start (edu -> RAM), the CPU reads it
 * back, all through this process's mapping of the memfd.
 */
static void dma_check(const char *name, struct proc *p, const struct section *s)
{
	uint64_t a = s->size - 2 * PG, b = PG;
	uint8_t *src = p->va + s->iova + a, *dst = p->va + s->iova + b;
	int r1, r2;

	fill(src);
	memset(dst, 0, XFER);
	r1 = vt_edu_dma(&p->edu, s->iova + a, VT_EDU_BUF, XFER, 0);
	r2 = vt_edu_dma(&p->edu, VT_EDU_BUF, s->iova + b, XFER, 1);
	note(name,
	     "DMA(iova 0x%llx -> edu -> iova 0x%llx, %d B) done=%s data=%s",
	     (unsigned long long)(s->iova + a),
	     (unsigned long long)(s->iova + b), XFER,
	     r1 || r2 ? "timeout" : "yes",
	     !memcmp(src, dst, XFER) ? "match"
	     : is_zero(dst)	     ? "untouched"
				     : "MISMATCH");
}

/* edu -> a hole: the memfd's page there must stay untouched. */
static void dma_hole(const char *name, struct proc *p)
{
	uint8_t *at = p->va + HOLE_IOVA;
	int r;

	memset(at, 0, XFER);
	r = vt_edu_dma(&p->edu, VT_EDU_BUF, HOLE_IOVA, XFER, 1);
	note(name, "DMA(edu -> iova 0x%llx, %d B) done=%s memory=%s",
	     (unsigned long long)HOLE_IOVA, XFER, r ? "timeout" : "yes",
	     is_zero(at) ? "untouched" : "written");
}

/* mmap BAR0 of the device fd; @set: memory decoding and bus mastering on */
static int edu_up(const char *name, struct proc *p, uint16_t set)
{
	struct vt_res r = VT_DO(vt_edu_open(&p->edu, p->dev));
	uint16_t cmd = 0;

	out(name, "DEVICE_GET_REGION_INFO+mmap(BAR0)", r, 0, NULL);
	if (r.rc)
		return -1;
	r = VT_DO(vt_edu_command(&p->edu, set, 0, &cmd));
	/* memory space and bus master: what DMA needs */
	out("pci_command", "config(PCI_COMMAND)", r, 0, "mem_master=0x%x",
	    cmd & 0x6);
	return r.rc ? -1 : 0;
}

/* ------------------------------------------------------------- memfd */

/* mmap the memfd; @avoid: an address the mapping must not take */
static uint8_t *map_ram(int fd, uint64_t avoid)
{
	void *guard = MAP_FAILED, *p;

	/* keep the old address busy, so the new vaddrs really differ */
	if (avoid)
		guard = mmap((void *)(uintptr_t)avoid, RAM_SIZE, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			     -1, 0);
	p = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (guard != MAP_FAILED)
		munmap(guard, RAM_SIZE);
	if (p == MAP_FAILED)
		return NULL;
	buf_forget_all();
	buf_register("RAM", p, RAM_SIZE);
	return p;
}

/* ------------------------------------------------------------- steps */

/* QEMU's vfio_cpr_supported(): both extensions or no cpr. */
static void cpr_extensions(struct proc *p)
{
	struct vt_res v = p_ext("ext_update_vaddr", p->c, VFIO_UPDATE_VADDR);
	struct vt_res a = p_ext("ext_unmap_all", p->c, VFIO_UNMAP_ALL);

	note("qemu_cpr", "%s", v.rc > 0 && a.rc > 0 ? "allowed" : "blocked");
}

/* The container as QEMU sets one up, with guest RAM mapped. */
static int old_setup(struct proc *p)
{
	const char *path = vt_container_path("CONF_CONTAINER");
	struct vt_res r;
	uint32_t st = 0;

	r = VT_DO(vt_open_container(path, O_RDWR | O_CLOEXEC));
	out("open_container", "open(container)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	p->c = (int)r.rc;
	r = VT_DO(vt_get_api_version(p->c));
	out("api_version", "GET_API_VERSION()", r, 0, NULL);
	r = VT_DO(vt_open_group(vt_edu_group(), O_RDWR | O_CLOEXEC));
	out("open_group", "open(/dev/vfio/<edu>)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	p->g = (int)r.rc;
	r = VT_DO(vt_group_get_status(p->g, &st));
	out("group_status", "GROUP_GET_STATUS()", r, 0, "flags=0x%x", st);
	p_ext("ext_type1v2", p->c, VFIO_TYPE1v2_IOMMU);
	if (p_set_container("set_container", p->g, p->c).rc ||
	    p_set_iommu("set_iommu", p->c, VFIO_TYPE1v2_IOMMU).rc)
		return -1;
	cpr_extensions(p);
	r = VT_DO(vt_group_get_device_fd(p->g, vt_edu_bdf()));
	out("get_device_fd", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	p->dev = (int)r.rc;
	if (edu_up("edu_bar0", p, 0x6))
		return -1;
	p->avail0 = avail_now(p->c);

	r = VT_DO(memfd_create("guest-ram", MFD_CLOEXEC));
	out("memfd", "memfd_create(guest-ram)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	p->ram = (int)r.rc;
	r = VT_DO(ftruncate(p->ram, RAM_SIZE));
	out("memfd_size", "ftruncate(0x400000)", r, 0, NULL);
	p->va = map_ram(p->ram, 0);
	note("mmap_ram", "MAP_SHARED %s", p->va ? "ok" : "failed");
	if (!p->va)
		return -1;
	for (size_t i = 0; i < NSEC; i++) {
		char name[32];

		snprintf(name, sizeof(name), "map.%s", sections[i].name);
		p_map(name, p->c, SZ_MAP, RW,
		      (uintptr_t)(p->va + sections[i].iova), sections[i].iova,
		      sections[i].size);
	}
	entries("avail_after_maps", p);
	memlock("memlock_after_maps");
	for (size_t i = 0; i < NSEC; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dma_before.%s", sections[i].name);
		dma_check(name, p, &sections[i]);
	}
	return 0;
}

/* QEMU's pre_save: every vaddr invalid at once; DMA goes on meanwhile. */
static void old_pre_save(struct proc *p)
{
	p_unmap("unmap_vaddr_all", p->c, SZ_UNMAP,
		VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL, 0, 0,
		NULL);
	memlock("memlock_after_unmap_vaddr");
	dma_check("dma_vaddr_invalid.s2", p, &sections[2]);
	entries("avail_vaddr_invalid", p);
}

/* MAP_DMA(VADDR) per section, with this process's vaddrs. */
static void vaddr_maps(const char *what, struct proc *p)
{
	for (size_t i = 0; i < NSEC; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s.%s", what, sections[i].name);
		p_map(name, p->c, SZ_MAP, VFIO_DMA_MAP_FLAG_VADDR,
		      (uintptr_t)(p->va + sections[i].iova), sections[i].iova,
		      sections[i].size);
	}
}

/*
 * After a handover (or the failure path): DMA through every section, the
 * holes stay holes, no entry lost, a new map works, each section unmaps
 * whole.
 */
static void after_handover(struct proc *p)
{
	uint64_t got;

	for (size_t i = 0; i < NSEC; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dma_after.%s", sections[i].name);
		dma_check(name, p, &sections[i]);
	}
	dma_hole("dma_hole_blocked", p);
	entries("avail_after", p);
	/* a plain map made by this process, in the hole at 1 MiB */
	{
		const struct section fresh = {"fresh", FRESH_IOVA, FRESH_SIZE};

		p_map("map_fresh", p->c, SZ_MAP, RW,
		      (uintptr_t)(p->va + FRESH_IOVA), FRESH_IOVA, FRESH_SIZE);
		dma_check("dma_fresh", p, &fresh);
		p_unmap("unmap_fresh", p->c, SZ_UNMAP, 0, FRESH_IOVA,
			FRESH_SIZE, NULL);
	}
	for (size_t i = 0; i < NSEC; i++) {
		char name[32];

		snprintf(name, sizeof(name), "unmap.%s", sections[i].name);
		p_unmap(name, p->c, SZ_UNMAP, 0, sections[i].iova,
			sections[i].size, &got);
		snprintf(name, sizeof(name), "unmap_whole.%s",
			 sections[i].name);
		note(name, "%s", got == sections[i].size ? "yes" : "no");
	}
	entries("avail_end", p);
	memlock("memlock_end");
}

static void proc_close(struct proc *p)
{
	vt_edu_close(&p->edu);
	if (p->va)
		munmap(p->va, RAM_SIZE);
	if (p->dev >= 0)
		close(p->dev);
	if (p->g >= 0)
		close(p->g);
	if (p->c >= 0)
		close(p->c);
	if (p->ram >= 0)
		close(p->ram);
}

static void proc_init(struct proc *p)
{
	memset(p, 0, sizeof(*p));
	p->c = p->g = p->dev = p->ram = -1;
	p->edu.bar0 = NULL;
}

static void state_of(struct cpr_state *s, const struct proc *p)
{
	memset(s, 0, sizeof(*s));
	s->magic = STATE_MAGIC;
	s->pid = getpid();
	s->container = p->c;
	s->group = p->g;
	s->device = p->dev;
	s->ram = p->ram;
	s->old_ram = (uintptr_t)p->va;
	s->seed = seed;
	s->avail0 = p->avail0;
}

/* @mode is @base or its unprivileged variant, "<base>_unpriv" */
static int is_mode(const char *mode, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(mode, base, n) &&
	       (!mode[n] || !strcmp(mode + n, UNPRIV));
}

static int has_cap(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

/* Who this process is, as far as the memory charge goes. */
static void privileges(void)
{
	struct rlimit rl;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	note("privileges", "CAP_IPC_LOCK=%s RLIMIT_MEMLOCK=%llu",
	     has_cap(CAP_IPC_LOCK) ? "yes" : "no",
	     (unsigned long long)rl.rlim_cur);
}

/* ------------------------------------------------------------- old side */

/* Read one byte from the new process; 0 at EOF (it has exited). */
static int wait_peer(int sock)
{
	char b;

	return read(sock, &b, 1) == 1 ? b : 0;
}

static int old_main(const char *mode, int sock)
{
	struct cpr_state st;
	struct proc p;
	int fds[4];

	conf_prefix("%s.old", mode);
	proc_init(&p);
	privileges();
	if (old_setup(&p)) {
		note("setup", "failed");
		return 1;
	}
	old_pre_save(&p);
	state_of(&st, &p);

	if (is_mode(mode, "exec")) {
		char num[16];

		/* the fds survive exec; the state goes in a memfd, as QEMU's */
		int sfd = memfd_create("cpr-state", 0);

		if (sfd < 0 || write(sfd, &st, sizeof(st)) != sizeof(st))
			return 1;
		fds[0] = p.c, fds[1] = p.g, fds[2] = p.dev, fds[3] = p.ram;
		for (int i = 0; i < 4; i++)
			fcntl(fds[i], F_SETFD, 0);
		snprintf(num, sizeof(num), "%d", sfd);
		setenv(STATE_ENV, num, 1);
		memlock("memlock_before_exec");
		note("exec", "execv(self)");
		execl("/proc/self/exe", "cpr_handover", "new-exec", mode,
		      (char *)NULL);
		note("exec_failed", "errno=%s", errname(errno));
		return 1;
	}

	/* cpr-transfer (and its failure): the state, then the fds */
	note("send_state", "container group device memfd");
	if (write(sock, &st, sizeof(st)) != sizeof(st) ||
	    vt_send_fd(sock, p.c) || vt_send_fd(sock, p.g) ||
	    vt_send_fd(sock, p.dev) || vt_send_fd(sock, p.ram)) {
		note("send_failed", "errno=%s", errname(errno));
		return 1;
	}
	if (is_mode(mode, "transfer")) {
		/* the new process has its vaddrs in: the old one goes away */
		note("new_mapped", "%s", wait_peer(sock) == 'M' ? "yes" : "no");
		memlock("memlock_after_handover");
		proc_close(&p);
		note("exit", "closed container group device memfd");
		return 0;
	}
	/* fail: the new process gives up; put our own vaddrs back */
	note("new_gone", "%s", wait_peer(sock) ? "no" : "yes");
	seed += 1000; /* never reuse a pattern of the new process */
	vaddr_maps("remap_vaddr", &p);
	memlock("memlock_after_remap");
	after_handover(&p);
	proc_close(&p);
	return 0;
}

/* ------------------------------------------------------------- new side */

static int new_common(struct proc *p, const struct cpr_state *st)
{
	uint32_t want = 0;
	struct vt_res r;

	p->avail0 = st->avail0;
	seed = st->seed;
	memlock("memlock_start");
	p->va = map_ram(p->ram, st->old_ram);
	note("mmap_ram", "MAP_SHARED %s vaddr_differs=%s",
	     p->va ? "ok" : "failed",
	     (uintptr_t)p->va != st->old_ram ? "yes" : "no");
	if (!p->va)
		return -1;
	/* what QEMU asks of a reused container: GET_INFO, the extensions */
	r = p_info("get_info", p->c, sizeof(struct vfio_iommu_type1_info),
		   &want);
	if (!r.rc && want)
		p_info("get_info_full", p->c, want, NULL);
	cpr_extensions(p);
	entries("avail_received", p);
	/*
	 * The device kept running across the handover (QEMU stops the vCPUs,
	 * not the devices): DMA through the received container, its vaddrs
	 * still invalid, into this process's mapping.
	 */
	if (edu_up("edu_bar0", p, 0))
		return -1;
	dma_check("dma_vaddr_invalid.s1", p, &sections[1]);
	return 0;
}

static int new_main(const char *mode, int sock, int exec_state)
{
	struct cpr_state st;
	struct proc p;
	int ok;

	conf_prefix("%s.new", mode);
	proc_init(&p);
	if (exec_state >= 0) {
		ok = pread(exec_state, &st, sizeof(st), 0) == sizeof(st);
		close(exec_state);
		if (ok) {
			p.c = st.container, p.g = st.group;
			p.dev = st.device, p.ram = st.ram;
			/* no fd of the old image leaks further */
			fcntl(p.c, F_SETFD, FD_CLOEXEC);
			fcntl(p.g, F_SETFD, FD_CLOEXEC);
			fcntl(p.dev, F_SETFD, FD_CLOEXEC);
			fcntl(p.ram, F_SETFD, FD_CLOEXEC);
		}
		note("start", "state=%s same_pid=%s", ok ? "ok" : "missing",
		     ok && st.pid == getpid() ? "yes" : "no");
	} else {
		ok = read(sock, &st, sizeof(st)) == sizeof(st);
		if (ok) {
			p.c = vt_recv_fd(sock);
			p.g = vt_recv_fd(sock);
			p.dev = vt_recv_fd(sock);
			p.ram = vt_recv_fd(sock);
		}
		note("received", "state=%s fds=%s same_pid=%s",
		     ok ? "ok" : "missing",
		     p.c >= 0 && p.g >= 0 && p.dev >= 0 && p.ram >= 0
			     ? "4"
			     : "missing",
		     ok && st.pid == getpid() ? "yes" : "no");
	}
	if (!ok || st.magic != STATE_MAGIC || p.c < 0 || p.ram < 0)
		return 1;
	/* only now: the new process prints nothing before the old one is done */
	privileges();
	if (new_common(&p, &st))
		return 1;
	if (is_mode(mode, "fail")) {
		/* the new image fails to load: it drops everything and exits */
		proc_close(&p);
		note("abort", "closed container group device memfd");
		return 0;
	}
	vaddr_maps("map_vaddr", &p);
	memlock("memlock_after_vaddr_maps");
	entries("avail_after_vaddr_maps", &p);
	if (sock >= 0) {
		/* tell the old process, and wait until it has exited */
		if (write(sock, "M", 1) != 1)
			return 1;
		note("old_gone", "%s", wait_peer(sock) ? "no" : "yes");
		memlock("memlock_old_gone");
	}
	after_handover(&p);
	proc_close(&p);
	return 0;
}

/* ------------------------------------------------------------- runner */

static pid_t spawn(const char *role, const char *mode, int sock)
{
	char num[16];
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid)
		return pid;
	if (strstr(mode, UNPRIV)) {
		/*
		 * As an unprivileged QEMU runs: no CAP_IPC_LOCK, a memlock
		 * limit that fits guest RAM.  Gone from the bounding set too,
		 * or root would get it back at exec.
		 */
		struct rlimit rl = {UNPRIV_MEMLOCK, UNPRIV_MEMLOCK};

		if (setrlimit(RLIMIT_MEMLOCK, &rl) ||
		    prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) ||
		    conf_drop_cap(CAP_IPC_LOCK))
			_exit(126);
	}
	snprintf(num, sizeof(num), "%d", sock);
	fcntl(sock, F_SETFD, 0);
	execl("/proc/self/exe", "cpr_handover", role, mode, num, (char *)NULL);
	_exit(127);
}

static int reap(pid_t pid)
{
	int st = 0;

	if (pid > 0 && waitpid(pid, &st, 0) == pid)
		return st;
	return -1;
}

static void exit_line(const char *name, int st)
{
	if (st == -1)
		note(name, "not started");
	else if (WIFEXITED(st))
		note(name, "status=%d", WEXITSTATUS(st));
	else
		note(name, "signal=%d", WTERMSIG(st));
}

/* One mode: the old process (and the new one for transfer and fail). */
static void run_mode(const char *mode)
{
	int sv[2];
	pid_t old, new = -1;
	int st_old, st_new;

	conf_prefix("%s", mode);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		note("socketpair", "failed");
		return;
	}
	/* cpr-transfer's new QEMU is started first and waits for the old one */
	if (!is_mode(mode, "exec"))
		new = spawn("new", mode, sv[1]);
	old = spawn("old", mode, sv[0]);
	close(sv[0]);
	close(sv[1]);
	/* both first: the new process may still be printing when the old exits
	 */
	st_old = reap(old);
	st_new = reap(new);
	exit_line("old_exit", st_old);
	if (!is_mode(mode, "exec"))
		exit_line("new_exit", st_new);
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {
		"transfer",	   "exec",	  "fail",
		"transfer" UNPRIV, "exec" UNPRIV, "fail" UNPRIV,
	};
	const size_t nmodes = sizeof(modes) / sizeof(modes[0]);

	if (argc == 3 && !strcmp(argv[1], "new-exec")) {
		const char *s = getenv(STATE_ENV);

		unsetenv(STATE_ENV);
		return new_main(argv[2], -1, s ? atoi(s) : -1);
	}
	if (argc == 4 && !strcmp(argv[1], "old"))
		return old_main(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "new"))
		return new_main(argv[2], atoi(argv[3]), -1);

	if (vt_edu_group() < 0 || !vt_edu_bdf()) {
		fprintf(stderr,
			"cpr_handover: set VM_EDU_BDF (and VM_EDU_GROUP)\n");
		return 2;
	}
	if (argc == 1) {
		for (size_t i = 0; i < nmodes; i++)
			run_mode(modes[i]);
	}
	for (int i = 1; i < argc; i++) {
		int known = 0;

		for (size_t k = 0; k < nmodes; k++)
			known |= !strcmp(argv[i], modes[k]);
		if (!known) {
			fprintf(stderr, "usage: cpr_handover "
					"[transfer|exec|fail][_unpriv]...\n");
			return 2;
		}
		run_mode(argv[i]);
	}
	conf_prefix("end");
	note("complete", "done");
	return 0;
}
