#!/bin/bash
# SPDX-License-Identifier: MIT
# run-columns.sh: run the type1 conformance suite three ways and compare.
#
# usage: run-columns.sh [-o OUTDIR] [-b BINDIR] [-l LIMIT] [-N] [SHIMLIB]
#
#   (a) a.txt  real VFIO type1            (container /dev/vfio/vfio)
#   (b) b.txt  the kernel's iommufd compat (CONF_CONTAINER=/dev/iommu)
#   (c) c.txt  the shim                    (LD_PRELOAD=SHIMLIB, container /dev/vfio/vfio)
#
# Each column is type1_conf followed by edu_dma (one canonical line per case).
# Then compare.py diffs (c) against (a), allowing only tests/conformance/differences.txt,
# and writes OUTDIR/differences.md (where a, b and c differ).
#
# Runs inside the guest (VM_EDU_GROUP/VM_EDU_BDF set by tests/vm/vm-run).  Started
# outside a guest, it re-runs itself under tests/vm/vm-run with OUTDIR shared.
#
#   -o OUTDIR  where a.txt b.txt c.txt (+ .err) go (default ./conformance-out)
#   -b BINDIR  where type1_conf and edu_dma are (default: build/tests/conformance
#              of this checkout, else $CONF_BIN_DIR)
#   -l LIMIT   dma_entry_limit for the run (default 64): written to type1's module
#              parameter for every column (restored at the end) and passed to the shim
#              as VFIOCOMPAT_DMA_ENTRY_LIMIT, so DMA_AVAIL means the same everywhere
#   -N         group-less run: columns (a) and (b) in a guest of the kernel WITH groups
#              (VFIOCOMPAT_VM_KERNEL without its -nogroup, e.g. 7.2), column (c) in a guest
#              of the group-less kernel (VFIOCOMPAT_VM_KERNEL, default 7.2-nogroup), where
#              the shim serves the groups itself; compared with the [nogroup] entries of
#              differences.txt as well
#   -c COLS    only these columns (of "abc"), no comparison (used by -N in each guest)
#   SHIMLIB    the shim (default $VFIOCOMPAT_LIB, else build/shim/libvfiocompat.so);
#              without one, column (c) is skipped
#
# Exit status: compare.py's (0: (c) == (a) up to the allowed differences; 1: not;
# 2: column (c) not run).  125 if the suite could not run at all.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=$PWD/conformance-out
BIN=${CONF_BIN_DIR:-}
LIMIT=64
NOGROUP=0
COLS=abc
while getopts "o:b:l:Nc:h" o; do
	case $o in
	o) OUT=$OPTARG ;;
	b) BIN=$OPTARG ;;
	l) LIMIT=$OPTARG ;;
	N) NOGROUP=1 ;;
	c) COLS=$OPTARG ;;
	*) sed -n '3,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
LIB=${1:-${VFIOCOMPAT_LIB:-}}
[ -n "$LIB" ] || { [ -f "$TOP/build/shim/libvfiocompat.so" ] && LIB=$TOP/build/shim/libvfiocompat.so; }
[ -n "$BIN" ] || BIN=$TOP/build/tests/conformance
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
case $LIB in '' | /*) ;; *) LIB=$PWD/$LIB ;; esac

# Not in a guest: go there (the guest sees this machine's / read-only, OUTDIR writable).
if [ -z "${VM_EDU_GROUP:-}${VM_EDU_BDF:-}" ]; then
	[ -x "$TOP/tests/vm/vm-run" ] || { echo "run-columns: not in a guest and no tests/vm/vm-run" >&2; exit 125; }
	mkdir -p "$OUT"
	if [ "$NOGROUP" = 0 ]; then
		exec "$TOP/tests/vm/vm-run" --out "$OUT" -- "$0" -o "$OUT" -b "$BIN" -l "$LIMIT" -c "$COLS" ${LIB:+"$LIB"}
	fi
	# the oracle is type1 of the same kernel version built with groups
	K=${VFIOCOMPAT_VM_KERNEL:-7.2-nogroup}
	case $K in *-nogroup) ;; *) K=$K-nogroup ;; esac
	rm -f "$OUT"/[abc].txt "$OUT"/[abc].err "$OUT/differences.md" "$OUT"/kernel*
	# guest KERNEL COLS [LIB]: one guest; a rig failure (vm-run 125: the guest died under TCG)
	# is run once more, and said
	guest() {
		local k=$1 cols=$2 try
		shift 2
		for try in 1 2; do
			"$TOP/tests/vm/vm-run" --kernel "$k" --out "$OUT" -- "$0" -o "$OUT" -b "$BIN" -l "$LIMIT" -c "$cols" "$@"
			rc=$?
			if [ "$rc" != 125 ] || [ "$try" = 2 ]; then
				return "$rc"
			fi
			echo "run-columns: RETRY: the guest ($k, columns $cols) failed (vm-run 125); once more" >&2
		done
	}
	guest "${K%-nogroup}" ab
	rc=$?
	[ "$rc" = 0 ] || { echo "run-columns: the type1 run on ${K%-nogroup} failed ($rc)" >&2; exit 125; }
	mv "$OUT/kernel" "$OUT/kernel-type1"
	if [ -z "$LIB" ] || [ ! -f "$LIB" ]; then
		echo "run-columns: no shim library: column (c) not run" >&2
		exit 2
	fi
	guest "$K" c "$LIB"
	rc=$?
	[ "$rc" = 0 ] || { echo "run-columns: the shim's run on $K failed ($rc)" >&2; exit 125; }
	# the same release both times, or the comparison means nothing
	if [ "$(cat "$OUT/kernel-type1")" != "$(cat "$OUT/kernel")" ]; then
		echo "run-columns: type1 ran on $(cat "$OUT/kernel-type1"), the shim on $(cat "$OUT/kernel")" >&2
		exit 125
	fi
	exec python3 "$HERE/compare.py" --nogroup "$OUT"
fi

for p in type1_conf edu_dma; do
	[ -x "$BIN/$p" ] || { echo "run-columns: $BIN/$p not built" >&2; exit 125; }
done
mkdir -p "$OUT" || exit 125
for col in a b c; do
	case $COLS in *$col*) rm -f "$OUT/$col.txt" "$OUT/$col.err" ;; esac
done
rm -f "$OUT/differences.md"
# type1 answers differently on different kernels: compare.py reads whose this was
uname -r >"$OUT/kernel"
echo "run-columns: kernel $(cat "$OUT/kernel")"

# type1 reads dma_entry_limit at SET_IOMMU: lower it for the whole run, restore after.
PARAM=/sys/module/vfio_iommu_type1/parameters/dma_entry_limit
OLD=
if [ -w "$PARAM" ]; then
	OLD=$(cat "$PARAM")
	trap 'echo "$OLD" > "$PARAM"' EXIT
	echo "$LIMIT" > "$PARAM"
elif [ "${VM_NOGROUP:-0}" = 0 ]; then
	echo "run-columns: cannot write $PARAM; the entry-limit cases will not match" >&2
fi

column() { # name, env assignments...
	local name=$1
	shift
	local t0=$(date +%s.%N)
	env "$@" CONF_DMA_ENTRY_LIMIT="$LIMIT" "$BIN/type1_conf" > "$OUT/$name.txt" 2> "$OUT/$name.err"
	local r1=$?
	env "$@" CONF_DMA_ENTRY_LIMIT="$LIMIT" "$BIN/edu_dma" >> "$OUT/$name.txt" 2>> "$OUT/$name.err"
	local r2=$?
	awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$name" -v l="$(wc -l < "$OUT/$name.txt")" -v r1=$r1 -v r2=$r2 \
		'BEGIN{printf "run-columns: column %s: %d lines in %.1f s (type1_conf rc %d, edu_dma rc %d)\n", n, l, b-a, r1, r2}'
}

wants() { case $COLS in *$1*) return 0 ;; esac; return 1; }

wants a && column a CONF_CONTAINER=/dev/vfio/vfio
wants b && column b CONF_CONTAINER=/dev/iommu
if ! wants c; then
	:
elif [ -n "$LIB" ] && [ -f "$LIB" ]; then
	column c CONF_CONTAINER=/dev/vfio/vfio LD_PRELOAD="$LIB" VFIOCOMPAT_DMA_ENTRY_LIMIT="$LIMIT"
else
	echo "run-columns: no shim library (${LIB:-none given}): column (c) skipped" >&2
fi

# a partial run (-c) is compared by whoever asked for it
[ "$COLS" = abc ] || exit 0
python3 "$HERE/compare.py" "$OUT"
