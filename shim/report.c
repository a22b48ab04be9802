// SPDX-License-Identifier: MIT
/* The VFIOCOMPAT_REPORT counters and their JSON; see report.h and README. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfiocompat.h"
#include "libc.h"
#include "log.h"
#include "report.h"
#include "request.h"
#include "sigdefer.h"

#define NREQ 64	/* VFIO_BASE + 0..63: every container request type1 refuses too */
#define NERR 8	/* distinct errnos kept per request */

struct req_stats {
	uint64_t count;
	uint64_t ok;
	int err[NERR];
	uint64_t err_count[NERR];
};

/* How the request of that number is served: an unknown one is refused. */
static enum request_serve req_serve(unsigned int nr)
{
	const struct container_request *req = container_request_nr(nr);

	return req ? req->serve : REQ_REFUSED;
}

static struct {
	struct req_stats req[NREQ];
	uint64_t other;		/* requests outside VFIO's range */
	uint64_t diff[REPORT_DIFF_COUNT];
	uint64_t containers;
	uint64_t cdev_groups;	/* groups the shim served over the device cdevs */
	bool fallback;
	uint32_t peak_mappings;
	uint64_t peak_bytes;
} st;

static const char *const diff_names[REPORT_DIFF_COUNT] = {
	[REPORT_DIFF_VADDR] = "update_vaddr",
	[REPORT_DIFF_NESTING] = "type1_nesting",
	[REPORT_DIFF_MEMLOCK_PER_USER] = "memlock_per_user",
	[REPORT_DIFF_MAP_EFAULT] = "map_efault_mmio",
	[REPORT_DIFF_ADOPTED] = "adopted_without_record",
	[REPORT_DIFF_VADDR_NOT_REHOMED] = "update_vaddr_not_rehomed",
};

static void report_event(const char *kind, const char *name);

void report_call(unsigned int cmd, long rc)
{
	unsigned int nr = (cmd & 0xff) - VFIO_BASE;
	struct req_stats *r;
	int i;

	if ((cmd & 0xff) < VFIO_BASE || nr >= NREQ) {
		st.other++;
		return;
	}
	r = &st.req[nr];
	if (!r->count && req_serve(nr) == REQ_REFUSED) {
		char name[32];

		snprintf(name, sizeof(name), "VFIO_BASE+%u", nr);
		report_event("refused", name);
	}
	r->count++;
	if (rc >= 0) {
		r->ok++;
		return;
	}
	for (i = 0; i < NERR; i++) {
		if (!r->err[i])
			r->err[i] = (int)-rc;
		if (r->err[i] == (int)-rc) {
			r->err_count[i]++;
			return;
		}
	}
}

static const char *report_path;

void report_set_file(const char *path)
{
	report_path = path;
}

/* Append one short line now: a process that leaves with _exit() or a
 * signal never writes its summary, and --strict must still see this. */
static void report_event(const char *kind, const char *name)
{
	char line[256];
	int fd, n, saved = errno;

	if (!report_path)
		return;
	n = snprintf(line, sizeof(line),
		     "{\"vfiocompat\":\"%s\",\"pid\":%d,\"event\":\"%s\","
		     "\"name\":\"%s\",\"strict_ok\":false}\n",
		     VFIOCOMPAT_VERSION_STRING, (int)getpid(), kind, name);
	fd = real.open(report_path,
		       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		       0644);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) < 0) {
			/* the summary at exit will try again */
		}
		real.close(fd);
	}
	errno = saved;
}

void report_difference(enum report_diff d)
{
	/* the first hit of each, as it happens (memlock is informational) */
	if (!st.diff[d] && d != REPORT_DIFF_MEMLOCK_PER_USER)
		report_event("difference", diff_names[d]);
	st.diff[d]++;
}

void report_fallback(void)
{
	if (!st.fallback)
		report_event("fallback", "type1");
	st.fallback = true;
}

void report_container_opened(void)
{
	st.containers++;
}

void report_cdev_group_opened(void)
{
	st.cdev_groups++;
}

void report_mappings(uint32_t count, uint64_t bytes)
{
	if (count > st.peak_mappings)
		st.peak_mappings = count;
	if (bytes > st.peak_bytes)
		st.peak_bytes = bytes;
}

void report_reset(void)
{
	memset(&st, 0, sizeof(st));
}

bool report_used(void)
{
	return st.containers || st.fallback;
}

struct jbuf {
	char *p;
	size_t left;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct jbuf *b,
						       const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p, b->left, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->left) {
		b->full = true;
		b->left = 0;
		return;
	}
	b->p += n;
	b->left -= (size_t)n;
}

/* "calls":{...} by the table's names; returns the refused count. */
static uint64_t put_calls(struct jbuf *b)
{
	uint64_t refused = 0;
	unsigned int nr, first = 1;
	char ebuf[16];
	int i;

	for (nr = 0; nr < NREQ; nr++) {
		struct req_stats *r = &st.req[nr];
		const struct container_request *req = container_request_nr(nr);
		const char *name = req ? req->name : NULL;
		char unknown[32];

		if (!r->count)
			continue;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "VFIO_BASE+%u", nr);
			name = unknown;
		}
		if (req_serve(nr) == REQ_REFUSED)
			refused += r->count;
		put(b, "%s\"%s\":{\"class\":\"%s\",\"count\":%llu,\"ok\":%llu,"
		       "\"errors\":{",
		    first ? "" : ",", name, request_serve_name(req_serve(nr)),
		    (unsigned long long)r->count, (unsigned long long)r->ok);
		first = 0;
		for (i = 0; i < NERR && r->err[i]; i++)
			put(b, "%s\"%s\":%llu", i ? "," : "",
			    errno_name(r->err[i], ebuf),
			    (unsigned long long)r->err_count[i]);
		put(b, "}}");
	}
	return refused;
}

/* "differences":{...}; returns how many count against strict_ok. */
static uint64_t put_differences(struct jbuf *b)
{
	uint64_t diffs = 0;
	int i;

	for (i = 0; i < REPORT_DIFF_COUNT; i++) {
		put(b, "%s\"%s\":%llu", i ? "," : "", diff_names[i],
		    (unsigned long long)st.diff[i]);
		/* informational: only matters to several processes of one user */
		if (i != REPORT_DIFF_MEMLOCK_PER_USER)
			diffs += st.diff[i];
	}
	return diffs;
}

int report_write(const char *path)
{
	char line[8192], exe[512];
	struct jbuf b = { line, sizeof(line) - 1, false };
	uint64_t refused, diffs;
	ssize_t n;
	int fd, i, saved = errno;

	n = real.readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	for (i = 0; exe[i]; i++)
		if (exe[i] == '"' || exe[i] == '\\' || (unsigned char)exe[i] < 32)
			exe[i] = '?';
	put(&b, "{\"vfiocompat\":\"%s\",\"pid\":%d,\"program\":\"%s\","
		"\"fallback\":%s,\"containers\":%llu,\"cdev_groups\":%llu,"
		"\"calls\":{",
	    VFIOCOMPAT_VERSION_STRING, (int)getpid(), exe,
	    st.fallback ? "true" : "false", (unsigned long long)st.containers,
	    (unsigned long long)st.cdev_groups);
	refused = put_calls(&b);
	put(&b, "},\"other_requests\":%llu,\"differences\":{",
	    (unsigned long long)st.other);
	diffs = put_differences(&b);
	put(&b, "},\"peak_mappings\":%u,\"peak_mapped_bytes\":%llu,"
		"\"signals_deferred\":%lu,\"refused\":%llu,\"differences_hit\":%llu,\"strict_ok\":%s}",
	    st.peak_mappings, (unsigned long long)st.peak_bytes,
	    sigdefer_count(), (unsigned long long)refused, (unsigned long long)diffs,
	    refused || diffs || st.fallback ? "false" : "true");
	if (b.full)
		return -ENOSPC;
	*b.p++ = '\n';
	fd = real.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				     O_NOFOLLOW,
		       0644);
	if (fd < 0) {
		int err = errno;

		errno = saved;
		return -err;
	}
	/* one write per process: concurrent processes append whole lines */
	n = write(fd, line, (size_t)(b.p - line));
	real.close(fd);
	errno = saved;
	return n < 0 ? -EIO : 0;
}
