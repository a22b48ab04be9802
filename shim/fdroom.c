// SPDX-License-Identifier: MIT
/* Room for the shim's own fds; see fdroom.h. */
#include <fcntl.h>
#include <unistd.h>

#include "fdroom.h"
#include "libc.h"

/* enough for the attach fds of the groups of a few containers */
#define FDROOM_EXTRA 64

void fdroom_enter(struct fdroom *r)
{
	struct rlimit more;

	r->raised = false;
	if (getrlimit(RLIMIT_NOFILE, &r->saved) ||
	    r->saved.rlim_cur >= r->saved.rlim_max ||
	    r->saved.rlim_cur > (1u << 30))
		return;
	more = r->saved;
	more.rlim_cur = r->saved.rlim_max - r->saved.rlim_cur > FDROOM_EXTRA ?
				r->saved.rlim_cur + FDROOM_EXTRA :
				r->saved.rlim_max;
	r->raised = !setrlimit(RLIMIT_NOFILE, &more);
}

int fdroom_place(struct fdroom *r, int fd)
{
	int to;

	if (fd < 0 || !r->raised || (rlim_t)fd >= r->saved.rlim_cur)
		return fd;
	to = real.fcntl(fd, F_DUPFD_CLOEXEC, (int)r->saved.rlim_cur);
	if (to < 0)
		return fd;	/* no number free up there: it stays */
	real.close(fd);
	return to;
}

void fdroom_leave(struct fdroom *r)
{
	struct rlimit now;

	/* unless the program changed it meanwhile (another thread) */
	if (r->raised && !getrlimit(RLIMIT_NOFILE, &now) &&
	    now.rlim_max == r->saved.rlim_max)
		setrlimit(RLIMIT_NOFILE, &r->saved);
	r->raised = false;
}
