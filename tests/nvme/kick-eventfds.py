#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kick-eventfds.py PID: signal every eventfd of process PID once.

Under TCG the emulated NVMe controller's first MSI-X, routed through the
emulated IOMMU's interrupt remapping, sometimes never reaches the guest kernel
(its vfio-msix count stays 0), on plain type1 as under the shim; QEMU's NVMe
driver then waits forever for a completion that is already in its queue.
Its event notifiers are eventfds: one write wakes its loop, which finds the
completion. The caller does this only while the interrupt count is 0, and
says so. Duplicates each eventfd with pidfd_getfd (Linux 5.6+, root)."""
import ctypes
import os
import struct
import sys

SYS_pidfd_getfd = 438  # x86-64
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1])
pidfd = os.pidfd_open(pid)
kicked = 0
for name in os.listdir("/proc/%d/fd" % pid):
    try:
        if os.readlink("/proc/%d/fd/%s" % (pid, name)) != "anon_inode:[eventfd]":
            continue
    except OSError:
        continue
    fd = libc.syscall(SYS_pidfd_getfd, pidfd, int(name), 0)
    if fd < 0:
        sys.exit("kick-eventfds: pidfd_getfd(%s): %s" % (name, os.strerror(ctypes.get_errno())))
    os.write(fd, struct.pack("=Q", 1))
    os.close(fd)
    kicked += 1
print(kicked)
