// SPDX-License-Identifier: MIT
/*
 * VFIO type1 container semantics on an iommufd IOAS (see container.h), the
 * table of container requests and its dispatch. MAP/UNMAP over the record
 * are in container_dma.c, the dirty-bitmap emulation in container_dirty.c,
 * the call trace in container_trace.c. Function names follow the VFIO ioctl
 * they serve (VFIO_IOMMU_MAP_DMA -> container_map_dma()); the order of the
 * checks inside each is type1's, so the first error type1 would report is
 * the one reported.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "config.h"
#include "container_group.h"
#include "container_priv.h"
#include "group.h"
#include "internal.h"
#include "log.h"
#include "report.h"
#include "request.h"
#include "uaccess.h"

/* The record's file: ours, kept off the caller's dup2() and close(). */
struct record_fd {
	struct shim_obj obj;
	struct container *c;
};

static void record_fd_moved(struct shim_obj *obj, int from, int to)
{
	struct record_fd *p = (struct record_fd *)obj;

	if (p->c->rec.fd == from)
		p->c->rec.fd = to;
}

static void record_fd_free(struct shim_obj *obj)
{
	free(obj);
}

static const struct shim_obj_ops record_fd_ops = {
	.moved = record_fd_moved,
	.free = record_fd_free,
};

static void container_free(struct shim_obj *obj)
{
	struct container *c = (struct container *)obj;

	dirty_release(c);
	if (c->rec.fd >= 0)
		fdtable_remove(c->rec.fd);
	record_close(&c->rec);
	free(c->groups);
	free(c);
}

static const struct shim_obj_ops container_ops = {
	.free = container_free,
};

/* c->s->pgsizes changed: keep the hot path's alignment mask in step. */
static void set_pgsizes(struct container *c, uint64_t pgsizes)
{
	c->s->pgsizes = pgsizes;
	c->s->pgmask = min_pgsize(c) - 1;
}

static struct container *container_new(uint32_t ioas_id)
{
	struct container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->obj.ops = &container_ops;
	c->obj.kind = SHIM_CONTAINER;
	c->ioas_id = ioas_id;
	c->rec.fd = -1;
	return c;
}

/* c->rec is open: view it, and guard its file among the caller's fds. */
static int container_attach(struct container *c)
{
	struct record_fd *p;
	int rc;

	c->s = &c->rec.h->st;
	c->dirty_epoch = c->s->dirty_epoch;
	maptree_view(&c->maps, &c->s->maps, record_nodes(&c->rec),
		     record_grow_nodes, &c->rec);
	if (c->rec.fd < 0)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->obj.ops = &record_fd_ops;
	p->obj.kind = SHIM_PRIVATE;
	p->obj.refs = 1;
	p->c = c;
	rc = fdtable_add(c->rec.fd, &p->obj);
	obj_put(&p->obj);
	return rc;
}

/* A new record for the container, keyed on fd; the caller fills it. */
static int container_new_record(struct container *c, int fd)
{
	int rc = record_create(&c->rec, fd);

	if (rc)
		return rc;
	rc = container_attach(c);
	if (rc)
		return rc;
	c->s->dma_entry_limit = shim_config.dma_entry_limit;
	set_pgsizes(c, 0);
	return 0;
}

int container_open(int flags, struct container **out)
{
	struct container *c;
	uint32_t ioas_id;
	int fd, rc;

	fd = iommufd_open(flags | CONTAINER_MARK);
	if (fd < 0)
		return fd;
	/*
	 * type1 charges pinned memory to the process (mm->locked_vm); iommufd
	 * charges the user unless asked, which needs CAP_SYS_RESOURCE and an
	 * iommufd with no objects yet, so this comes first.
	 */
	rc = iommufd_option_rlimit_mode(fd, 1);
	if (rc)
		report_difference(REPORT_DIFF_MEMLOCK_PER_USER);
	if (rc)
		shim_dbg(SHIM_CAT_INIT,
			 "per-process memlock accounting unavailable (%d); "
			 "iommufd charges the user",
			 rc);
	rc = iommufd_ioas_alloc(fd, &ioas_id);
	if (rc)
		goto err_close_fd;
	/* groups that join this fd bind to our IOAS, not a kernel-made one */
	rc = iommufd_vfio_ioas(fd, IOMMU_VFIO_IOAS_SET, &ioas_id);
	if (rc)
		goto err_close_fd;
	c = container_new(ioas_id);
	if (!c) {
		rc = -ENOMEM;
		goto err_close_fd;
	}
	rc = container_new_record(c, fd);
	if (rc) {
		c->obj.refs = 1;
		obj_put(&c->obj);
		goto err_close_fd;
	}
	/* records of containers nobody holds any more go now */
	record_sweep(fd);
	*out = c;
	return fd;

err_close_fd:
	iommufd_close(fd);
	return rc;
}

/* The record we found, checked under its lock before anything trusts it. */
static int container_check_record(struct container *c, int fd)
{
	int rc = container_attach(c);

	if (rc)
		return rc;
	rc = container_lock(c, fd);
	if (rc)
		return rc;
	if (!record_fits(&c->rec) || maptree_check(&c->maps))
		rc = -EUCLEAN;
	record_unlock(&c->rec);
	return rc;
}

int container_adopt(int fd, struct container **out)
{
	struct container *c;
	uint32_t ioas_id = 0;
	int rc;

	rc = iommufd_status_flags(fd);
	if (rc < 0)
		return rc;
	if (!(rc & CONTAINER_MARK))
		return -ENOENT;
	rc = iommufd_vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &ioas_id);
	if (rc == -ENODEV) {
		rc = iommufd_ioas_alloc(fd, &ioas_id);
		if (!rc)
			rc = iommufd_vfio_ioas(fd, IOMMU_VFIO_IOAS_SET,
					       &ioas_id);
	}
	if (rc)
		return rc;
	c = container_new(ioas_id);
	if (!c)
		return -ENOMEM;
	c->obj.refs = 1;
	rc = record_open(&c->rec, fd);
	if (!rc) {
		rc = container_check_record(c, fd);
		if (!rc) {
			*out = c;
			return 0;
		}
	}
	/*
	 * No record: the fd holds no key (a shim that could make no file) or
	 * its file is gone or not sound. Serve it from a new record, keyed on
	 * it now so later holders share this one, as a TYPE1v2 container
	 * whose mappings the kernel completes (listed difference).
	 */
	if (rc == -EUCLEAN)
		shim_warn(SHIM_CAT_CONTAINER,
			  "container fd %d: its record is damaged; serving it "
			  "from a new, empty record",
			  fd);
	if (c->rec.key)
		iommufd_key_clear(fd, c->rec.key);
	if (c->rec.fd >= 0)
		fdtable_remove(c->rec.fd);
	record_close(&c->rec);
	c->rec.key = 0;
	c->s = NULL;
	rc = container_new_record(c, fd);
	if (rc) {
		obj_put(&c->obj);
		return rc;
	}
	c->s->adopted = 1;
	report_difference(REPORT_DIFF_ADOPTED);
	c->s->type = VFIO_TYPE1v2_IOMMU;
	set_pgsizes(c, 4096);
	*out = c;
	return 0;
}

/* Page sizes and usable iova ranges of the domains now attached. */
static void container_refresh_domain(struct container *c, int fd)
{
	struct iommufd_range buf[RECORD_MAX_RANGES];
	uint32_t num = RECORD_MAX_RANGES;
	uint64_t align, pgsizes;

	if (!iommufd_compat_pgsizes(fd, &pgsizes) && pgsizes)
		set_pgsizes(c, pgsizes);
	if (iommufd_ioas_iova_ranges(fd, c->ioas_id, buf, &num, &align))
		return;
	memcpy(c->s->ranges, buf, num * sizeof(*buf));
	c->s->nranges = num;
}

/* The last group left: type1 drops every mapping and the iommu driver. */
static void container_reset(struct container *c, int fd)
{
	uint64_t unmapped;

	dirty_free_all(c);
	/* whatever the kernel refuses to drop stays in the record too */
	if (fd >= 0 && maptree_count(&c->maps))
		unmap_range(c, fd, 0, UINT64_MAX, maptree_count(&c->maps),
			    &unmapped);
	else
		maptree_clear(&c->maps);
	if (!maptree_count(&c->maps))
		c->s->mapped_bytes = 0;
	c->s->type = 0;
	c->s->dirty_tracking = false;
	set_pgsizes(c, 0);
	c->s->nranges = 0;
}

static long container_check_extension(struct container *c, int fd, void *arg)
{
	unsigned long ext = (unsigned long)arg;
	int rc;

	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		if (!c->s->type)
			return 0;
		rc = iommufd_compat_cache_coherent(fd);
		return rc > 0 ? 1 : 0;
	case VFIO_UPDATE_VADDR:
		/* as type1 once there is a driver, where the kernel lets us */
		if (!c->s->type)
			return 0;
		if (vaddr_supported(c, fd))
			return 1;
		/* listed difference before 6.13 */
		report_difference(REPORT_DIFF_VADDR);
		return 0;
	case SHIM_TYPE1_NESTING_IOMMU:
		/* type1 claims it until 6.13 removed it (never served here) */
		return !type1_since(6, 13);
	default:
		/* SPAPR, EEH, anything else type1 does not claim */
		return 0;
	}
}

static long container_set_iommu(struct container *c, int fd, void *arg)
{
	unsigned long type = (unsigned long)arg;
	uint32_t i, j;
	int rc;

	if (!c->ngroups || c->s->type)
		return -EINVAL;
	switch (type) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		break;
	case VFIO_UNMAP_ALL:
		/* type1 claims the extension, then its open() refuses it */
		return -EINVAL;
	case SHIM_TYPE1_NESTING_IOMMU:
		/*
		 * Not served. Before 6.13 type1 takes it and its attach fails
		 * (x86 IOMMUs cannot nest): EINVAL; since, no driver: ENODEV.
		 */
		report_difference(REPORT_DIFF_NESTING);
		return type1_since(6, 13) ? -ENODEV : -EINVAL;
	default:
		return -ENODEV;
	}
	/* newest first, as type1's list */
	for (i = c->ngroups; i--;) {
		rc = group_attach(c->groups[i]);
		if (rc)
			goto err_detach_groups;
	}
	c->s->type = (int)type;
	c->s->dma_entry_limit = shim_config.dma_entry_limit;
	container_refresh_domain(c, fd);
	shim_dbg(SHIM_CAT_CONTAINER, "container: %s, pgsizes %#llx, %u ranges",
		 type == VFIO_TYPE1_IOMMU ? "TYPE1 (v1)" : "TYPE1v2",
		 (unsigned long long)c->s->pgsizes, c->s->nranges);
	return 0;

err_detach_groups:
	for (j = c->ngroups; --j > i;)
		group_detach(c->groups[j]);
	return rc;
}

/*
 * Caps in type1's order (MIGRATION, DMA_AVAIL, IOVA_RANGE), each 8-byte
 * aligned, chained by offsets from the start of the info struct.
 */
static size_t build_caps(const struct container *c, uint8_t *buf, size_t len)
{
	struct vfio_iommu_type1_info_cap_migration mig = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
			    .version = 1 },
		.pgsize_bitmap = min_pgsize(c),
		.max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX,
	};
	struct vfio_iommu_type1_info_dma_avail avail = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			    .version = 1 },
		.avail = c->s->dma_entry_limit - maptree_count(&c->maps),
	};
	struct vfio_iommu_type1_info_cap_iova_range range = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			    .version = 1 },
		.nr_iovas = c->s->nranges,
	};
	const size_t base = sizeof(struct vfio_iommu_type1_info);
	size_t off = 0, sz_mig = (sizeof(mig) + 7) & ~7ul,
	       sz_avail = (sizeof(avail) + 7) & ~7ul,
	       sz_range = sizeof(range) +
			  c->s->nranges * sizeof(struct vfio_iova_range);
	size_t total = sz_mig + sz_avail + (c->s->nranges ? sz_range : 0);
	uint32_t i;

	if (!buf || len < total)
		return total;
	memset(buf, 0, total);
	mig.header.next = base + sz_mig;
	memcpy(buf, &mig, sizeof(mig));
	off += sz_mig;
	avail.header.next = c->s->nranges ? base + off + sz_avail : 0;
	memcpy(buf + off, &avail, sizeof(avail));
	off += sz_avail;
	if (c->s->nranges) {
		memcpy(buf + off, &range, sizeof(range));
		for (i = 0; i < c->s->nranges; i++) {
			struct vfio_iova_range r = {
				.start = c->s->ranges[i].start,
				.end = c->s->ranges[i].last,
			};
			memcpy(buf + off + sizeof(range) + i * sizeof(r), &r,
			       sizeof(r));
		}
	}
	return total;
}

static long container_get_info(struct container *c, int fd, void *arg)
{
	struct vfio_iommu_type1_info info = { 0 };
	size_t minsz = GET_INFO_MINSZ;
	size_t caps_size, copy;
	uint8_t *caps;
	int rc;

	rc = copy_from_user(&info, arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	copy = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	if (!c->s->adopted)
		container_refresh_domain(c, fd);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = c->s->pgsizes;
	info.cap_offset = 0;
	info.pad = 0;
	caps_size = build_caps(c, NULL, 0);
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	if (info.argsz < sizeof(info) + caps_size) {
		/* type1: say how much is needed, copy no caps */
		info.argsz = sizeof(info) + caps_size;
	} else {
		caps = malloc(caps_size);
		if (!caps)
			return -ENOMEM;
		build_caps(c, caps, caps_size);
		rc = copy_to_user(user_offset(arg, sizeof(info)), caps,
				  caps_size);
		free(caps);
		if (rc)
			return rc;
		info.cap_offset = sizeof(info);
	}
	return copy_to_user(arg, &info, copy);
}

/* VFIO_GET_API_VERSION: the container's API, whatever its state. */
static long container_get_api_version(struct container *c, int fd, void *arg)
{
	(void)c, (void)fd, (void)arg;
	return VFIO_API_VERSION;
}

/* One row per container request; the index is the request's VFIO_BASE + nr. */
#define REQUEST(_cmd, _minsz, _serve, _needs_iommu, _handler, ...)     \
	[_IOC_NR(_cmd) - VFIO_BASE] = {                                \
		.cmd = _cmd,                                           \
		.name = #_cmd,                                         \
		.minsz = _minsz,                                       \
		.serve = _serve,                                       \
		.needs_iommu = _needs_iommu,                           \
		.handler = _handler,                                   \
		__VA_ARGS__                                            \
	}

static const struct container_request requests[] = {
	REQUEST(VFIO_GET_API_VERSION, 0, REQ_EMULATED, false,
		container_get_api_version),
	REQUEST(VFIO_CHECK_EXTENSION, 0, REQ_EMULATED, false,
		container_check_extension, .trace_args = trace_value),
	REQUEST(VFIO_SET_IOMMU, 0, REQ_TRANSLATED, false, container_set_iommu,
		.trace_args = trace_value),
	REQUEST(VFIO_IOMMU_GET_INFO, GET_INFO_MINSZ, REQ_TRANSLATED, true,
		container_get_info),
	REQUEST(VFIO_IOMMU_MAP_DMA, MAP_DMA_MINSZ, REQ_TRANSLATED, true,
		container_map_dma, .trace_args = trace_map_dma),
	REQUEST(VFIO_IOMMU_UNMAP_DMA, UNMAP_DMA_MINSZ, REQ_TRANSLATED, true,
		container_unmap_dma, .trace_args = trace_unmap_dma,
		.trace_result = trace_unmap_dma_result),
	REQUEST(VFIO_IOMMU_DIRTY_PAGES, DIRTY_PAGES_MINSZ, REQ_EMULATED, true,
		container_dirty_pages),
};

const struct container_request *container_request_nr(unsigned int nr)
{
	if (nr >= ARRAY_SIZE(requests) || !requests[nr].name)
		return NULL;
	return &requests[nr];
}

long container_dispatch(struct container *c, int fd, unsigned int cmd,
			void *arg)
{
	const struct container_request *req = container_request(cmd);

	/* no iommu driver yet (or any more): type1's container says EINVAL */
	if (!c->s->type && (!req || req->needs_iommu))
		return -EINVAL;
	if (!req)
		return -ENOTTY;
	return req->handler(c, fd, arg);
}

__attribute__((noinline)) long container_ioctl_slow(struct container *c,
						    int fd, unsigned int cmd,
						    void *arg)
{
	long rc;

	if (log_enabled(SHIM_LOG_DEBUG, SHIM_CAT_TRACE))
		return container_ioctl_traced(c, fd, cmd, arg);
	rc = container_dispatch(c, fd, cmd, arg);
	if (shim_config.report_file)
		report_call(cmd, rc);
	return rc;
}
bool container_has_iommu(const struct container *c)
{
	return c->s->type != 0;
}

int container_iommufd(const struct container *c, unsigned int *ioas_id)
{
	*ioas_id = c->ioas_id;
	return obj_fd(&c->obj) >= 0 ? obj_fd(&c->obj) : -EBADF;
}

void container_get(struct container *c)
{
	obj_get(&c->obj);
}

void container_put(struct container *c)
{
	obj_put(&c->obj);
}

static int groups_reserve(struct container *c)
{
	uint32_t cap = c->groups_cap ? c->groups_cap * 2 : 4;
	struct group **p;

	if (c->ngroups < c->groups_cap)
		return 0;
	p = realloc(c->groups, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->groups = p;
	c->groups_cap = cap;
	return 0;
}

int container_group_joined(struct container *c, int cfd, struct group *g)
{
	int rc;

	rc = groups_reserve(c);
	if (rc)
		return rc;
	/* type1 attaches a group joining a container that already has a driver */
	rc = container_lock(c, cfd);
	if (rc)
		return rc;
	if (c->s->type) {
		/* type1: attaching may pin, which an invalid vaddr forbids */
		rc = vaddr_any_invalid(c) ? -EBUSY : group_attach(g);
		if (!rc)
			container_refresh_domain(c, cfd);
	}
	record_unlock(&c->rec);
	if (rc)
		return rc;
	obj_get(&g->obj);
	c->groups[c->ngroups++] = g;
	return 0;
}

void container_group_left(struct container *c, struct group *g, bool detached)
{
	uint32_t i;

	for (i = 0; i < c->ngroups; i++) {
		if (c->groups[i] == g) {
			memmove(&c->groups[i], &c->groups[i + 1],
				(c->ngroups - i - 1) * sizeof(*c->groups));
			c->ngroups--;
			obj_put(&g->obj);
			break;
		}
	}
	/* the last group gone deprivileges the container: type1 drops everything */
	if (!c->ngroups && detached) {
		int fd = obj_fd(&c->obj);

		if (container_lock(c, fd))
			return;
		container_reset(c, fd);
		record_unlock(&c->rec);
	}
}
