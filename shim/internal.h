/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every shim file; no dependencies of its own. */
#ifndef SHIM_INTERNAL_H
#define SHIM_INTERNAL_H

#include <stddef.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * For entry points a sanitizer runtime calls while it is still starting up
 * (TSan installs its signal handlers through sigaction): they must not be
 * instrumented themselves.
 */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize_thread)
#define SHIM_NO_TSAN __attribute__((no_sanitize_thread))
#endif
#endif
#ifndef SHIM_NO_TSAN
#define SHIM_NO_TSAN
#endif

/*
 * The MAP_DMA/UNMAP_DMA path, from the ioctl entry to the kernel call: the
 * compiler keeps these functions together (.text.hot), so the path spans a
 * page or two of code instead of the whole library (iTLB and i-cache on
 * hardware; under emulation, jumps within a page are chained directly).
 */
#define SHIM_HOT __attribute__((hot))

/* VFIO and iommufd share the ioctl type byte ';'. */
#define SHIM_VFIO_TYPE 0x3b

#endif /* SHIM_INTERNAL_H */
