// SPDX-License-Identifier: MIT
/*
 * VFIOCOMPAT_LOG=trace: each container call as the caller saw it, one line
 * with the request's name, its arguments (the fields, not the pointer) and
 * its result. The request table names the printers; see container_priv.h.
 */
#include <stdio.h>
#include <linux/vfio.h>

#include "config.h"
#include "container_priv.h"
#include "log.h"
#include "report.h"
#include "request.h"
#include "uaccess.h"

bool trace_value(void *arg, char *buf, size_t len)
{
	snprintf(buf, len, "%lu", (unsigned long)arg);
	return true;
}

bool trace_map_dma(void *arg, char *buf, size_t len)
{
	struct vfio_iommu_type1_dma_map m;

	if (copy_from_user(&m, arg, sizeof(m)))
		return false;
	snprintf(buf, len, "iova=%#llx size=%#llx vaddr=%#llx flags=%#x",
		 (unsigned long long)m.iova, (unsigned long long)m.size,
		 (unsigned long long)m.vaddr, m.flags);
	return true;
}

bool trace_unmap_dma(void *arg, char *buf, size_t len)
{
	struct vfio_iommu_type1_dma_unmap u;

	if (copy_from_user(&u, arg, sizeof(u)))
		return false;
	snprintf(buf, len, "iova=%#llx size=%#llx flags=%#x",
		 (unsigned long long)u.iova, (unsigned long long)u.size,
		 u.flags);
	return true;
}

/* What UNMAP_DMA reported back. */
bool trace_unmap_dma_result(void *arg, char *buf, size_t len)
{
	struct vfio_iommu_type1_dma_unmap u;

	if (copy_from_user(&u, arg, sizeof(u)))
		return false;
	snprintf(buf, len, "0, size %#llx", (unsigned long long)u.size);
	return true;
}

/* container_ioctl() with VFIOCOMPAT_LOG's trace category on. */
__attribute__((noinline)) long container_ioctl_traced(struct container *c,
						      int fd, unsigned int cmd,
						      void *arg)
{
	const struct container_request *req = container_request(cmd);
	char args[128], res[48], b[16];
	long rc;

	if (!req || !req->trace_args ||
	    !req->trace_args(arg, args, sizeof(args)))
		snprintf(args, sizeof(args), "%p", arg);
	rc = container_dispatch(c, fd, cmd, arg);
	if (shim_config.report_file)
		report_call(cmd, rc);
	if (rc < 0)
		snprintf(res, sizeof(res), "%s", errno_name((int)-rc, b));
	else if (!req || !req->trace_result ||
		 !req->trace_result(arg, res, sizeof(res)))
		snprintf(res, sizeof(res), "%ld", rc);
	if (req)
		shim_log(SHIM_LOG_DEBUG, SHIM_CAT_TRACE, "fd %d %s(%s) = %s",
			 fd, req->name, args, res);
	else
		shim_log(SHIM_LOG_DEBUG, SHIM_CAT_TRACE,
			 "fd %d ioctl %#x(%s) = %s", fd, cmd, args, res);
	return rc;
}
