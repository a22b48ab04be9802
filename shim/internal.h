/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every shim file; no dependencies of its own. */
#ifndef SHIM_INTERNAL_H
#define SHIM_INTERNAL_H

#include <stddef.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* VFIO and iommufd share the ioctl type byte ';'. */
#define SHIM_VFIO_TYPE 0x3b

#endif /* SHIM_INTERNAL_H */
