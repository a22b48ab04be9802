// SPDX-License-Identifier: MIT
/* Log lines: "vfiocompat[pid]: text\n", built on the stack, written at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libc.h"
#include "log.h"

int shim_log_fd = 2;

void log_init(void)
{
	int fd;

	if (!shim_config.log_file || shim_config.log_level == SHIM_LOG_OFF)
		return;
	/* O_NOFOLLOW: a planted symlink must not redirect our appends */
	fd = real.open(shim_config.log_file,
		       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		       0600);
	if (fd >= 0)
		shim_log_fd = fd;
	else
		shim_warn(SHIM_CAT_INIT, "cannot open log file %s: %s",
			  shim_config.log_file, strerror(errno));
}

void shim_log(enum shim_log_level level, enum shim_log_cat cat,
	      const char *fmt, ...)
{
	static const char *const names[] = { "", "error", "warning", "info",
					     "debug" };
	char line[1024];
	int saved = errno;
	va_list ap;
	int n, m;

	if (shim_log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "vfiocompat[%d]: %s%s", (int)getpid(),
		     level <= SHIM_LOG_WARN ? names[level] : "",
		     level <= SHIM_LOG_WARN ? ": " : "");
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(shim_log_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

const char *errno_name(int err, char buf[16])
{
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, 16, "%d", err);
	return buf;
}
