/* SPDX-License-Identifier: MIT */
/*
 * vfiocompat: legacy VFIO type1 containers served by iommufd, from an
 * LD_PRELOAD library. This header is all a program or a script needs to know.
 */
#ifndef VFIOCOMPAT_H
#define VFIOCOMPAT_H

#define VFIOCOMPAT_VERSION_MAJOR 0
#define VFIOCOMPAT_VERSION_MINOR 1
#define VFIOCOMPAT_VERSION_PATCH 0
#define VFIOCOMPAT_VERSION_STRING "0.2.0"

/* Environment variables, read once at load; ignored under secure execution. */
#define VFIOCOMPAT_ENV_DISABLE "VFIOCOMPAT_DISABLE"
#define VFIOCOMPAT_ENV_LOG "VFIOCOMPAT_LOG"
#define VFIOCOMPAT_ENV_LOG_FILE "VFIOCOMPAT_LOG_FILE"
#define VFIOCOMPAT_ENV_FALLBACK "VFIOCOMPAT_FALLBACK"
#define VFIOCOMPAT_ENV_DMA_ENTRY_LIMIT "VFIOCOMPAT_DMA_ENTRY_LIMIT"
#define VFIOCOMPAT_ENV_REPORT "VFIOCOMPAT_REPORT"
#define VFIOCOMPAT_ENV_TRAP "VFIOCOMPAT_TRAP"
#define VFIOCOMPAT_ENV_TYPE1_KERNEL "VFIOCOMPAT_TYPE1_KERNEL"
#define VFIOCOMPAT_ENV_GROUPS "VFIOCOMPAT_GROUPS"

/* Version of the loaded library, e.g. "0.2.0". */
const char *vfiocompat_version(void);

#endif /* VFIOCOMPAT_H */
