// SPDX-License-Identifier: MIT
/*
 * pgsize: which IOMMU page size a DPDK-style VFIO_TYPE1_IOMMU (v1) container
 * gets for 2 MiB hugepages, seen from the (emulated) IOMMU itself.
 *
 *   pgsize IOVA_BASE
 *
 * Maps NPAGES 2 MiB hugepages, one MAP_DMA each (as DPDK maps its memory
 * segments), at IOVA_BASE + i * 2 MiB, then has QEMU's edu device read
 * 2 KiB by DMA at offset 0 and at offset 1 MiB + 4 KiB of every hugepage.
 * Each DMA is translated by QEMU's intel-iommu, which traces the walk on
 * the host: vtd_iotlb_page_update (an IOTLB miss: the leaf entry it found,
 * with its page-size bit, bit 7 of a second-level PTE above level 1) and
 * vtd_iotlb_page_hit. scripts/bench reads that trace: a 2 MiB IOMMU page
 * gives one miss with bit 7 set per hugepage, and the second DMA hits; 4 KiB
 * pages give two misses with bit 7 clear. Distinct IOVA_BASEs tell the
 * containers of one guest run apart in the one trace file.
 *
 * edu (QEMU hw/misc/edu.c): BAR0 0x80 DMA source, 0x88 destination, 0x90
 * count, 0x98 command (bit 0 run); its buffer is at 0x40000 in its DMA
 * space and its DMA mask is 28 bits, so IOVA_BASE + NPAGES * 2 MiB stays
 * below 256 MiB. Prints one line per DMA: "dma IOVA ok|timeout".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "benchvfio.h"

#define NPAGES 4
#define HPAGE 0x200000ull
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_BUF 0x40000
#define XFER 2048

static volatile uint8_t *bar0;

static int edu_read(uint64_t iova)
{
	uint64_t t0 = bench_now_ns();

	*(volatile uint64_t *)(bar0 + EDU_DMA_SRC) = iova;
	*(volatile uint64_t *)(bar0 + EDU_DMA_DST) = EDU_BUF;
	*(volatile uint64_t *)(bar0 + EDU_DMA_CNT) = XFER;
	*(volatile uint32_t *)(bar0 + EDU_DMA_CMD) = EDU_CMD_RUN;
	while (*(volatile uint32_t *)(bar0 + EDU_DMA_CMD) & EDU_CMD_RUN) {
		if (bench_now_ns() - t0 > 10000000000ull)
			return -1;
		usleep(100);
	}
	return 0;
}

static void die(const char *what)
{
	perror(what);
	exit(3);
}

int main(int argc, char **argv)
{
	struct vfio_region_info cfg = {.argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX};
	struct vfio_region_info bar = {.argsz = sizeof(bar),
				       .index = VFIO_PCI_BAR0_REGION_INDEX};
	struct vt_container v;
	uint64_t base, iova;
	uint16_t cmd;
	uint8_t *mem;
	void *p;
	int i, rc, fails = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: pgsize IOVA_BASE\n");
		return 2;
	}
	base = strtoull(argv[1], NULL, 0);
	if (base & (HPAGE - 1) || base + NPAGES * HPAGE > (1ull << 28)) {
		fprintf(stderr,
			"pgsize: IOVA_BASE must be 2 MiB aligned and below 256 "
			"MiB - %llu MiB\n",
			NPAGES * HPAGE >> 20);
		return 2;
	}
	bench_vfio_open(&v, VFIO_TYPE1_IOMMU);
	mem = bench_alloc(NPAGES * HPAGE, 1);
	for (i = 0; i < NPAGES; i++) {
		rc = vb_map(v.container, base + i * HPAGE, HPAGE,
			    mem + i * HPAGE,
			    VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
		if (rc) {
			fprintf(stderr, "pgsize: MAP_DMA: %s\n", strerror(-rc));
			return 1;
		}
	}
	if (ioctl(v.device, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    ioctl(v.device, VFIO_DEVICE_GET_REGION_INFO, &bar))
		die("VFIO_DEVICE_GET_REGION_INFO");
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, v.device,
		 (off_t)bar.offset);
	if (p == MAP_FAILED)
		die("mmap(BAR0)");
	bar0 = p;
	/* vfio-pci leaves memory decoding and bus mastering to the user */
	if (pread(v.device, &cmd, 2, (off_t)cfg.offset + 4) != 2)
		die("config read");
	cmd |= 0x6;
	if (pwrite(v.device, &cmd, 2, (off_t)cfg.offset + 4) != 2)
		die("config write");
	for (i = 0; i < NPAGES; i++) {
		iova = base + i * HPAGE;
		rc = edu_read(iova);
		printf("dma 0x%llx %s\n", (unsigned long long)iova,
		       rc ? "timeout" : "ok");
		fails += rc != 0;
		iova += HPAGE / 2 + 0x1000;
		rc = edu_read(iova);
		printf("dma 0x%llx %s\n", (unsigned long long)iova,
		       rc ? "timeout" : "ok");
		fails += rc != 0;
	}
	cmd &= (uint16_t)~0x4;
	if (pwrite(v.device, &cmd, 2, (off_t)cfg.offset + 4) != 2)
		die("config write");
	munmap(p, bar.size);
	for (i = 0; i < NPAGES; i++)
		vb_unmap(v.container, base + i * HPAGE, HPAGE);
	bench_vfio_close(&v);
	return fails ? 1 : 0;
}
