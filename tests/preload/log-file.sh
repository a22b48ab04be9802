#!/bin/sh
# SPDX-License-Identifier: MIT
# The shim's log file: O_APPEND|O_CLOEXEC (preload_checks --log-fd checks the
# open fd), and O_NOFOLLOW: a symlink planted at the path is refused and
# nothing is written through it.
#   log-file.sh LIB PRELOAD_CHECKS
set -e
lib=$1 checks=$2
d=$(mktemp -d)
LD_PRELOAD=$lib VFIOCOMPAT_LOG=debug VFIOCOMPAT_LOG_FILE=$d/log "$checks" --log-fd "$d/log"
grep -q 'vfiocompat.*loaded' "$d/log"
: >"$d/target"
ln -s "$d/target" "$d/link"
LD_PRELOAD=$lib VFIOCOMPAT_LOG=debug VFIOCOMPAT_LOG_FILE=$d/link /bin/true 2>"$d/err"
test ! -s "$d/target"
grep -q 'cannot open log file' "$d/err"
rm -rf "$d"
echo 'log file: append, cloexec, nofollow'
