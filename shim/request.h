/* SPDX-License-Identifier: MIT */
/*
 * The container requests, one row each (the model is the kernel's iommufd
 * IOCTL_OP table): dispatch, the call trace, the report and the interposer's
 * "is this a container request" all read the same rows, so a new request is
 * one row in container.c. Types only; no dependencies of its own.
 */
#ifndef SHIM_REQUEST_H
#define SHIM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

struct container;

/* How a request is served (the report's "class"). */
enum request_serve {
	REQ_REFUSED,	/* no such container request: ENOTTY/EINVAL as type1 */
	REQ_TRANSLATED,	/* into iommufd calls */
	REQ_EMULATED,	/* type1's answer computed by the shim alone */
};

struct container_request {
	unsigned int cmd;	/* the ioctl number, as the kernel sees it */
	const char *name;	/* "VFIO_IOMMU_MAP_DMA" */
	/* argsz's minimum (end of the last mandatory field); 0: a value */
	size_t minsz;
	enum request_serve serve;
	/* EINVAL before VFIO_SET_IOMMU (or after the last group left) */
	uint8_t needs_iommu;
	long (*handler)(struct container *c, int fd, void *arg);
	/*
	 * The call trace: the arguments, and what a successful call wrote back;
	 * false (or NULL) prints the pointer, or the return value.
	 */
	bool (*trace_args)(void *arg, char *buf, size_t len);
	bool (*trace_result)(void *arg, char *buf, size_t len);
};

/* The row of number VFIO_BASE + nr, whatever cmd's other bits, or NULL. */
const struct container_request *container_request_nr(unsigned int nr);

/* The row serving exactly cmd, or NULL. */
static inline const struct container_request *
container_request(unsigned int cmd)
{
	const struct container_request *r =
		container_request_nr((cmd & 0xff) - VFIO_BASE);

	return r && r->cmd == cmd ? r : NULL;
}

static inline const char *request_serve_name(enum request_serve serve)
{
	static const char *const names[] = {
		[REQ_REFUSED] = "refused",
		[REQ_TRANSLATED] = "translated",
		[REQ_EMULATED] = "emulated",
	};

	return names[serve];
}

#endif /* SHIM_REQUEST_H */
