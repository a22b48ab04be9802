/* SPDX-License-Identifier: MIT */
/*
 * Room for the fds the shim opens for itself (a group's attach device, the
 * probe of a group's release), which type1 does not need: a program at its
 * RLIMIT_NOFILE must not fail where type1 succeeds, and its own fd numbers
 * should come out as under type1. So these are opened with the soft limit
 * raised for the moment, and a kept one is moved to a number at or above
 * the program's limit, out of its way. Where the soft limit already equals
 * the hard one there is no room to make: they are opened as before.
 */
#ifndef SHIM_FDROOM_H
#define SHIM_FDROOM_H

#include <stdbool.h>
#include <sys/resource.h>

struct fdroom {
	struct rlimit saved;
	bool raised;
};

void fdroom_enter(struct fdroom *r);
/* fd, or its new number above the program's limit (fd is then closed). */
int fdroom_place(struct fdroom *r, int fd);
void fdroom_leave(struct fdroom *r);

#endif /* SHIM_FDROOM_H */
