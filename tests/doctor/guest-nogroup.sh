#!/bin/sh
# SPDX-License-Identifier: MIT
# `vfiocompat-run --check` in the group-less test guest (tests/vm/vm-run --kernel 7.2-nogroup):
# no /dev/vfio/vfio and no /dev/vfio/N, only /dev/iommu and the device cdevs, where vfiocompat
# serves the groups itself. As root, then as an unprivileged user (the cdevs are root's).
#   guest-nogroup.sh WRAPPER LIB PROBE
set -u
# shellcheck disable=SC2034 # lib.sh's doctor() runs $wrapper; the probe is found next to lib
wrapper=$1 lib=$2 probe=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}" "${VM_EDU_BDF:?}" "${VM_NIC_GROUP:?}"
[ "${VM_NOGROUP:-0}" = 1 ] || bad "not a group-less guest (VM_NOGROUP=${VM_NOGROUP:-unset})"
edu=$(printf '%s' "$VM_EDU_BDF" | sed 's/\./\\./g')

section "root, a kernel without VFIO groups"
doctor ready "" --lib "$lib" --check
check_format ready
expect_rc ready 0
expect ready '^ok +/dev/iommu: opens read-write as root and iommufd answers'
expect ready '^info +/dev/vfio/vfio: absent '
expect ready '^info +cdevs: /dev/vfio/devices: vfio0 vfio1 '
expect ready "^ok +group $VM_EDU_GROUP: $edu \[1234:11e8\] vfio-pci; no /dev/vfio/$VM_EDU_GROUP on this kernel: vfiocompat serves it over /dev/vfio/devices/vfio[0-9]+ \(rw for root\)$"
expect ready "^ok +group $VM_NIC_GROUP: .* vfio-pci; no /dev/vfio/$VM_NIC_GROUP on this kernel: vfiocompat serves it over "
expect ready '^ok +group-less kernel: groups served by vfiocompat '
expect ready "^result: ready: a legacy VFIO program can run here under vfiocompat-run \(usable groups: .*$VM_EDU_GROUP"
reject ready '^(FAIL|warn) '

section "unprivileged user: the cdevs are root's"
if command -v setpriv >/dev/null; then
	doctor_as_nobody nobody "" --lib "$lib" --check
	check_format nobody
	expect_rc nobody 1
	expect nobody "^FAIL +group $VM_EDU_GROUP: .*vfiocompat serves it over /dev/vfio/devices/vfio[0-9]+ \(no-access for nobody\)$"
	expect nobody '^result: not ready '
else
	bad "setpriv not found"
fi
finish
