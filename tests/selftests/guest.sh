#!/bin/sh
# SPDX-License-Identifier: MIT
# guest.sh: the guest half of tests/selftests/run (started by tests/vm/vm-run).
# Usage: guest.sh OUT LIB SECS TEST...
# Runs each selftest binary OUT/bin/TEST on the edu ($VM_EDU_BDF) twice: plainly (OUT/plain/) and with LIB
# preloaded (OUT/shim/). For each: TEST.tap (stdout and stderr), TEST.rc (exit status),
# TEST.secs (wall time), and under the shim TEST.shimlog (the shim's trace of every container
# call). A binary that runs longer than SECS is killed (status 124). OUT/kernel gets uname -r.
# $SELFTEST_MODES (default "plain shim") picks the columns (run splits them over two guests on a
# group-less kernel).
set -u
OUT=$1 LIB=$2 SECS=$3
shift 3
BDF=${VM_EDU_BDF:-}

uname -r >"$OUT/kernel"
[ -n "$BDF" ] || { echo "guest: VM_EDU_BDF is not set: no edu device, nothing run" >&2; exit 2; }
now() { date +%s.%N; }

for mode in ${SELFTEST_MODES:-plain shim}; do
	mkdir -p "$OUT/$mode"
	if [ "$mode" = shim ]; then
		# ld.so only warns about a library it cannot preload and runs the program anyway:
		# make sure it is really mapped, or the shim column would silently be type1 again
		# shellcheck disable=SC2002 # cat must read its own maps
		if ! LD_PRELOAD=$LIB cat /proc/self/maps | grep -qF "$LIB"; then
			echo "guest: $LIB is not mapped when preloaded; no shim run" |
				tee "$OUT/shim/preload.err" >&2
			continue
		fi
	fi
	for t in "$@"; do
		s=$(now)
		if [ "$mode" = plain ]; then
			timeout -k 5 "$SECS" "$OUT/bin/$t" "$BDF" >"$OUT/$mode/$t.tap" 2>&1
		else
			# FALLBACK=never: if /dev/iommu were unusable the shim must not quietly hand out
			# the real type1 container
			timeout -k 5 "$SECS" env LD_PRELOAD="$LIB" VFIOCOMPAT_FALLBACK=never \
				VFIOCOMPAT_LOG=trace VFIOCOMPAT_LOG_FILE="$OUT/shim/$t.shimlog" \
				"$OUT/bin/$t" "$BDF" >"$OUT/$mode/$t.tap" 2>&1
		fi
		rc=$?
		echo "$rc" >"$OUT/$mode/$t.rc"
		awk -v a="$s" -v b="$(now)" 'BEGIN{printf "%.2f\n", b-a}' >"$OUT/$mode/$t.secs"
		echo "guest: $mode $t: status $rc, $(cat "$OUT/$mode/$t.secs") s"
	done
done
