/* SPDX-License-Identifier: MIT */
/*
 * Which MAP_SHARED mmaps of the program show a memfd (QEMU's guest RAM with
 * memory-backend-memfd share=on), and where in the file: a MAP_DMA of such memory goes to the kernel as IOAS_MAP_FILE,
 * whose pages IOAS_CHANGE_PROCESS can later charge to another process (the
 * vaddr updates of VFIO_UPDATE_VADDR; docs/design.md, "VADDR"). Pages pinned
 * by user address cannot move. The interposer marks each fd memfd_create()
 * returns (kind SHIM_MEMFD in the fd table, kept across dup, gone at close)
 * and reports each shared mmap of such an fd here: another file's mmap
 * costs the one fd-table load it always did. The MAP_DMA path looks only
 * while the table holds something, so a program with no such mmap pays one
 * load. Files opened by path (shm_open, hugetlbfs) and memfds received from
 * another process are not marked and map by address.
 * No fd is kept: the note names the program's fd and the file's identity,
 * and a MAP_DMA uses the fd only while it still is that file (QEMU keeps
 * its memfds open: cpr hands them to the next process).
 */
#ifndef SHIM_FILEMAP_H
#define SHIM_FILEMAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How many file mmaps the table holds. */
extern atomic_uint filemap_nmmaps __attribute__((visibility("hidden")));

/* memfd_create() returned fd: mark it (the shim lock is not held). */
void filemap_memfd_created(int fd);

/*
 * The program mapped [addr, addr + len) MAP_SHARED with prot from fd at file
 * offset off (fd -1: anything else, e.g. a MAP_FIXED that replaces a noted
 * range). Makes kernel calls on fd (fileid.h): the caller keeps errno.
 */
void filemap_note_mmap(void *addr, size_t len, int prot, int fd, off_t off);
/* The program unmapped [addr, addr + len). */
void filemap_note_munmap(void *addr, size_t len);

/*
 * If [vaddr, vaddr + size) lies inside one noted mmap whose protection
 * allows the device's access (write: PROT_WRITE too) and whose fd is still
 * that file: 0, the fd and the offset of vaddr in the file. Else -ENOENT.
 * The shim lock is held.
 */
int filemap_lookup(uint64_t vaddr, uint64_t size, bool write, int *fd,
		   uint64_t *off);

#endif /* SHIM_FILEMAP_H */
