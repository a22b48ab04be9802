// SPDX-License-Identifier: MIT
/*
 * QEMU's edu device as a DMA engine (vfiotest.h), driven through a VFIO
 * device fd: its BAR0 mmapped, memory decoding and bus mastering on, one
 * transfer at a time between guest memory (an IOVA) and its 4 KiB buffer.
 *
 * BAR0 registers (QEMU hw/misc/edu.c): 0x80 DMA source, 0x88 destination,
 * 0x90 count, 0x98 command (bit 0 start/busy, bit 1 edu -> RAM).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vfiotest.h"

#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define PCI_COMMAND_OFF 4

int vt_edu_open(struct vt_edu *e, int device_fd)
{
	struct vfio_region_info cfg = {.argsz = sizeof(cfg),
				       .index = VFIO_PCI_CONFIG_REGION_INDEX};
	struct vfio_region_info bar = {.argsz = sizeof(bar),
				       .index = VFIO_PCI_BAR0_REGION_INDEX};
	void *p;

	e->fd = device_fd;
	e->bar0 = NULL;
	if (ioctl(device_fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    ioctl(device_fd, VFIO_DEVICE_GET_REGION_INFO, &bar))
		return -1;
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = ENODEV;
		return -1;
	}
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, device_fd,
		 (off_t)bar.offset);
	if (p == MAP_FAILED)
		return -1;
	e->bar0 = p;
	e->bar0_size = bar.size;
	e->cfg_off = cfg.offset;
	return 0;
}

int vt_edu_command(struct vt_edu *e, uint16_t set, uint16_t clear,
		   uint16_t *now)
{
	uint16_t cmd;
	off_t at = (off_t)(e->cfg_off + PCI_COMMAND_OFF);

	if (pread(e->fd, &cmd, 2, at) != 2)
		return -1;
	if (set || clear) {
		cmd = (uint16_t)((cmd | set) & ~clear);
		if (pwrite(e->fd, &cmd, 2, at) != 2)
			return -1;
	}
	if (now)
		*now = cmd;
	return 0;
}

int vt_edu_dma(struct vt_edu *e, uint64_t src, uint64_t dst, uint32_t len,
	       int to_ram)
{
	volatile uint8_t *r = e->bar0;
	struct timespec t0, t1;

	*(volatile uint64_t *)(r + EDU_DMA_SRC) = src;
	*(volatile uint64_t *)(r + EDU_DMA_DST) = dst;
	*(volatile uint64_t *)(r + EDU_DMA_CNT) = len;
	*(volatile uint32_t *)(r + EDU_DMA_CMD) =
		EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* edu works on a QEMU timer: poll the busy bit, 10 s at most */
	while (*(volatile uint32_t *)(r + EDU_DMA_CMD) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 10) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(200);
	}
	return 0;
}

void vt_edu_close(struct vt_edu *e)
{
	if (e->bar0)
		munmap((void *)e->bar0, e->bar0_size);
	e->bar0 = NULL;
}
