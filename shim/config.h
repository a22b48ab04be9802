/* SPDX-License-Identifier: MIT */
/* VFIOCOMPAT_* environment, parsed once at load into one read-only struct. */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum shim_fallback {
	SHIM_FALLBACK_AUTO,	/* /dev/iommu unusable: open the real container */
	SHIM_FALLBACK_NEVER,	/* fail the open with /dev/iommu's errno */
};

/* VFIOCOMPAT_GROUPS: who serves /dev/vfio/<group> */
enum shim_groups {
	SHIM_GROUPS_AUTO,	/* the kernel's groups; the shim's where there are none */
	SHIM_GROUPS_KERNEL,	/* always the kernel's /dev/vfio/N */
	SHIM_GROUPS_CDEV,	/* always the shim's, over /dev/vfio/devices/vfioX */
};

/* VFIOCOMPAT_LOG's levels and categories (log.h writes the lines). */
enum shim_log_level {
	SHIM_LOG_OFF,
	SHIM_LOG_ERROR,
	SHIM_LOG_WARN,
	SHIM_LOG_INFO,
	SHIM_LOG_DEBUG,
};

enum shim_log_cat {
	SHIM_CAT_INIT = 1 << 0,		/* load, config, fallback */
	SHIM_CAT_FD = 1 << 1,		/* container and group fd lifetime */
	SHIM_CAT_CONTAINER = 1 << 2,	/* type1 decisions */
	SHIM_CAT_IOMMUFD = 1 << 3,	/* each iommufd call and its result */
	SHIM_CAT_TRACE = 1 << 4,	/* each container call, as the caller saw it */
	SHIM_CAT_ALL = 0x1f,
};

struct shim_config {
	bool disabled;		/* VFIOCOMPAT_DISABLE: pass everything through */
	bool secure;		/* AT_SECURE: every variable was ignored */
	enum shim_fallback fallback;
	enum shim_groups groups;
	uint32_t dma_entry_limit; /* type1's module default is 65535 */
	int log_level;		/* enum shim_log_level */
	unsigned int log_cats;	/* mask of enum shim_log_cat */
	const char *log_file;	/* NULL: stderr */
	const char *bad_value;	/* first variable that did not parse, for a warning */
	const char *report_file; /* VFIOCOMPAT_REPORT: JSON written at exit */
	bool trap;		/* VFIOCOMPAT_TRAP: seccomp backstop for raw ioctls */
	/*
	 * Whose type1 to answer as: major << 8 | minor of the running kernel,
	 * or of VFIOCOMPAT_TYPE1_KERNEL ("6.12"). type1's answers changed
	 * with the kernel (type1_since() marks each place).
	 */
	uint16_t type1_kver;
	/* derived: no call trace and no report, so MAP/UNMAP take the short way */
	bool quiet;
};

extern struct shim_config shim_config;

#define TYPE1_KVER(major, minor) ((uint16_t)((major) << 8 | (minor)))

/* Does the type1 being answered as have the behaviour of major.minor? */
static inline bool type1_since(unsigned int major, unsigned int minor)
{
	return shim_config.type1_kver >= TYPE1_KVER(major, minor);
}

/* "7.2.13+deb14-amd64" or "6.12": major << 8 | minor, or 0. */
uint16_t config_parse_kver(const char *release);

/* Parse the environment; later calls do nothing. */
void config_init(void);

/* Load from an environment lookup; under secure execution nothing is read. */
void config_load(struct shim_config *cfg, bool secure,
		 const char *(*get)(const char *name));

/* Parse from explicit values (unit tests); NULL means unset. */
void config_parse(struct shim_config *cfg, const char *disable,
		  const char *log, const char *log_file, const char *fallback,
		  const char *limit);

#endif /* SHIM_CONFIG_H */
