#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest part of the e2e "cpr" scenario (started by e2e-run through tests/vm/vm-run).
#
#   guest-cpr.sh OUTDIR RUNNER LIB PAYLOAD
#
# QEMU's live update (cpr-transfer, then cpr-exec) of a running nested machine with
# -device vfio-pci,host=$VM_EDU_BDF whose firmware (PAYLOAD, nested-dma.S with CPR_LOOP) keeps
# doing edu DMA, driven by cpr-drive.py, in four columns:
#   type1    the legacy container on the real /dev/vfio/vfio
#   iommufd  QEMU's own iommufd backend (-object iommufd): the reference
#   kcompat  the legacy container on the kernel's iommufd compat (/dev/iommu bind-mounted on
#            /dev/vfio/vfio in a private mount namespace): must be refused (no UPDATE_VADDR), so
#            its failed handover is not the guest part's failure (check.py judges the refusal)
#   shim     the legacy container under RUNNER (vfiocompat-run with LIB)
# Writes OUTDIR/cpr-COL-MODE.json, QEMU's stderr and consoles, the kernel trace
# OUTDIR/ktrace-cpr.txt, the kernel's line about every QEMU that segfaulted (OUTDIR/segfaults.txt)
# and QEMU's dynamic symbols to name the function (OUTDIR/qemu-dynsym.txt); check.py judges them on the host.
# $E2E_CPR_COLS / $E2E_CPR_MODES pick columns / modes.
set -u
out=$1 runner=$2 lib=$3 payload=$4
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. "$here/guest-lib.sh"

# the edu behind the bridge, without a legacy IRQ (guest-lib.sh: cpr_edu)
cpr_edu || exit 125
export VM_EDU_BDF VM_EDU_GROUP
env | grep "^VM_" >"$out/guest.env"
# cpr-transfer's main channel is tcp on 127.0.0.1: the guest's loopback starts down
ip link set lo up || { e2e_log "cannot bring lo up"; exit 125; }
ktrace_setup || exit 125
: >"$out/segfaults.txt"
# the dynamic symbols of QEMU, to name the function of a fault's offset (Debian strips the rest)
qemu=$(command -v qemu-system-x86_64)
nm -D --defined-only "$qemu" 2>/dev/null | sort >"$out/qemu-dynsym.txt"
dmesg_seen=$(dmesg | wc -l)
# the kernel's lines about QEMUs that died of a signal since the last call, tagged
segv_note() {
	dmesg | tail -n +$((dmesg_seen + 1)) | grep 'qemu-system-x86.*segfault at' | sed "s/^/$1: /" >>"$out/segfaults.txt"
	dmesg_seen=$(dmesg | wc -l)
}

fail=0
for col in ${E2E_CPR_COLS:-type1 iommufd kcompat shim}; do
	for mode in ${E2E_CPR_MODES:-transfer exec}; do
		launcher=() backend=legacy
		case $col in
		iommufd) backend=iommufd ;;
		kcompat)
			launcher=(unshare --mount --propagation private sh -c
				'mount --bind /dev/iommu /dev/vfio/vfio && exec "$@"' sh) ;;
		shim)
			# shellcheck disable=SC2054 # trace,iommufd is one argument
			launcher=("$runner" --lib "$lib" --fallback never --log trace,iommufd
				--log-file "$out/shim-cpr-$mode.log" --) ;;
		esac
		t0=$(e2e_now)
		python3 "$here/cpr-drive.py" --mode "$mode" --backend $backend --bdf "$VM_EDU_BDF" \
			--group "$VM_EDU_GROUP" --payload "$payload" --tag "cpr-$col-$mode" --dir "$out" \
			--json "$out/cpr-$col-$mode.json" -- "${launcher[@]}" || [ "$col" = kcompat ] || fail=1
		segv_note "cpr-$col-$mode"
		e2e_log "$col $mode done in $(e2e_since "$t0") s"
	done
done
ktrace_dump "$out/ktrace-cpr.txt"
exit $fail
