#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest part of the nvme:// scenario (started by nvme-run through tests/vm/vm-run).
#
#   guest-nvme.sh OUTDIR RUNNER LIB BDF
#
# QEMU's userspace NVMe driver (qemu-io on nvme://BDF/1: VFIO_TYPE1_IOMMU v1, its own
# container, its request buffers mapped and unmapped for DMA) against the emulated NVMe
# controller BDF, bound to vfio-pci here. Two columns, each writing its own pattern and
# reading back both: "type1" (plain, the real /dev/vfio/vfio) and "shim" (under RUNNER =
# scripts/vfiocompat-run with LIB, --fallback never). The host compares the namespace's
# image file afterwards; nvme-check.py judges the logs and the kernel trace.
set -u
out=$1 runner=$2 lib=$3 bdf=$4
here=$(cd "$(dirname "$0")" && pwd)
# the kernel-side evidence (which container was opened) is the e2e tier's
# shellcheck source=../e2e/guest-lib.sh
. "$here/../e2e/guest-lib.sh"

say() { echo "nvme-guest: $*"; }
env | grep "^VM_" >"$out/guest.env"
qemu-io --version | head -n 1 >"$out/qemu-io.version"

d=/sys/bus/pci/devices/$bdf
[ -e "$d" ] || { say "no PCI device $bdf in the guest"; exit 125; }
[ "$(cat "$d/class")" = 0x010802 ] || { say "$bdf is not an NVMe controller ($(cat "$d/class"))"; exit 125; }
echo vfio-pci >"$d/driver_override"
[ ! -e "$d/driver" ] || echo "$bdf" >"$d/driver/unbind"
echo "$bdf" >/sys/bus/pci/drivers_probe
drv=$(basename "$(readlink "$d/driver" 2>/dev/null)")
[ "$drv" = vfio-pci ] || { say "$bdf did not bind to vfio-pci (driver: ${drv:-none})"; exit 125; }
group=$(basename "$(readlink "$d/iommu_group")")
[ -c "/dev/vfio/$group" ] || { say "no /dev/vfio/$group for $bdf"; exit 125; }
say "$bdf bound to vfio-pci, IOMMU group $group"
echo "$group" >"$out/group"

ktrace_setup || exit 125

# A small DMA entry limit (type1's module parameter, the shim's setting) makes the driver
# run out of mappings: it then drops all its temporary mappings with one UNMAP_DMA over
# their whole IOVA range, which spans many mappings (qemu_vfio_dma_reset_temporary).
limit=12
param=/sys/module/vfio_iommu_type1/parameters/dma_entry_limit
old_limit=$(cat $param) || exit 125
echo $limit >$param || exit 125

# column PATTERN_OWN PATTERN_OTHER OFFSET_OWN OFFSET_OTHER: qemu-io writes its own pattern
# in several requests of different sizes (each buffer mapped for DMA by the driver), reads
# it back, and reads the other column's region (written earlier, or zeros).
# qio TAG CMD...: one qemu-io run, traced between markers.
# Under TCG the emulated controller's first MSI-X sometimes never reaches the guest kernel
# (its vfio-msix count stays 0), on plain type1 as under the shim, with QEMU 7.2 and 11.1, on
# 6.12 and 7.2: the driver then waits forever for a completion already in its queue. While
# that count is 0, qemu-io's eventfds are signalled once every 3 s (kick-eventfds.py), which
# wakes its loop; each kick is counted and reported. A run still stuck after 60 s is killed and
# run once more (also reported).
qemu_io_pid() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = qemu-io ] && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}
msix_count() { # interrupts the guest kernel took from the controller's vfio-msix vectors
	awk -v b="($bdf)" 'index($0, "vfio-msix") && index($0, b) {
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts
}
qio() {
	local tag=$1 rc try job t pid kicks
	shift
	for try in 1 2; do
		ktrace_mark "begin $tag"
		timeout -k 5 60 "$@" </dev/null >"$out/$tag.out" 2>"$out/$tag.err" &
		job=$!
		t=0
		while kill -0 "$job" 2>/dev/null; do
			sleep 1
			t=$((t + 1))
			if [ $((t % 3)) = 0 ] && [ "$(msix_count)" = 0 ] && pid=$(qemu_io_pid); then
				python3 "$here/kick-eventfds.py" "$pid" >/dev/null 2>>"$out/$tag.kick.err" &&
					echo "$tag" >>"$out/kicked"
			fi
		done
		wait "$job"
		rc=$?
		ktrace_mark "end $tag"
		if [ "$rc" != 124 ] || [ "$try" = 2 ]; then break; fi
		say "$tag: RETRY: qemu-io hung for 60 s (attempt $try); running it again"
		echo "$tag" >>"$out/retried"
	done
	echo "$rc" >"$out/$tag.rc"
	kicks=$(grep -c -x "$tag" "$out/kicked" 2>/dev/null) || kicks=0
	say "$tag: exit $rc; eventfd kicks for a lost first interrupt: $kicks"
	return "$rc"
}
# cmds PATTERN OFFSET: sets CMDS to qemu-io -c options writing PATTERN at OFFSET in requests
# of several sizes (each buffer is mapped for DMA by the driver) and reading it back
cmds() {
	local p=$1 o=$2
	CMDS=(-c "write -P $p $o 4k" -c "write -P $p $((o + 4096)) 60k"
		-c "write -P $p $o 4k" -c "write -P $p $((o + 4096)) 60k"
		-c "write -P $p $o 4k" -c "write -P $p $((o + 4096)) 60k"
		-c "write -P $p $((o + 65536)) 1M" -c "aio_write -P $p $((o + 65536 + 1048576)) 128k"
		-c aio_flush -c "read -P $p $o $((65536 + 1048576 + 131072))")
}
fail=0
# type1 first: pattern 0x5a at 0
cmds 0x5a 0
qio type1 qemu-io -f raw "${CMDS[@]}" "nvme://$bdf/1" || fail=1
# the shim: pattern 0xa5 at 8 MiB, and type1's region read back through the shim
cmds 0xa5 8388608
qio shim "$runner" --lib "$lib" --fallback never --dma-entry-limit $limit --log trace --log-file "$out/shim.log" \
	--report "$out/shim-report.json" -- \
	qemu-io -f raw "${CMDS[@]}" -c "read -P 0x5a 0 $((65536 + 1048576 + 131072))" "nvme://$bdf/1" || fail=1
# type1 again reads what the shim wrote
qio type1-readback qemu-io -f raw -c "read -P 0xa5 8388608 $((65536 + 1048576 + 131072))" "nvme://$bdf/1" || fail=1
echo "$old_limit" >$param
ktrace_dump "$out/ktrace-nvme.txt"
exit $fail
