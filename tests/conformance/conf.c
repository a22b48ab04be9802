// SPDX-License-Identifier: MIT
/*
 * Shared helpers of the type1 conformance programs: canonical output, named
 * buffers, and printing wrappers of the container ioctls (the calls
 * themselves are the type1 test library's, tests/lib).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>

#include "conf.h"

const uint32_t RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

/* ---------------------------------------------------------------- names */

static char prefix[128];

void conf_prefix(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
}

const char *conf_get_prefix(void)
{
	return prefix;
}

/* ---------------------------------------------------------------- output */

const char *errname(int err)
{
	const char *n;

	if (!err)
		return "OK";
	n = strerrorname_np(err);
	return n ? n : "E?";
}

void sb_init(struct sbuf *b)
{
	b->n = 0;
	b->s[0] = 0;
}

void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->n >= sizeof(b->s) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->n += (size_t)k;
	if (b->n >= sizeof(b->s))
		b->n = sizeof(b->s) - 1;
}

/*
 * One write per line, flushed: the suite forks, and a line buffered in a
 * parent must never be emitted twice or interleave with a child's.
 */
static void emit(const char *s)
{
	fputs(s, stdout);
	fflush(stdout);
}

void out(const char *name, const char *call, struct vt_res r, int is_fd,
	 const char *extra, ...)
{
	struct sbuf b;
	va_list ap;

	sb_init(&b);
	sb_add(&b, "%s.%s %s = ", prefix, name, call);
	if (r.rc < 0)
		sb_add(&b, "%ld %s", r.rc, errname(r.err));
	else if (is_fd)
		sb_add(&b, "fd OK");
	else
		sb_add(&b, "%ld OK", r.rc);
	if (extra && *extra) {
		char tmp[3072];

		va_start(ap, extra);
		vsnprintf(tmp, sizeof(tmp), extra, ap);
		va_end(ap);
		sb_add(&b, " %s", tmp);
	}
	sb_add(&b, "\n");
	emit(b.s);
}

void note(const char *name, const char *fmt, ...)
{
	struct sbuf b;
	char tmp[3072];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_init(&b);
	sb_add(&b, "%s.%s %s\n", prefix, name, tmp);
	emit(b.s);
}

/* ---------------------------------------------------------------- buffers */

struct nbuf {
	char name[16];
	uint64_t base;
	size_t len;
};
static struct nbuf bufs[32];
static int nbufs;

void buf_register(const char *name, const void *p, size_t len)
{
	if (nbufs < (int)(sizeof(bufs) / sizeof(bufs[0]))) {
		snprintf(bufs[nbufs].name, sizeof(bufs[nbufs].name), "%s", name);
		bufs[nbufs].base = (uintptr_t)p;
		bufs[nbufs].len = len;
		nbufs++;
	}
}

void *buf_new(const char *name, size_t len, int prot)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(3);
	}
	/* fault every page in so pinning never depends on first-touch */
	memset(p, 0, len);
	if (prot != (PROT_READ | PROT_WRITE) && mprotect(p, len, prot)) {
		perror("mprotect");
		exit(3);
	}
	buf_register(name, p, len);
	return p;
}

void *buf_map_memfd(const char *name, int fd, size_t len, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	if (p == MAP_FAILED) {
		perror("mmap memfd");
		exit(3);
	}
	buf_register(name, p, len);
	return p;
}

void *buf_new_memfd(const char *name, size_t len, int *fd)
{
	void *p;

	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0 || ftruncate(*fd, (off_t)len)) {
		perror("memfd");
		exit(3);
	}
	p = buf_map_memfd(name, *fd, len, 0);
	memset(p, 0, len);
	return p;
}

void buf_forget_all(void)
{
	nbufs = 0;
}

const char *va_name(uint64_t va, char *tmp, size_t n)
{
	for (int i = nbufs - 1; i >= 0; i--) {
		if (va >= bufs[i].base && va - bufs[i].base < bufs[i].len) {
			snprintf(tmp, n, "%s+0x%llx", bufs[i].name,
				 (unsigned long long)(va - bufs[i].base));
			return tmp;
		}
	}
	snprintf(tmp, n, "0x%llx", (unsigned long long)va);
	return tmp;
}

void diff_ranges(const void *a, const void *b, size_t n, char *o, size_t on)
{
	const uint8_t *x = a, *y = b;
	size_t i = 0, k = 0;
	int any = 0;

	o[0] = 0;
	while (i < n) {
		size_t s;

		if (x[i] == y[i]) {
			i++;
			continue;
		}
		s = i;
		while (i < n && x[i] != y[i])
			i++;
		k += snprintf(o + k, k < on ? on - k : 0, "%s%zu-%zu",
			      any ? "," : "[", s, i - 1);
		any = 1;
	}
	if (any)
		snprintf(o + k, k < on ? on - k : 0, "]");
	else
		snprintf(o, on, "none");
}

/* ---------------------------------------------------------------- raw calls */

/* CONF_CONTAINER: column (b) is the same program on /dev/iommu */
int open_container(void)
{
	return vt_open_container(vt_container_path("CONF_CONTAINER"),
				 O_RDWR | O_CLOEXEC);
}

int open_group(int group)
{
	return vt_open_group(group, O_RDWR | O_CLOEXEC);
}

/* ---------------------------------------------------------------- printing wrappers */

struct vt_res p_map(const char *name, int c, uint32_t argsz, uint32_t flags,
		 uint64_t vaddr, uint64_t iova, uint64_t size)
{
	/* room for argsz > sizeof: the tail is pattern-filled to see stray writes */
	union {
		struct vfio_iommu_type1_dma_map m;
		uint8_t b[64];
	} u, before;
	char va[64], wr[256], call[256];
	struct vt_res r;

	memset(&u, 0xa5, sizeof(u));
	u.m.argsz = argsz;
	u.m.flags = flags;
	u.m.vaddr = vaddr;
	u.m.iova = iova;
	u.m.size = size;
	before = u;
	r = VT_DO(ioctl(c, VFIO_IOMMU_MAP_DMA, &u.m));
	diff_ranges(&before, &u, sizeof(u), wr, sizeof(wr));
	snprintf(call, sizeof(call),
		 "MAP_DMA(argsz=%u,flags=0x%x,vaddr=%s,iova=0x%llx,size=0x%llx)",
		 argsz, flags, va_name(vaddr, va, sizeof(va)),
		 (unsigned long long)iova, (unsigned long long)size);
	out(name, call, r, 0, "wr=%s", wr);
	return r;
}

struct vt_res p_map_rw(const char *name, int c, void *va, uint64_t iova, uint64_t size)
{
	return p_map(name, c, sizeof(struct vfio_iommu_type1_dma_map), RW,
		     (uintptr_t)va, iova, size);
}

struct vt_res p_unmap(const char *name, int c, uint32_t argsz, uint32_t flags,
		   uint64_t iova, uint64_t size, uint64_t *out_size)
{
	union {
		struct vfio_iommu_type1_dma_unmap u;
		uint8_t b[64];
	} u, before;
	char wr[256], call[256];
	struct vt_res r;

	memset(&u, 0xa5, sizeof(u));
	u.u.argsz = argsz;
	u.u.flags = flags;
	u.u.iova = iova;
	u.u.size = size;
	before = u;
	r = VT_DO(ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u.u));
	diff_ranges(&before, &u, sizeof(u), wr, sizeof(wr));
	snprintf(call, sizeof(call),
		 "UNMAP_DMA(argsz=%u,flags=0x%x,iova=0x%llx,size=0x%llx)",
		 argsz, flags, (unsigned long long)iova, (unsigned long long)size);
	out(name, call, r, 0, "size=0x%llx wr=%s", (unsigned long long)u.u.size, wr);
	if (out_size)
		*out_size = u.u.size;
	return r;
}

struct vt_res p_unmap_simple(const char *name, int c, uint64_t iova, uint64_t size)
{
	return p_unmap(name, c, sizeof(struct vfio_iommu_type1_dma_unmap), 0,
		       iova, size, NULL);
}

struct vt_res p_unmap_all(const char *name, int c)
{
	return p_unmap(name, c, sizeof(struct vfio_iommu_type1_dma_unmap),
		       VFIO_DMA_UNMAP_FLAG_ALL, 0, 0, NULL);
}

struct vt_res p_ext(const char *name, int c, unsigned long ext)
{
	char call[64];
	struct vt_res r = VT_DO(vt_check_extension(c, ext));

	snprintf(call, sizeof(call), "CHECK_EXTENSION(0x%lx)", ext);
	out(name, call, r, 0, NULL);
	return r;
}

struct vt_res p_set_iommu(const char *name, int c, unsigned long type)
{
	char call[64];
	struct vt_res r = VT_DO(vt_set_iommu(c, type));

	snprintf(call, sizeof(call), "SET_IOMMU(0x%lx)", type);
	out(name, call, r, 0, NULL);
	return r;
}

struct vt_res p_set_container(const char *name, int g, int c)
{
	struct vt_res r = VT_DO(vt_group_set_container(g, c));

	out(name, "GROUP_SET_CONTAINER(container)", r, 0, NULL);
	return r;
}

struct vt_res p_unset_container(const char *name, int g)
{
	struct vt_res r = VT_DO(vt_group_unset_container(g));

	out(name, "GROUP_UNSET_CONTAINER()", r, 0, NULL);
	return r;
}

/* ---- GET_INFO ---- */

#define INFO_BUF 1024

/* FNV-1a: a short stand-in for "every byte" in a line */
static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Decode header and cap chain from @b (INFO_BUF bytes) into @sb. */
static void decode_info(struct sbuf *sb, const uint8_t *b)
{
	uint32_t flags = vt_rd32(b + 4);
	struct vt_caps it;

	sb_add(sb, "argsz=%u flags=0x%x pgsizes=0x%llx cap_offset=0x%x pad=0x%x",
	       vt_rd32(b), flags, (unsigned long long)vt_rd64(b + 8),
	       vt_rd32(b + 16), vt_rd32(b + 20));
	if (!(flags & VFIO_IOMMU_INFO_CAPS))
		return;
	sb_add(sb, " caps=");
	for (vt_caps_init(&it, b, INFO_BUF); vt_caps_next(&it);) {
		const uint8_t *h = b + it.off;
		uint32_t off = it.off;

		sb_add(sb, "%s{@0x%x id=%u v=%u next=0x%x", it.n > 1 ? "," : "",
		       off, it.id, it.version, it.next);
		if (it.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE && off + 16 <= INFO_BUF) {
			uint32_t nr = vt_rd32(h + 8);

			sb_add(sb, " IOVA_RANGE nr=%u rsv=0x%x", nr, vt_rd32(h + 12));
			for (uint32_t i = 0; i < nr && i < 16 &&
			     off + 16 + 16 * (i + 1) <= INFO_BUF; i++)
				sb_add(sb, " [0x%llx-0x%llx]",
				       (unsigned long long)vt_rd64(h + 16 + 16 * i),
				       (unsigned long long)vt_rd64(h + 24 + 16 * i));
		} else if (it.id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION && off + 32 <= INFO_BUF) {
			sb_add(sb, " MIGRATION flags=0x%x pad=0x%x pgsize_bitmap=0x%llx max_dirty_bitmap_size=0x%llx",
			       vt_rd32(h + 8), vt_rd32(h + 12), (unsigned long long)vt_rd64(h + 16),
			       (unsigned long long)vt_rd64(h + 24));
		} else if (it.id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL && off + 16 <= INFO_BUF) {
			sb_add(sb, " DMA_AVAIL avail=%u pad=0x%x", vt_rd32(h + 8), vt_rd32(h + 12));
		}
		sb_add(sb, "}");
	}
}

static struct vt_res info_call(int c, uint32_t argsz, uint8_t pat, uint8_t *b)
{
	memset(b, pat, INFO_BUF);
	memcpy(b, &argsz, 4);
	return VT_DO(ioctl(c, VFIO_IOMMU_GET_INFO, b));
}

struct vt_res p_info(const char *name, int c, uint32_t argsz, uint32_t *want)
{
	static uint8_t b1[INFO_BUF], b2[INFO_BUF], p1[INFO_BUF], p2[INFO_BUF];
	char wr[512], call[64];
	struct sbuf sb;
	struct vt_res r, r2;

	/*
	 * argsz may exceed the buffer on purpose: type1 writes only what it
	 * has (header and caps), never argsz bytes.
	 */
	r = info_call(c, argsz, 0xa5, b1);
	r2 = info_call(c, argsz, 0x5a, b2);
	/* a byte counts as written if it changed under either pattern */
	memset(p1, 0xa5, sizeof(p1));
	memcpy(p1, &argsz, 4);
	memset(p2, 0x5a, sizeof(p2));
	memcpy(p2, &argsz, 4);
	for (int i = 0; i < INFO_BUF; i++) {
		if (b2[i] != p2[i] && b1[i] == p1[i])
			p1[i] ^= 0xff;	/* force a difference at i */
	}
	diff_ranges(p1, b1, INFO_BUF, wr, sizeof(wr));
	sb_init(&sb);
	sb_add(&sb, "wr=%s", wr);
	if (r2.rc != r.rc || r2.err != r.err)
		sb_add(&sb, " second_call=%ld/%s", r2.rc, errname(r2.err));
	if (r.rc >= 0) {
		sb_add(&sb, " ");
		decode_info(&sb, b1);
	}
	sb_add(&sb, " h=%08x", fnv(b1, INFO_BUF));
	snprintf(call, sizeof(call), "GET_INFO(argsz=%u)", argsz);
	out(name, call, r, 0, "%s", sb.s);
	if (want)
		*want = r.rc >= 0 ? vt_rd32(b1) : 0;
	return r;
}

struct vt_res p_avail(const char *name, int c)
{
	static uint8_t b[INFO_BUF];
	struct vt_res r = info_call(c, INFO_BUF, 0, b);
	uint32_t off = r.rc < 0 ? 0 :
		vt_info_cap_find(b, INFO_BUF, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
				 sizeof(struct vfio_iommu_type1_info_dma_avail));

	if (!off)
		out(name, "GET_INFO(DMA_AVAIL)", r, 0, "avail=none");
	else
		out(name, "GET_INFO(DMA_AVAIL)", r, 0, "avail=%u", vt_rd32(b + off + 8));
	return r;
}

/* ---------------------------------------------------------------- staging */

int stage_up(struct stage *s, int upto, int type)
{
	struct vt_res r;

	s->c = s->g = -1;
	s->type = type;
	r = VT_DO(s->c = open_container());
	out("setup.open_container", "open(container)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	if (upto < ST_GROUP)
		return 0;
	r = VT_DO(s->g = open_group(vt_edu_group()));
	out("setup.open_group", "open(group)", r, 1, NULL);
	if (r.rc < 0)
		return -1;
	if (p_set_container("setup.set_container", s->g, s->c).rc < 0)
		return -1;
	if (upto < ST_IOMMU)
		return 0;
	if (p_set_iommu("setup.set_iommu", s->c, type).rc < 0)
		return -1;
	return 0;
}

void stage_down(struct stage *s)
{
	if (s->g >= 0) {
		vt_group_unset_container(s->g);
		close(s->g);
	}
	if (s->c >= 0)
		close(s->c);
	s->c = s->g = -1;
}

int conf_drop_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	d[cap / 32].permitted &= ~(1u << (cap % 32));
	d[cap / 32].inheritable &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &h, d);
}

/* ---- dirty pages ---- */

struct vt_res dirty_flags(const char *name, int c, uint32_t argsz, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = { .argsz = argsz, .flags = flags };
	char call[96];
	struct vt_res r = VT_DO(ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &d));

	snprintf(call, sizeof(call), "DIRTY_PAGES(argsz=%u,flags=0x%x)", argsz, flags);
	out(name, call, r, 0, NULL);
	return r;
}

/* The bitmap's words as type1 left them, in hex. */
static void sb_add_bitmap(struct sbuf *sb, const uint64_t bm[BM_WORDS])
{
	for (int i = 0; i < BM_WORDS; i++)
		sb_add(sb, "%s%016llx", i ? "," : "", (unsigned long long)bm[i]);
}

/*
 * GET_BITMAP over [iova, iova+size) with a pattern-filled bitmap: type1
 * writes whole u64 words per mapping and ORs the low bits it shifts over,
 * so the final words show exactly which user bits it kept.
 */
struct vt_res dirty_get(const char *name, int c, int argsz_delta,
			    uint64_t iova, uint64_t size, uint64_t pgsize,
			    uint64_t bmsize, int null_data, uint64_t fill)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get g;
	} __attribute__((packed)) q;
	uint64_t bm[BM_WORDS];
	struct sbuf sb;
	char call[192];
	struct vt_res r;

	for (int i = 0; i < BM_WORDS; i++)
		bm[i] = fill;
	memset(&q, 0, sizeof(q));
	q.d.argsz = (uint32_t)((int)sizeof(q) + argsz_delta);
	q.d.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	q.g.iova = iova;
	q.g.size = size;
	q.g.bitmap.pgsize = pgsize;
	q.g.bitmap.size = bmsize;
	q.g.bitmap.data = null_data ? NULL : (void *)bm;
	r = VT_DO(ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &q));
	snprintf(call, sizeof(call),
		 "DIRTY_PAGES(GET_BITMAP,argsz=%u,iova=0x%llx,size=0x%llx,pgsize=0x%llx,bmsize=0x%llx%s)",
		 q.d.argsz, (unsigned long long)iova, (unsigned long long)size,
		 (unsigned long long)pgsize, (unsigned long long)bmsize,
		 null_data ? ",data=NULL" : "");
	sb_init(&sb);
	sb_add(&sb, "bitmap=");
	sb_add_bitmap(&sb, bm);
	out(name, call, r, 0, "%s", sb.s);
	return r;
}

struct vt_res unmap_dirty(const char *name, int c, uint32_t flags, uint64_t iova,
			      uint64_t size, uint64_t pgsize, uint64_t bmsize)
{
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} __attribute__((packed)) q;
	uint64_t bm[BM_WORDS];
	struct sbuf sb;
	char call[192];
	struct vt_res r;

	for (int i = 0; i < BM_WORDS; i++)
		bm[i] = PAT;
	memset(&q, 0, sizeof(q));
	q.u.argsz = sizeof(q);
	q.u.flags = flags;
	q.u.iova = iova;
	q.u.size = size;
	q.b.pgsize = pgsize;
	q.b.size = bmsize;
	q.b.data = (void *)bm;
	r = VT_DO(ioctl(c, VFIO_IOMMU_UNMAP_DMA, &q));
	snprintf(call, sizeof(call),
		 "UNMAP_DMA(argsz=%u,flags=0x%x,iova=0x%llx,size=0x%llx,pgsize=0x%llx,bmsize=0x%llx)",
		 q.u.argsz, flags, (unsigned long long)iova, (unsigned long long)size,
		 (unsigned long long)pgsize, (unsigned long long)bmsize);
	sb_init(&sb);
	sb_add(&sb, "size=0x%llx bitmap=", (unsigned long long)q.u.size);
	sb_add_bitmap(&sb, bm);
	out(name, call, r, 0, "%s", sb.s);
	return r;
}
