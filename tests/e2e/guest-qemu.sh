#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest part of the e2e "qemu" scenario (started by e2e-run through tests/vm/vm-run).
#
#   guest-qemu.sh OUTDIR RUNNER LIB [PAYLOAD]
#
# Debian's qemu-system-x86_64 with -device vfio-pci,host=$VM_EDU_BDF, driven by qmp-drive.py,
# in two columns: "type1" (plain, the real /dev/vfio/vfio) and "shim" (under RUNNER =
# scripts/vfiocompat-run with LIB, --fallback never, trace log). Each column runs the modes
# basic (realize, query-pci, pc-dimm hotplug, quit), hotplug (plug, unplug, re-plug on an
# empty native-hotplug root port, quit) and, with PAYLOAD (nested-dma.bin), dma (the nested
# machine's firmware drives the edu's DMA engine through QEMU's guest RAM mappings) and, from
# 6.19, p2p (the e1000e passed through too: edu DMA into and out of its BAR). Writes OUTDIR/{type1,shim}-MODE.json, the shim's log,
# QEMU's stderr, and the kernel trace OUTDIR/ktrace-qemu.txt; check.py judges them on the host.
# $E2E_COLS (default "type1 shim") picks the columns.
set -u
out=$1 runner=$2 lib=$3 payload=${4:-}
modes="basic hotplug"
[ -z "$payload" ] || modes="$modes dma"
# p2p: the e1000e passed through as well; vfio-pci exports BARs as dma-bufs from 6.19, so only
# from then can the shim serve QEMU's P2P map of a BAR (before: EFAULT, the listed difference)
kver=$(uname -r | awk -F. '{ printf "%d%03d", $1, $2 }')
[ -z "$payload" ] || [ -z "${VM_NIC_BDF:-}" ] || [ "$kver" -lt 6019 ] || modes="$modes p2p"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. "$here/guest-lib.sh"

env | grep "^VM_" >"$out/guest.env"
ktrace_setup || exit 125
fail=0
# E2E_COLS: the columns to run (e2e-run runs type1 in a guest with groups for a -nogroup one)
# shellcheck disable=SC2086 # a list of words
for col in ${E2E_COLS:-type1 shim}; do
	for mode in $modes; do
		launcher=()
		if [ $col = shim ]; then
			# shellcheck disable=SC2054 # trace,iommufd is one argument
			launcher=("$runner" --lib "$lib" --fallback never --log trace,iommufd
				--log-file "$out/shim-$mode.log" --)
		fi
		t0=$(e2e_now)
		python3 "$here/qmp-drive.py" --mode "$mode" --bdf "$VM_EDU_BDF" --bdf2 "${VM_NIC_BDF:-}" --group2 "${VM_NIC_GROUP:-}" \
			--group "$VM_EDU_GROUP" --tag "$col-$mode" \
			--json "$out/$col-$mode.json" --stderr "$out/qemu-$col-$mode.stderr" \
			--payload "$payload" --console "$out/nested-$col-$mode.txt" -- "${launcher[@]}" || fail=1
		e2e_log "$col $mode done in $(e2e_since "$t0") s"
	done
done
ktrace_dump "$out/ktrace-qemu.txt"
exit $fail
