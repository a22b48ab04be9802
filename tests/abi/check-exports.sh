#!/bin/sh
# The library exports exactly the interposed libc names and vfiocompat_version,
# and no object but interpose.o calls an interposed name directly (inside the
# shim, the real functions are reached through the `real` table).
#   check-exports.sh LIB OBJDIR
set -eu
lib=$1
objdir=$2
expected="__open64_2 __open_2 __openat64_2 __openat_2 __readlink_chk __readlinkat_chk
close close_range closefrom dup dup2 dup3 fcntl fcntl64 ioctl memfd_create mmap mmap64 munmap
open open64 openat openat64 readlink readlinkat sigaction signal bsd_signal sysv_signal
vfiocompat_version"
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ {print $3}' | sed 's/@.*//' | sort | tr '\n' ' ')
want=$(echo $expected | tr ' ' '\n' | sort | tr '\n' ' ')
if [ "$got" != "$want" ]; then
	echo "exports differ"
	echo " want: $want"
	echo " got:  $got"
	exit 1
fi
echo "exports: ok ($(echo $want | wc -w) names)"
bad=0
for o in $(find "$objdir" -name '*.o' ! -name 'interpose.c.o' ! -name 'libc.c.o'); do
	for sym in $expected; do
		# (mmap/munmap too: the interposed munmap takes the shim lock
		# once a device BAR is mmapped, so under the lock it would wait
		# for itself)
		[ "$sym" = vfiocompat_version ] && continue
		if nm -u "$o" | awk '{print $2}' | grep -qx "$sym"; then
			echo "$o calls $sym directly (use real.$sym)"
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "layering: ok (no direct calls to interposed names)"
exit $bad
