#!/bin/bash
# SPDX-License-Identifier: MIT
# run-cpr.sh: run cpr_handover three ways in the guest and compare, as
# tests/conformance/run-columns.sh does for the conformance suite.
#
# usage: run-cpr.sh [-o OUTDIR] [-b BINDIR] [-l LIMIT] [SHIMLIB]
#
#   (a) a.txt  real VFIO type1             (container /dev/vfio/vfio): the oracle
#   (b) b.txt  the kernel's iommufd compat (CONF_CONTAINER=/dev/iommu): for reference
#   (c) c.txt  the shim                    (LD_PRELOAD=SHIMLIB, container /dev/vfio/vfio)
#
# Then tests/conformance/compare.py diffs (c) against (a), allowing only the
# entries of tests/cpr/differences.txt that hold on the guest's kernel.
# Started outside a guest, it re-runs itself under tests/vm/vm-run
# (VFIOCOMPAT_VM_KERNEL picks the kernel) with OUTDIR shared.
#
#   -o OUTDIR  where a.txt b.txt c.txt (+ .err: raw VmLck/VmPin) go (default ./cpr-out)
#   -b BINDIR  where cpr_handover is (default build/tests/cpr of this checkout)
#   -l LIMIT   type1's dma_entry_limit for the run (default 64), passed to the shim
#              as VFIOCOMPAT_DMA_ENTRY_LIMIT, so DMA_AVAIL means the same in (a) and (c)
#   SHIMLIB    the shim (default $VFIOCOMPAT_LIB, else build/shim/libvfiocompat.so)
#
# Exit status: compare.py's (0: (c) == (a) up to the listed differences; 1: not;
# 2: column (c) not run). 125 if it could not run at all.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=$PWD/cpr-out
BIN=
LIMIT=64
while getopts "o:b:l:h" o; do
	case $o in
	o) OUT=$OPTARG ;;
	b) BIN=$OPTARG ;;
	l) LIMIT=$OPTARG ;;
	*) sed -n '3,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
LIB=${1:-${VFIOCOMPAT_LIB:-}}
[ -n "$LIB" ] || { [ -f "$TOP/build/shim/libvfiocompat.so" ] && LIB=$TOP/build/shim/libvfiocompat.so; }
[ -n "$BIN" ] || BIN=$TOP/build/tests/cpr
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
case $LIB in '' | /*) ;; *) LIB=$PWD/$LIB ;; esac

if [ -z "${VM_EDU_GROUP:-}${VM_EDU_BDF:-}" ]; then
	[ -x "$TOP/tests/vm/vm-run" ] || { echo "run-cpr: not in a guest and no tests/vm/vm-run" >&2; exit 125; }
	mkdir -p "$OUT"
	rm -f "$OUT"/[abc].txt "$OUT"/[abc].err "$OUT/differences.md" "$OUT/kernel"
	# a shim or build tree outside this checkout is made visible in the guest
	BINDS=()
	for d in "$BIN" ${LIB:+"$(dirname "$LIB")"}; do
		case $d in "$TOP"/*) ;; *) BINDS+=(--bind "$d") ;; esac
	done
	"$TOP/tests/vm/vm-run" "${BINDS[@]}" --out "$OUT" -- "$0" -o "$OUT" -b "$BIN" -l "$LIMIT" ${LIB:+"$LIB"}
	rc=$?
	# the guest writes the columns; the comparison is made here, once
	[ "$rc" = 0 ] || { echo "run-cpr: the guest run failed ($rc)" >&2; exit 125; }
	# the oracle must have run to its end, or there is nothing to compare with
	grep -qx 'end.complete done' "$OUT/a.txt" 2>/dev/null ||
		{ echo "run-cpr: column (a), type1, did not complete" >&2; exit 125; }
	[ -s "$OUT/c.txt" ] || { echo "run-cpr: no shim library: column (c) not run" >&2; exit 2; }
	exec python3 "$TOP/tests/conformance/compare.py" \
		--differences "$HERE/differences.txt" "$OUT"
fi

[ -x "$BIN/cpr_handover" ] || { echo "run-cpr: $BIN/cpr_handover not built" >&2; exit 125; }
mkdir -p "$OUT" || exit 125
uname -r >"$OUT/kernel"
echo "run-cpr: kernel $(cat "$OUT/kernel")"

PARAM=/sys/module/vfio_iommu_type1/parameters/dma_entry_limit
if [ -w "$PARAM" ]; then
	OLD=$(cat "$PARAM")
	trap 'echo "$OLD" > "$PARAM"' EXIT
	echo "$LIMIT" > "$PARAM"
else
	echo "run-cpr: cannot write $PARAM; DMA_AVAIL will not match" >&2
fi

# kernel warnings (WARN_ON splats) so far; -1 when the log cannot be read
warnings() {
	local log
	log=$(dmesg 2>/dev/null) || { echo -1; return; }
	printf '%s\n' "$log" | grep -c 'WARNING:'
}

column() { # name, env assignments...
	local name=$1 w0 w1
	shift
	w0=$(warnings)
	env "$@" "$BIN/cpr_handover" >"$OUT/$name.txt" 2>"$OUT/$name.err"
	local rc=$?
	w1=$(warnings)
	# a line of its own: a run that made the kernel warn is not a run like type1's
	if [ "$w0" = -1 ] || [ "$w1" = -1 ]; then
		echo "end.kernel_warnings unknown" >>"$OUT/$name.txt"
	else
		echo "end.kernel_warnings new=$((w1 - w0))" >>"$OUT/$name.txt"
		[ "$w1" -gt "$w0" ] && dmesg | grep 'WARNING:' | tail -n $((w1 - w0)) >>"$OUT/$name.err"
	fi
	echo "run-cpr: column $name: $(wc -l <"$OUT/$name.txt") lines, rc $rc"
}
column a CONF_CONTAINER=/dev/vfio/vfio
column b CONF_CONTAINER=/dev/iommu
if [ -n "$LIB" ] && [ -f "$LIB" ]; then
	column c CONF_CONTAINER=/dev/vfio/vfio LD_PRELOAD="$LIB" VFIOCOMPAT_DMA_ENTRY_LIMIT="$LIMIT"
else
	echo "run-cpr: no shim library (${LIB:-none given}): column (c) skipped" >&2
fi
exit 0
