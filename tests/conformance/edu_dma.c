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

static int edu_open(struct edu *e, int g)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	uint16_t cmd = 0;
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
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, bar.offset);
	if (p == MAP_FAILED) {
		note("mmap_bar0", "mmap(BAR0) failed");
		return -1;
	}
	e->bar0 = p;
	e->bar0_size = bar.size;
	buf_register("BAR0", p, bar.size);
	/* vfio-pci leaves memory decoding and bus mastering to the user */
	if (pread(e->fd, &cmd, 2, e->cfg_off + 4) != 2)
		return -1;
	cmd |= 0x6;
	if (pwrite(e->fd, &cmd, 2, e->cfg_off + 4) != 2)
		return -1;
	*(volatile uint32_t *)(e->bar0 + EDU_LIVE) = 0x12345678;
	note("edu_id", "id=0x%08x liveness=0x%08x", rd32(e, EDU_ID), rd32(e, EDU_LIVE));
	return 0;
}

static void edu_close(struct edu *e)
{
	if (e->bar0)
		munmap((void *)e->bar0, e->bar0_size);
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
	run_memlock(VFIO_TYPE1_IOMMU);
	run_memlock(VFIO_TYPE1v2_IOMMU);
	conf_prefix("end");
	note("dma_complete", "done");
	return 0;
}
