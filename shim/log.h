/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics: one write(2) per line, errno preserved, nothing formatted unless
 * the level and category are enabled.
 */
#ifndef SHIM_LOG_H
#define SHIM_LOG_H

#include <stdbool.h>

#include "config.h"

/* The fd log lines go to (stderr unless VFIOCOMPAT_LOG_FILE); -1 if none. */
extern int shim_log_fd;

void log_init(void);
void shim_log(enum shim_log_level level, enum shim_log_cat cat,
	      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline bool log_enabled(enum shim_log_level level, enum shim_log_cat cat)
{
	return (int)level <= shim_config.log_level && (shim_config.log_cats & cat);
}

#define SHIM_LOG(level, cat, ...)                                     \
	do {                                                          \
		if (log_enabled(level, cat))                          \
			shim_log(level, cat, __VA_ARGS__);            \
	} while (0)

#define shim_err(cat, ...) SHIM_LOG(SHIM_LOG_ERROR, cat, __VA_ARGS__)
#define shim_warn(cat, ...) SHIM_LOG(SHIM_LOG_WARN, cat, __VA_ARGS__)
#define shim_info(cat, ...) SHIM_LOG(SHIM_LOG_INFO, cat, __VA_ARGS__)
#define shim_dbg(cat, ...) SHIM_LOG(SHIM_LOG_DEBUG, cat, __VA_ARGS__)

/* Name of an errno value ("EINVAL"), or its number as text. */
const char *errno_name(int err, char buf[16]);

#endif /* SHIM_LOG_H */
