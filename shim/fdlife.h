/* SPDX-License-Identifier: MIT */
/*
 * What the caller's fd calls mean for the fd table: dup*() and F_DUPFD give
 * an object a second number, dup2() over one of our private fds moves ours
 * away first, close()/close_range() forget. The interposer calls libc and
 * keeps errno; these only keep the table in step (each takes the shim lock).
 */
#ifndef SHIM_FDLIFE_H
#define SHIM_FDLIFE_H

#include <stdbool.h>
#include <sys/types.h>

/* The process the table belongs to (at load, and in a fork child). */
void fdlife_set_pid(pid_t pid);
/* In a vfork() child our memory is the parent's: leave the table alone. */
bool in_vfork_child(void);

/* newfd now refers to what oldfd refers to. */
void fdlife_dup(int oldfd, int newfd);
/* dup2() over newfd is coming: if it is our private fd, move ours away. */
void fdlife_make_room(int newfd);
/* fd was closed (lock held); see the last-close step in fdlife.c. */
void fdlife_closed(int fd);
/* Some fd in [first, last] is in the table. */
bool fdlife_range_has_ours(unsigned int first, unsigned int last);
/* [first, last] was closed but our private fds (lock held): forget them. */
void fdlife_range_closed(unsigned int first, unsigned int last);

#endif /* SHIM_FDLIFE_H */
