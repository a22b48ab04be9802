// SPDX-License-Identifier: MIT
/*
 * edu_dma: real DMA through container mappings, with QEMU's "edu" device.
 *
 * The container ioctls only prove that the answers look right; this proves
 * that the mappings are real: edu's DMA engine copies RAM -> device buffer
 * -> RAM through IOVAs mapped with VFIO_IOMMU_MAP_DMA, and a DMA to an IOVA
 * that was unmapped must not reach memory.  Like type1_conf it uses only
 * the legacy container API and prints one canonical line per check, once
 * per IOMMU type ("t1.dma.*" v1, "t2.dma.*" v2).
 *
 * edu (QEMU hw/misc/edu.c), BAR0 registers: 0x00 id, 0x04 liveness (reads
 * back ~value), 0x80 DMA source, 0x88 DMA destination, 0x90 count, 0x98
 * command (bit 0 start/busy, bit 1 direction edu->RAM).  The device buffer
 * is at 0x40000 in edu's DMA space, 4 KiB.  Two QEMU 7.2 limits shape the
 * numbers below: edu's DMA mask is 28 bits (IOVAs stay below 256 MiB), and
 * a transfer that ends exactly at the end of edu's buffer trips an
 * off-by-one that aborts QEMU, so transfers are 2 KiB.
 *
 * Environment: CONF_CONTAINER, VM_EDU_GROUP/VM_EDU_BDF (see type1_conf.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <linux/vfio.h>

#include "conf.h"

#define EDU_ID		0x00
#define EDU_LIVE	0x04
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
#define XFER		2048

#define IOVA_S 0x100000ULL	/* source buffer, mapped before the device fd is open */
#define IOVA_D 0x200000ULL	/* destination, mapped before */
#define IOVA_E 0x300000ULL	/* mapped after the device fd is open */
#define IOVA_R 0x400000ULL	/* read-only for the device */
#define IOVA_F 0x500000ULL	/* two pages, for the bisecting unmap */
#define IOVA_MMIO 0x600000ULL	/* edu's BAR0 mapped as DMA memory */
#define IOVA_K 0x700000ULL	/* mapped by a fork child, unmapped by the parent */
#define IOVA_M 0x800000ULL	/* mapped by a process that got the fd over SCM_RIGHTS */
#define IOVA_P 0x900000ULL	/* a memfd, its vaddr given by a fork child */
#define BUFSZ 0x10000

struct edu {
	int fd;
	volatile uint8_t *bar0;
	size_t bar0_size;
	uint64_t cfg_off;
};

static uint32_t rd32(struct edu *e, unsigned int off)
{
	return *(volatile uint32_t *)(e->bar0 + off);
}

static void wr64(struct edu *e, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(e->bar0 + off) = v;
}

/* Start one transfer and wait for edu to clear its busy bit. */
static int edu_xfer(struct edu *e, uint64_t src, uint64_t dst, uint32_t to_ram)
{
	struct timespec t0, t1;

	wr64(e, EDU_DMA_SRC, src);
	wr64(e, EDU_DMA_DST, dst);
	wr64(e, EDU_DMA_CNT, XFER);
	*(volatile uint32_t *)(e->bar0 + EDU_DMA_CMD) = EDU_CMD_RUN | to_ram;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (!(rd32(e, EDU_DMA_CMD) & EDU_CMD_RUN))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 10)
			return -1;
		usleep(200);
	}
}

static uint8_t seed;

static void fill(uint8_t *p)
{
	/* a new pattern per check, so a stale copy can never look like success */
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

/* RAM(src) -> edu -> RAM(dst): both directions through the IOMMU. */
static void check_copy(const char *name, struct edu *e, uint8_t *src_va, uint64_t src,
		       uint8_t *dst_va, uint64_t dst)
{
	int r1, r2;

	fill(src_va);
	memset(dst_va, 0, XFER);
	r1 = edu_xfer(e, src, EDU_BUF, 0);
	r2 = edu_xfer(e, EDU_BUF, dst, EDU_CMD_TO_RAM);
	note(name, "DMA(iova 0x%llx -> edu -> iova 0x%llx, %d B) done=%s data=%s",
	     (unsigned long long)src, (unsigned long long)dst, XFER,
	     r1 || r2 ? "timeout" : "yes",
	     !memcmp(src_va, dst_va, XFER) ? "match" : is_zero(dst_va) ? "untouched" : "MISMATCH");
}

/*
 * edu -> RAM(iova): the memory behind @va must stay as it was (zero).  edu's
 * buffer still holds the non-zero pattern of the previous check_copy.
 */
static void check_blocked(const char *name, struct edu *e, uint8_t *va, uint64_t iova)
{
	int r;

	memset(va, 0, XFER);
	r = edu_xfer(e, EDU_BUF, iova, EDU_CMD_TO_RAM);
	note(name, "DMA(edu -> iova 0x%llx, %d B) done=%s memory=%s",
	     (unsigned long long)iova, XFER, r ? "timeout" : "yes",
	     is_zero(va) ? "untouched" : "written");
}

/*
 * mmap a device region with one page of known memory after it (trailer_prot:
 * PROT_NONE, or read-write anonymous RAM), named NAME and NAME"T", so a map
 * that runs past the region's end meets the same thing in every column.
 */
static void *map_region(const char *name, int fd, uint64_t off, size_t size,
			int trailer_prot)
{
	char tname[16];
	uint8_t *r;

	r = mmap(NULL, size + PG, trailer_prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	if (mmap(r, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off) ==
	    MAP_FAILED) {
		munmap(r, size + PG);
		return NULL;
	}
	if (trailer_prot != PROT_NONE)
		memset(r + size, 0, PG);
	snprintf(tname, sizeof(tname), "%sT", name);
	buf_register(name, r, size);
	buf_register(tname, r + size, PG);
	return r;
}

/* PCI_COMMAND through the config region: set and clear bits. */
static int pci_command(int fd, uint64_t cfg_off, uint16_t set, uint16_t clear)
{
	uint16_t cmd = 0;

	if (pread(fd, &cmd, 2, cfg_off + 4) != 2)
		return -1;
	cmd = (uint16_t)((cmd | set) & ~clear);
	return pwrite(fd, &cmd, 2, cfg_off + 4) == 2 ? 0 : -1;
}

static int edu_open(struct edu *e, int g)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vt_res r;
	void *p;

	e->bar0 = NULL;
	r = VT_DO(vt_group_get_device_fd(g, vt_edu_bdf()));
	out("get_device_fd", "GROUP_GET_DEVICE_FD(edu)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	e->fd = r.rc;
	r = VT_DO(ioctl(e->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	out("region_config", "DEVICE_GET_REGION_INFO(config)", r, 0, "size=0x%llx flags=0x%x",
	    (unsigned long long)cfg.size, cfg.flags);
	r = VT_DO(ioctl(e->fd, VFIO_DEVICE_GET_REGION_INFO, &bar));
	out("region_bar0", "DEVICE_GET_REGION_INFO(BAR0)", r, 0, "size=0x%llx flags=0x%x",
	    (unsigned long long)bar.size, bar.flags);
	if (r.rc < 0 || !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -1;
	e->cfg_off = cfg.offset;
	/* RAM after the BAR: a map running past its end meets pinnable memory */
	p = map_region("BAR0", e->fd, bar.offset, bar.size, PROT_READ | PROT_WRITE);
	if (!p) {
		note("mmap_bar0", "mmap(BAR0) failed");
		return -1;
	}
	e->bar0 = p;
	e->bar0_size = bar.size;
	/* vfio-pci leaves memory decoding and bus mastering to the user */
	if (pci_command(e->fd, e->cfg_off, 0x6, 0))
		return -1;
	*(volatile uint32_t *)(e->bar0 + EDU_LIVE) = 0x12345678;
	note("edu_id", "id=0x%08x liveness=0x%08x", rd32(e, EDU_ID), rd32(e, EDU_LIVE));
	return 0;
}

static void edu_close(struct edu *e)
{
	if (e->bar0)
		munmap((void *)e->bar0, e->bar0_size + PG);
	close(e->fd);
}

/*
 * The receiving side of an SCM_RIGHTS transfer, forked before the container
 * exists (as a DPDK secondary process is): it maps @mem at IOVA_M through the
 * container it receives and exits.
 */
static pid_t scm_receiver(int sock, uint8_t *mem, int type)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int c = vt_recv_fd(sock);

		conf_prefix("%s.dma.scm_child", type == VFIO_TYPE1_IOMMU ? "t1" : "t2");
		if (c >= 0)
			p_map_rw("map_m", c, mem, IOVA_M, BUFSZ);
		fflush(stdout);
		_exit(0);
	}
	return pid;
}

static void scm_send(int sock, int fd)
{
	if (vt_send_fd(sock, fd))
		note("scm_send", "sendmsg failed");
}

/*
 * Memory of a memfd (QEMU's guest RAM for cpr): its vaddr invalidated here,
 * given by a fork child through its own mapping of the memfd (the new QEMU),
 * then taken back by this process (the old QEMU after a failed migration).
 * The device must reach the memory throughout: while the child lives, after
 * it is gone, after the take-back.
 */
static void memfd_vaddr(struct stage *st, struct edu *e, uint8_t *s, int type)
{
	const uint32_t msz = sizeof(struct vfio_iommu_type1_dma_map);
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	int mfd, go[2], ready[2], stt;
	uint8_t *p;
	pid_t pid;
	char ch = 0;

	p = buf_new_memfd("P", BUFSZ, &mfd);
	p_map_rw("map_p_memfd", st->c, p, IOVA_P, BUFSZ);
	check_copy("copy_to_memfd_map", e, s, IOVA_S, p, IOVA_P);
	p_unmap("unmap_p_vaddr", st->c, usz, VFIO_DMA_UNMAP_FLAG_VADDR, IOVA_P, BUFSZ, NULL);
	check_copy("copy_while_memfd_vaddr_invalid", e, s, IOVA_S, p, IOVA_P);
	if (pipe(go) || pipe(ready)) {
		note("pipe", "pipe failed");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint8_t *q;

		conf_prefix("%s.dma.vaddr_child", type == VFIO_TYPE1_IOMMU ? "t1" : "t2");
		q = buf_map_memfd("Q", mfd, BUFSZ, 0);
		p_map("map_p_vaddr", st->c, msz, VFIO_DMA_MAP_FLAG_VADDR, (uintptr_t)q, IOVA_P,
		      BUFSZ);
		fflush(stdout);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &ch, 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (pid < 0 || read(ready[0], &ch, 1) != 1)
		note("child", "no child");
	check_copy("copy_after_child_vaddr_update", e, s, IOVA_S, p, IOVA_P);
	if (pid > 0 && write(go[1], "g", 1) == 1)
		waitpid(pid, &stt, 0);
	check_copy("copy_after_child_exit", e, s, IOVA_S, p, IOVA_P);
	p_unmap("unmap_p_vaddr_back", st->c, usz, VFIO_DMA_UNMAP_FLAG_VADDR, IOVA_P, BUFSZ,
		NULL);
	p_map("map_p_vaddr_back", st->c, msz, VFIO_DMA_MAP_FLAG_VADDR, (uintptr_t)p, IOVA_P,
	      BUFSZ);
	check_copy("copy_after_vaddr_back", e, s, IOVA_S, p, IOVA_P);
	p_unmap_simple("unmap_p", st->c, IOVA_P, BUFSZ);
	check_blocked("memfd_unmapped_blocked", e, p, IOVA_P);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	close(mfd);
}

static void run(int type)
{
	const uint32_t msz = sizeof(struct vfio_iommu_type1_dma_map);
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	uint8_t *s, *d, *x, *ro, *f, *v2, *m;
	pid_t receiver = -1;
	struct stage st;
	struct edu e;
	int sv[2] = { -1, -1 };

	conf_prefix("%s.dma", type == VFIO_TYPE1_IOMMU ? "t1" : "t2");
	buf_forget_all();
	/* memory shared with the SCM_RIGHTS receiver, which exists before the container */
	m = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED && !socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		buf_register("M", m, BUFSZ);
		receiver = scm_receiver(sv[1], m, type);
		close(sv[1]);
	}
	if (stage_up(&st, ST_IOMMU, type))
		goto down;
	s = buf_new("S", BUFSZ, PROT_READ | PROT_WRITE);
	d = buf_new("D", BUFSZ, PROT_READ | PROT_WRITE);
	x = buf_new("E", BUFSZ, PROT_READ | PROT_WRITE);
	ro = buf_new("R", BUFSZ, PROT_READ | PROT_WRITE);
	f = buf_new("F", BUFSZ, PROT_READ | PROT_WRITE);
	v2 = buf_new("V", BUFSZ, PROT_READ | PROT_WRITE);

	/* mappings made before the device fd exists */
	p_map_rw("map_s_before_open", st.c, s, IOVA_S, BUFSZ);
	p_map_rw("map_d_before_open", st.c, d, IOVA_D, BUFSZ);
	if (edu_open(&e, st.g))
		goto down;
	check_copy("copy_before_open_maps", &e, s, IOVA_S, d, IOVA_D);
	check_blocked("never_mapped_blocked", &e, x, IOVA_E);

	/* a mapping made after the device fd is open */
	p_map_rw("map_e_after_open", st.c, x, IOVA_E, BUFSZ);
	check_copy("copy_to_after_open_map", &e, s, IOVA_S, x, IOVA_E);
	check_copy("copy_from_after_open_map", &e, x, IOVA_E, d, IOVA_D);

	/* unmap revokes: the device can no longer write there */
	p_unmap_simple("unmap_d", st.c, IOVA_D, BUFSZ);
	check_blocked("unmapped_d_blocked", &e, d, IOVA_D);
	check_copy("other_maps_still_work", &e, s, IOVA_S, x, IOVA_E);

	/* read-only for the device: reads work, writes are blocked */
	p_map("map_r_readonly", st.c, msz, VFIO_DMA_MAP_FLAG_READ, (uintptr_t)ro, IOVA_R, BUFSZ);
	check_copy("readonly_device_reads", &e, ro, IOVA_R, x, IOVA_E);
	check_blocked("readonly_device_write_blocked", &e, ro, IOVA_R);

	/*
	 * A request that bisects a mapping (v2: EINVAL; v1: success, size 0)
	 * must leave the whole mapping translating.
	 */
	p_map_rw("map_f", st.c, f, IOVA_F, 2 * PG);
	p_unmap("unmap_f_bisect", st.c, usz, 0, IOVA_F + PG, PG, NULL);
	check_copy("bisected_map_still_works", &e, s, IOVA_S, f + PG, IOVA_F + PG);
	/* v1: covering only the first page removes all of it */
	p_unmap("unmap_f_first_page", st.c, usz, 0, IOVA_F, PG, NULL);
	check_blocked("second_page_after_first_page_unmap", &e, f + PG, IOVA_F + PG);
	p_unmap_simple("unmap_f_rest", st.c, IOVA_F, 2 * PG);

	/* VADDR invalidation keeps the IOMMU mapping; re-supplying the vaddr works */
	p_unmap("unmap_s_vaddr", st.c, usz, VFIO_DMA_UNMAP_FLAG_VADDR, IOVA_S, BUFSZ, NULL);
	check_copy("copy_while_vaddr_invalid", &e, s, IOVA_S, x, IOVA_E);
	p_map("map_s_vaddr", st.c, msz, VFIO_DMA_MAP_FLAG_VADDR, (uintptr_t)s, IOVA_S, BUFSZ);
	check_copy("copy_after_vaddr_update", &e, s, IOVA_S, x, IOVA_E);
	memfd_vaddr(&st, &e, s, type);

	/*
	 * A VM_PFNMAP vaddr (the device's own BAR, as for peer-to-peer DMA):
	 * type1 maps it without pinning; only the map/unmap answers are checked.
	 */
	p_map_rw("map_bar0_mmio", st.c, (void *)e.bar0, IOVA_MMIO, PG);
	p_unmap_simple("unmap_bar0_mmio", st.c, IOVA_MMIO, PG);

	/*
	 * A process that received the container over SCM_RIGHTS maps memory
	 * through it; the sender's unmap must really revoke it.  This runs
	 * before any fork of this process, so nothing marks the container as
	 * shared in advance.
	 */
	if (receiver > 0) {
		int stt;

		scm_send(sv[0], st.c);
		waitpid(receiver, &stt, 0);
		receiver = -1;
		check_copy("copy_to_scm_map", &e, s, IOVA_S, m, IOVA_M);
		p_unmap_simple("unmap_m_scm_made", st.c, IOVA_M, BUFSZ);
		check_blocked("scm_map_after_sender_unmap_blocked", &e, m, IOVA_M);
	}

	/*
	 * A fork child maps shared memory through the inherited container and
	 * exits; the parent's unmap must really revoke it (the container is one
	 * kernel object, whoever made the mapping).
	 */
	{
		uint8_t *k = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		pid_t pid;
		int stt;

		if (k == MAP_FAILED)
			goto skip_fork;
		buf_register("K", k, BUFSZ);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			conf_prefix("%s.dma.child", type == VFIO_TYPE1_IOMMU ? "t1" : "t2");
			p_map_rw("map_k", st.c, k, IOVA_K, BUFSZ);
			fflush(stdout);
			_exit(0);
		}
		waitpid(pid, &stt, 0);
		check_copy("copy_to_child_map", &e, s, IOVA_S, k, IOVA_K);
		p_unmap_simple("unmap_k_child_made", st.c, IOVA_K, BUFSZ);
		check_blocked("child_map_after_parent_unmap_blocked", &e, k, IOVA_K);
		munmap(k, BUFSZ);
	}
skip_fork:


	/* UNMAP_ALL revokes everything; a new map at the same IOVA works again */
	p_unmap_all("unmap_all", st.c);
	check_blocked("after_unmap_all_e_blocked", &e, x, IOVA_E);
	check_blocked("after_unmap_all_s_blocked", &e, s, IOVA_S);
	p_map_rw("remap_s_other_buffer", st.c, v2, IOVA_S, BUFSZ);
	p_map_rw("remap_e", st.c, x, IOVA_E, BUFSZ);
	check_copy("copy_after_remap", &e, v2, IOVA_S, x, IOVA_E);
	p_unmap_all("unmap_all_end", st.c);
	edu_close(&e);
down:
	/* if the fd was never sent, closing our end makes the receiver's recvmsg return */
	if (sv[0] >= 0)
		close(sv[0]);
	if (receiver > 0)
		waitpid(receiver, NULL, 0);
	if (m != MAP_FAILED)
		munmap(m, BUFSZ);
	stage_down(&st);
}

/*
 * Device BARs as DMA memory (peer-to-peer): MAP_DMA of vaddrs inside mmaps
 * of device regions, which type1 maps by PFN without pinning. edu's BAR0
 * and the NIC's BAR0 (same region index, the NIC's group in a second
 * container) are mapped whole, in part and read-only; edu then reads the
 * NIC's receive-address registers (its MAC address, never zero) through
 * the IOMMU, which shows that each IOVA reaches the right device.
 */
#define IOVA_BAR 0x1000000ULL	/* edu's BAR0, whole */
#define IOVA_BP 0x1200000ULL	/* edu's BAR0, 4 pages from 0x10000 */
#define IOVA_BR 0x1300000ULL	/* edu's BAR0, one page, read-only */
#define IOVA_NIC 0x1400000ULL	/* the NIC's BAR0, whole */
#define IOVA_NP 0x1500000ULL	/* the NIC's BAR0, the page at 0x5000 */
#define IOVA_X 0x1600000ULL	/* RAM, where edu copies what it read */
#define IOVA_B2 0x1700000ULL	/* edu's BAR0 page 0 a second time */
#define IOVA_BT 0x1800000ULL	/* edu's last BAR0 page and the RAM after it */
#define IOVA_NT 0x1900000ULL	/* the NIC's last BAR0 page and the PROT_NONE page after it */
#define IOVA_NC 0x1a00000ULL	/* the NIC's BAR0 after its device fd is closed */
#define IOVA_PF 0x1b00000ULL	/* a PFNMAP of no VFIO device */
#define NIC_RAL0 0x5400		/* e1000e receive address 0: the MAC */

struct nic {
	int g, c, fd;
	volatile uint8_t *bar0;
	size_t size;
	uint64_t cfg_off;
};

/* The NIC's group in a container of its own, its BAR0 mmapped, memory on. */
static int nic_open(struct nic *n, int type)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vt_res r;

	n->fd = -1;
	n->bar0 = NULL;
	r = VT_DO(n->g = open_group(vt_nic_group()));
	out("nic.open_group", "open(nic group)", r, 1, NULL);
	n->c = open_container();
	p_set_container("nic.set_container", n->g, n->c);
	p_set_iommu("nic.set_iommu", n->c, (unsigned long)type);
	r = VT_DO(vt_group_get_device_fd(n->g, vt_nic_bdf()));
	out("nic.get_device_fd", "GROUP_GET_DEVICE_FD(nic)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	n->fd = r.rc;
	r = VT_DO(ioctl(n->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	r = VT_DO(ioctl(n->fd, VFIO_DEVICE_GET_REGION_INFO, &bar));
	out("nic.region_bar0", "DEVICE_GET_REGION_INFO(BAR0)", r, 0, "size=0x%llx flags=0x%x",
	    (unsigned long long)bar.size, bar.flags);
	if (r.rc < 0 || !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -1;
	n->cfg_off = cfg.offset;
	n->size = bar.size;
	/* nothing pinnable after this BAR */
	n->bar0 = map_region("NIC", n->fd, bar.offset, bar.size, PROT_NONE);
	if (!n->bar0 || pci_command(n->fd, n->cfg_off, 0x2, 0)) {
		note("nic.mmap_bar0", "mmap(BAR0) or memory enable failed");
		return -1;
	}
	return 0;
}

static void nic_close(struct nic *n)
{
	if (n->bar0)
		munmap((void *)n->bar0, n->size + PG);
	if (n->fd >= 0)
		close(n->fd);
	close(n->g);
	close(n->c);
}

/*
 * edu reads 8 bytes at @iova (via its buffer, pre-filled with a pattern)
 * and copies them to RAM at IOVA_X: "device" if they are what the CPU
 * reads at @cpu, "blocked" if the pattern came back (nothing was read),
 * else "other".
 */
static void check_read(const char *name, struct edu *e, uint64_t iova,
		       const volatile uint8_t *cpu, uint8_t *x)
{
	uint32_t want[2] = { *(const volatile uint32_t *)cpu,
			     *(const volatile uint32_t *)(cpu + 4) };
	uint8_t pattern[8];
	int r1, r2, r3;

	fill(x);
	memcpy(pattern, x, sizeof(pattern));
	r1 = edu_xfer(e, IOVA_X, EDU_BUF, 0);
	memset(x, 0, XFER);
	r2 = edu_xfer(e, iova, EDU_BUF, 0);
	r3 = edu_xfer(e, EDU_BUF, IOVA_X, EDU_CMD_TO_RAM);
	note(name, "DMA(iova 0x%llx -> edu -> RAM, 8 B) done=%s data=%s",
	     (unsigned long long)iova, r1 || r2 || r3 ? "timeout" : "yes",
	     !memcmp(x, want, 8) ? "device" : !memcmp(x, pattern, 8) ? "blocked" : "other");
}

/*
 * A PFNMAP of no VFIO device: a memory BAR of a PCI device no driver has
 * claimed, through its sysfs resource file. NULL if the guest has none.
 */
static void *map_foreign_pfnmap(void)
{
	const char *dirs = "/sys/bus/pci/devices";
	unsigned long long start, end, flags;
	char path[320], lnk[8];
	struct dirent *de;
	void *p = NULL;
	FILE *f;
	DIR *d;
	int i, fd;

	d = opendir(dirs);
	while (d && !p && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/driver", dirs, de->d_name);
		if (readlink(path, lnk, sizeof(lnk)) >= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/resource", dirs, de->d_name);
		f = fopen(path, "r");
		for (i = 0; f && !p && i < 6; i++) {
			if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
				break;
			/* IORESOURCE_MEM, at least a page */
			if (!(flags & 0x200) || !start || end - start + 1 < PG)
				continue;
			snprintf(path, sizeof(path), "%s/%s/resource%d", dirs, de->d_name, i);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				continue;
			p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			close(fd);
			if (p == MAP_FAILED)
				p = NULL;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return p;
}

static void run_bar(int type)
{
	const uint32_t msz = sizeof(struct vfio_iommu_type1_dma_map);
	const uint32_t usz = sizeof(struct vfio_iommu_type1_dma_unmap);
	const uint32_t F_UD = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	volatile uint8_t *b;
	struct stage st;
	struct edu e;
	struct nic n;
	uint8_t *x;
	void *pf;

	conf_prefix("%s.bar", type == VFIO_TYPE1_IOMMU ? "t1" : "t2");
	buf_forget_all();
	if (vt_nic_group() < 0 || !vt_nic_bdf()) {
		note("skipped", "no second device (VM_NIC_GROUP/VM_NIC_BDF)");
		return;
	}
	if (stage_up(&st, ST_IOMMU, type))
		goto down;
	x = buf_new("X", BUFSZ, PROT_READ | PROT_WRITE);
	p_map_rw("map_x", st.c, x, IOVA_X, BUFSZ);
	if (edu_open(&e, st.g))
		goto down;
	if (nic_open(&n, type)) {
		nic_close(&n);
		goto close_edu;
	}
	b = e.bar0;

	/* whole, partial, read-only; the same BAR page at a second IOVA */
	p_map_rw("map_whole", st.c, (void *)b, IOVA_BAR, e.bar0_size);
	p_map_rw("map_partial", st.c, (void *)(b + 0x10000), IOVA_BP, 4 * PG);
	p_map("map_readonly", st.c, msz, VFIO_DMA_MAP_FLAG_READ, (uintptr_t)(b + 0x20000),
	      IOVA_BR, PG);
	p_map_rw("map_same_page_again", st.c, (void *)b, IOVA_B2, PG);
	/* refused by type1's own checks, or by the record */
	p_map("map_unaligned_vaddr", st.c, msz, RW, (uintptr_t)(b + 0x800), IOVA_NC, PG);
	p_map("map_unaligned_size", st.c, msz, RW, (uintptr_t)b, IOVA_NC, 0x800);
	p_map_rw("map_overlapping_iova", st.c, (void *)(b + 0x30000), IOVA_BAR + PG, PG);
	p_map_rw("map_overlapping_end", st.c, (void *)(b + 0x30000), IOVA_BAR - PG, 2 * PG);
	/* past the BAR's end: RAM after edu's, nothing after the NIC's */
	p_map_rw("map_bar_then_ram", st.c, (void *)(b + e.bar0_size - PG), IOVA_BT, 2 * PG);
	p_map_rw("map_bar_then_nothing", st.c, (void *)(n.bar0 + n.size - PG), IOVA_NT, 2 * PG);

	/* the NIC's BAR0: another device with the same region index, another container */
	p_map_rw("map_nic_whole", st.c, (void *)n.bar0, IOVA_NIC, n.size);
	p_map_rw("map_nic_page", st.c, (void *)(n.bar0 + 0x5000), IOVA_NP, PG);
	check_read("read_nic_whole", &e, IOVA_NIC + NIC_RAL0, n.bar0 + NIC_RAL0, x);
	check_read("read_nic_page", &e, IOVA_NP + (NIC_RAL0 - 0x5000), n.bar0 + NIC_RAL0, x);
	p_avail("avail_with_bars", st.c);

	/* the dirty bitmap over BAR mappings */
	dirty_flags("dirty_start", st.c, 8, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
	dirty_get("dirty_get_whole", st.c, 0, IOVA_BAR, 0x100000, PG, 32, 0, PAT);
	dirty_get("dirty_get_partial", st.c, 0, IOVA_BP, 8 * PG, PG, 8, 0, PAT);
	unmap_dirty("unmap_dirty_readonly", st.c, F_UD, IOVA_BR, PG, PG, 8);
	dirty_flags("dirty_stop", st.c, 8, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);

	/* v1 removes whole mappings from their start, v2 refuses to bisect */
	p_unmap("unmap_partial_middle", st.c, usz, 0, IOVA_BP + PG, PG, NULL);
	p_unmap("unmap_partial_first_page", st.c, usz, 0, IOVA_BP, PG, NULL);
	p_unmap("unmap_partial_rest", st.c, usz, 0, IOVA_BP, 4 * PG, NULL);
	p_unmap("unmap_nic_both", st.c, usz, 0, IOVA_NIC, IOVA_NP + PG - IOVA_NIC, NULL);
	check_read("read_nic_after_unmap", &e, IOVA_NIC + NIC_RAL0, n.bar0 + NIC_RAL0, x);

	/* memory decoding off and on again while the BAR is mapped */
	p_map_rw("map_nic_again", st.c, (void *)n.bar0, IOVA_NIC, n.size);
	check_read("read_nic_mapped_again", &e, IOVA_NIC + NIC_RAL0, n.bar0 + NIC_RAL0, x);
	pci_command(n.fd, n.cfg_off, 0, 0x2);
	pci_command(n.fd, n.cfg_off, 0x2, 0);
	check_read("read_nic_after_memory_toggle", &e, IOVA_NIC + NIC_RAL0,
		   n.bar0 + NIC_RAL0, x);
	p_unmap_simple("unmap_nic_after_memory_toggle", st.c, IOVA_NIC, n.size);
	/* memory decoding off: the BAR's mmap faults, so a new map cannot be made */
	pci_command(n.fd, n.cfg_off, 0, 0x2);
	p_map_rw("map_nic_memory_off", st.c, (void *)(n.bar0 + PG), IOVA_NC, PG);
	pci_command(n.fd, n.cfg_off, 0x2, 0);
	p_map_rw("map_nic_after_memory_toggle", st.c, (void *)n.bar0, IOVA_NIC, n.size);
	check_read("read_nic_remapped", &e, IOVA_NIC + NIC_RAL0, n.bar0 + NIC_RAL0, x);

	/* the device fd closed while its BAR stays mmapped and mapped */
	close(n.fd);
	n.fd = -1;
	check_read("read_nic_fd_closed", &e, IOVA_NIC + NIC_RAL0, n.bar0 + NIC_RAL0, x);
	p_map_rw("map_nic_fd_closed", st.c, (void *)(n.bar0 + PG), IOVA_NC, PG);
	munmap((void *)n.bar0, n.size + PG);
	n.bar0 = NULL;
	p_unmap_simple("unmap_nic_fd_closed_munmapped", st.c, IOVA_NIC, n.size);

	/* a PFNMAP range that belongs to no VFIO device */
	pf = map_foreign_pfnmap();
	note("foreign_pfnmap", "%s", pf ? "found" : "none in this guest");
	if (pf) {
		buf_register("PF", pf, PG);
		p_map_rw("map_foreign_pfnmap", st.c, pf, IOVA_PF, PG);
	}

	/* UNMAP_ALL takes the BAR mappings with the rest */
	p_unmap_all("unmap_all", st.c);
	check_read("read_edu_bar_after_unmap_all", &e, IOVA_BAR, b, x);
	if (pf)
		munmap(pf, PG);
	nic_close(&n);
close_edu:
	edu_close(&e);
down:
	stage_down(&st);
}

/*
 * RLIMIT_MEMLOCK lowered (CAP_IPC_LOCK dropped): a map over the budget fails
 * ENOMEM mid-sequence, and what was mapped before still translates, what was
 * refused does not, and an unmap-all removes exactly what was mapped.
 * In a child: the capability is gone for good once dropped.
 */
static void run_memlock(int type)
{
	struct rlimit rl = { 2 * BUFSZ, 2 * BUFSZ };
	struct stage st;
	struct edu e;
	uint8_t *s, *d, *x;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid) {
		waitpid(pid, NULL, 0);
		return;
	}
	conf_prefix("%s.dma_memlock", type == VFIO_TYPE1_IOMMU ? "t1" : "t2");
	buf_forget_all();
	if (conf_drop_cap(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl)) {
		note("setup", "cannot lower the memlock limit");
		_exit(1);
	}
	if (stage_up(&st, ST_IOMMU, type))
		_exit(1);
	s = buf_new("S", BUFSZ, PROT_READ | PROT_WRITE);
	d = buf_new("D", BUFSZ, PROT_READ | PROT_WRITE);
	x = buf_new("E", BUFSZ, PROT_READ | PROT_WRITE);
	p_map_rw("map_s", st.c, s, IOVA_S, BUFSZ);
	p_map_rw("map_d", st.c, d, IOVA_D, BUFSZ);
	p_map_rw("map_e_over_limit", st.c, x, IOVA_E, BUFSZ);
	if (!edu_open(&e, st.g)) {
		check_copy("copy_within_limit", &e, s, IOVA_S, d, IOVA_D);
		check_blocked("refused_map_blocked", &e, x, IOVA_E);
		p_unmap_all("unmap_all", st.c);
		check_blocked("after_unmap_all_blocked", &e, d, IOVA_D);
		edu_close(&e);
	}
	stage_down(&st);
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	if (vt_edu_group() < 0 || !vt_edu_bdf()) {
		fprintf(stderr, "edu_dma: set VM_EDU_BDF (and VM_EDU_GROUP)\n");
		return 2;
	}
	run(VFIO_TYPE1_IOMMU);
	run(VFIO_TYPE1v2_IOMMU);
	run_bar(VFIO_TYPE1_IOMMU);
	run_bar(VFIO_TYPE1v2_IOMMU);
	run_memlock(VFIO_TYPE1_IOMMU);
	run_memlock(VFIO_TYPE1v2_IOMMU);
	conf_prefix("end");
	note("dma_complete", "done");
	return 0;
}
