/* SPDX-License-Identifier: MIT */
/* vfiocompat-probe's subcommands that live in their own files */
#ifndef VFIOCOMPAT_PROBE_H
#define VFIOCOMPAT_PROBE_H

/* the file walk of the host under ROOT ("" for /); RELEASE "" = uname -r */
int probe_host(const char *root, const char *release);

#endif
