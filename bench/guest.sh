#!/bin/sh
# SPDX-License-Identifier: MIT
# guest.sh: the real-kernel part of scripts/bench, run inside the tests/vm guest
# (scripts/bench starts it through tests/vm/vm-run; not meant to be run by hand).
#
#   guest.sh BINDIR SHIMLIB OUTDIR ROUNDS ROWS COUNT_K STARTUP_ROUNDS STARTUP_MEM [SECTIONS]
#
# SECTIONS: the bench sections to run here, e.g. "2" or "2,4,5" (the default): 2 = translation,
# call counts and the argument copy's cost; 4 = IOMMU page sizes; 5 = QEMU startup; 6 = under
# vfiocompat only, open-to-first-DMA and MAP+UNMAP (run on a kernel with groups and on the
# same release without them).
#
# Three containers, one program: (a) type1 = /dev/vfio/vfio, (b) the kernel's
# compat = /dev/iommu opened as the container, pinned pages charged per process
# as iommufd charges them when it serves /dev/vfio/vfio, (c) vfiocompat =
# /dev/vfio/vfio with SHIMLIB preloaded. For the 4 KiB row also: compat_user
# (a plain /dev/iommu's per-user charging) and native (one IOMMU_IOAS_MAP and
# one IOMMU_IOAS_UNMAP per pair on the compat IOAS). Prints machine-readable lines on stdout:
#   translate MODE ROUND row NAME ops K samples S ns_per_op MIN median MED
#                                                      ROUNDS rounds, mode order rotated per round
#   count MODE FILE                                    strace of `bench_translate count COUNT_K`
#   syscost process_vm_readv NS getppid NS            one argument copy of the shim, one null syscall
#   pgsize MODE BASE dma IOVA ok                       DMA probes for the host's vtd trace
#   startup MODE SECONDS                               nested QEMU, exec -> query-pci lists edu
#   groups ROUND firstdma samples N ns MIN median MED  section 6: open to the first MAP_DMA returned
#   groups ROUND row NAME ops K samples S ns_per_op MIN median MED   section 6: MAP+UNMAP
#   phase NAME SECONDS                                 guest time since the start, after each part
set -u
BIN=$1 LIB=$2 OUT=$3 ROUNDS=$4 ROWS=$5 COUNT_K=$6 SROUNDS=$7 SMEM=$8 SECTIONS=${9:-2,4,5}
want() { case ",$SECTIONS," in *",$1,"*) return 0 ;; esac; return 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
rc=0
T0=$(date +%s.%N)
phase() { echo "phase $1 $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"; }

run_mode() { # mode, command...
	m=$1
	shift
	case $m in
	type1) env BENCH_CONTAINER=/dev/vfio/vfio "$@" ;;
	# the kernel's compat container as iommufd serves it at /dev/vfio/vfio:
	# pinned pages charged per process (see bench/benchvfio.h)
	compat) env BENCH_CONTAINER=/dev/iommu BENCH_RLIMIT_MODE=1 "$@" ;;
	# the same, with a plain /dev/iommu's default per-user accounting
	compat_user) env BENCH_CONTAINER=/dev/iommu "$@" ;;
	# one native IOMMU_IOAS_MAP / IOAS_UNMAP per call on the compat IOAS
	native) env BENCH_CONTAINER=/dev/iommu BENCH_RLIMIT_MODE=1 BENCH_IOAS=1 "$@" ;;
	vfiocompat) env BENCH_CONTAINER=/dev/vfio/vfio LD_PRELOAD="$LIB" "$@" ;;
	esac
}

echo "guest kernel $(uname -r) cpus $(nproc) mem_kib $(awk '/MemTotal/{print $2}' /proc/meminfo)"

# 1. translation throughput, interleaved
r=1
want 2 || r=$((ROUNDS + 1))
while [ "$r" -le "$ROUNDS" ]; do
	case $((r % 3)) in
	1) order="type1 compat vfiocompat" ;;
	2) order="compat vfiocompat type1" ;;
	0) order="vfiocompat type1 compat" ;;
	esac
	# two reference columns for the 4 KiB row only (see bench.py)
	order="$order compat_user native"
	for m in $order; do
		rows=$ROWS
		case $m in
		compat_user) rows=$(echo "$ROWS" | tr ' ' '\n' | grep '^4k' || true) ;;
		# native also maps the memfd both ways: by address (IOAS_MAP) and as the file
		native) rows=$(echo "$ROWS" | tr ' ' '\n' | grep -e '^4k' -e '^memfd' | sed 'p;s/^memfd:/memfd_file:/' | sort -u || true) ;;
		esac
		[ -n "$rows" ] || continue
		# shellcheck disable=SC2086
		run_mode "$m" "$BIN/bench_translate" run $rows > "$OUT/translate.tmp" 2> "$OUT/translate-$m.err" || {
			echo "translate $m $r fail $(tail -1 "$OUT/translate-$m.err")"
			rc=1
		}
		sed "s/^/translate $m $r /" "$OUT/translate.tmp"
	done
	r=$((r + 1))
done
rm -f "$OUT/translate.tmp"
phase translate

# 2. kernel calls per MAP and per UNMAP
if ! want 2; then
	:
elif command -v strace > /dev/null 2>&1; then
	for m in type1 compat vfiocompat; do
		f=$OUT/strace-$m.txt
		# the preload reaches the traced program only (strace itself runs plain)
		case $m in
		type1) strace -f -qq -X raw -o "$f" env BENCH_CONTAINER=/dev/vfio/vfio "$BIN/bench_translate" count "$COUNT_K" > /dev/null ;;
		compat) strace -f -qq -X raw -o "$f" env BENCH_CONTAINER=/dev/iommu "$BIN/bench_translate" count "$COUNT_K" > /dev/null ;;
		vfiocompat) strace -f -qq -X raw -o "$f" -E LD_PRELOAD="$LIB" env BENCH_CONTAINER=/dev/vfio/vfio "$BIN/bench_translate" count "$COUNT_K" > /dev/null ;;
		esac || { echo "count $m fail"; rc=1; }
		echo "count $m $f"
	done
else
	echo "count none strace-missing"
fi

phase count
# what one of the shim's argument copies costs here, for reading the rows above
if want 2; then "$BIN/bench_translate" syscost "$COUNT_K" || rc=1; fi

# 3. IOMMU page size of DPDK-style v1 hugepage maps (read from the host's vtd trace)
want 4 || set --
want 4 && set -- type1:0x2000000 compat:0x4000000 vfiocompat:0x6000000
for mb in "$@"; do
	m=${mb%%:*} base=${mb#*:}
	run_mode "$m" "$BIN/bench_pgsize" "$base" > "$OUT/pgsize.tmp" 2> "$OUT/pgsize-$m.err" || {
		echo "pgsize $m $base fail $(tail -1 "$OUT/pgsize-$m.err")"
		rc=1
	}
	sed "s/^/pgsize $m $base /" "$OUT/pgsize.tmp"
done
rm -f "$OUT/pgsize.tmp"
phase pgsize

# 4. QEMU startup with a vfio-pci device (nested QEMU, TCG in TCG); one unmeasured
# start first, so no mode pays for loading QEMU's files over 9p
want 5 && "$PY" "$HERE/qemu_startup.py" warmup "$VM_EDU_BDF" "$SMEM" > /dev/null
r=1
want 5 || r=$((SROUNDS + 1))
while [ "$r" -le "$SROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then order="type1 vfiocompat"; else order="vfiocompat type1"; fi
	for m in $order; do
		if [ "$m" = vfiocompat ]; then
			"$PY" "$HERE/qemu_startup.py" "$m" "$VM_EDU_BDF" "$SMEM" --preload "$LIB" || rc=1
		else
			"$PY" "$HERE/qemu_startup.py" "$m" "$VM_EDU_BDF" "$SMEM" || rc=1
		fi
	done
	r=$((r + 1))
done
phase startup

# 5. open-to-first-DMA and MAP+UNMAP under vfiocompat, for the kernels with and without groups
r=1
want 6 || r=$((ROUNDS + 1))
while [ "$r" -le "$ROUNDS" ]; do
	run_mode vfiocompat "$BIN/bench_firstdma" "$((SROUNDS * 4))" > "$OUT/groups.tmp" 2> "$OUT/groups.err" || {
		echo "groups $r fail $(tail -1 "$OUT/groups.err")"
		rc=1
	}
	sed "s/^/groups $r /" "$OUT/groups.tmp"
	rows=$(echo "$ROWS" | tr ' ' '\n' | grep -E '^(4k|2m)' | tr '\n' ' ')
	# shellcheck disable=SC2086
	run_mode vfiocompat "$BIN/bench_translate" run $rows > "$OUT/groups.tmp" 2> "$OUT/groups.err" || {
		echo "groups $r fail $(tail -1 "$OUT/groups.err")"
		rc=1
	}
	sed "s/^/groups $r /" "$OUT/groups.tmp"
	r=$((r + 1))
done
rm -f "$OUT/groups.tmp"
phase groups
exit $rc
