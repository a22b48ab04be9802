#!/bin/sh
# SPDX-License-Identifier: MIT
# `vfiocompat-run --check` in the test guest (tests/vm/vm-run), where everything is there:
# iommufd, the type1 container, edu and an e1000e bound to vfio-pci. Then as an unprivileged
# user, with edu's group held open by another process, and with the kernel's compat container
# in place of type1 (/dev/iommu bind-mounted on /dev/vfio/vfio in a private mount namespace).
#   guest.sh WRAPPER LIB PROBE
set -u
wrapper=$1 lib=$2 probe=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
# --json compared on these runs only (a guest run is slow under TCG); host.sh compares every run
twin_only="ready nobody nicfree"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}" "${VM_EDU_BDF:?}" "${VM_NIC_GROUP:?}"
edu=$(printf '%s' "$VM_EDU_BDF" | sed 's/\./\\./g')
# the guest kernel's level (major * 1000 + minor): what it offers and whose type1 answers
lvl=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if [ "$lvl" -ge 6013 ]; then since613=yes; else since613=no; fi

section "root, everything in place"
doctor ready "" --lib "$lib" --check
check_format ready
expect_rc ready 0
expect ready '^ok +library: .*/libvfiocompat\.so \([0-9]+\.[0-9]+\.[0-9]+; preloads\)$'
reject ready '^warn +probe:'
expect ready "^ok +kernel: $(uname -r | sed 's/[.+]/\\&/g') "
if [ "$lvl" -ge 6019 ]; then
	expect ready '^ok +kernel: .*vfiocompat answers as this kernel.s type1 \(6\.19\+: EOVERFLOW'
	expect ready '^info +features: .*vfio-pci dma-buf export of BARs: (yes|6\.19\+)'
else
	expect ready '^ok +kernel: .*vfiocompat answers as this kernel.s type1 \(before 6\.19: EINVAL'
	expect ready '^info +features: .*vfio-pci dma-buf export of BARs: no \(needs 6\.19'
fi
# asked of the kernel: ENOTTY before 6.13
expect ready "^info +features: IOMMU_IOAS_MAP_FILE: $since613, IOMMU_IOAS_CHANGE_PROCESS: $since613 "
expect ready '^ok +/dev/iommu: opens read-write as root and iommufd answers \(IOAS allocated and freed\)$'
expect ready "^ok +/dev/vfio/vfio: the kernel's type1 container \(crw-rw-rw- root:root 10:196, CONFIG_VFIO_CONTAINER\)"
expect ready '^info +cdevs: /dev/vfio/devices: vfio0 vfio1 '
expect ready "^ok +group $VM_EDU_GROUP: $edu \[1234:11e8\] vfio-pci; /dev/vfio/$VM_EDU_GROUP opens, viable, joins an iommufd$"
expect ready "^ok +group $VM_NIC_GROUP: .* vfio-pci; /dev/vfio/$VM_NIC_GROUP opens, viable, joins an iommufd$"
expect ready '^info +groups: [0-9]+ more IOMMU groups have no device bound to a VFIO driver \(.*virtio-pci'
expect ready '^ok +group join: group [0-9]+ joined an iommufd and left again'
expect ready '^ok +memlock: not limited: root has CAP_IPC_LOCK'
expect ready '^ok +accounting: per process, as type1'
expect ready "^result: ready: a legacy VFIO program can run here under vfiocompat-run \(usable groups: .*$VM_EDU_GROUP"
reject ready '^(FAIL|warn) '

# nothing was left attached: a legacy program still runs on edu's group afterwards
section "the check left nothing behind"
python3 - "$VM_EDU_GROUP" <<'EOF' || bad "edu's group is not free after --check"
import fcntl, os, struct, sys
g = os.open("/dev/vfio/" + sys.argv[1], os.O_RDWR)
st = bytearray(struct.pack("II", 8, 0))
fcntl.ioctl(g, 0x3b67, st)  # VFIO_GROUP_GET_STATUS
flags = struct.unpack("II", st)[1]
assert flags == 1, "status flags %#x (want VIABLE only)" % flags
print("   edu's group: viable, no container set")
EOF

# what the doctor's lines above are made of: the probe's walk of this real kernel
section "the walk (vfiocompat-probe host)"
"$probe" host "" >"$tmp/walk.out" 2>&1
echo $? >"$tmp/walk.rc"
sed 's/^/   | /' "$tmp/walk.out"
expect_rc walk 0
expect walk "^kernel=$(uname -r | sed 's/[.+]/\\&/g')\$"
expect walk "^kernel\\.level=$lvl\$"
expect walk '^kernel\.iommufd=1$'
expect walk '^kernel\.cdev=1$'
expect walk "^kernel\\.map_file=$([ "$lvl" -ge 6013 ] && echo 1 || echo 0)\$"
expect walk '^iommu\.node=present$'
expect walk '^iommu\.access=rw$'
expect walk '^iommu\.desc=crw-rw---- root:root 10:260$'
expect walk '^iommu\.loaded=1$'
expect walk '^iommufd\.holds_vfio=1$'
expect walk '^vfio\.type1_loaded=1$'
expect walk '^container\.desc=crw-rw-rw- root:root 10:196$'
expect walk '^cdevs=vfio0 vfio1$'
reject walk '^[^=]*$'
grep -A 5 "^group=$VM_EDU_GROUP\$" "$tmp/walk.out" | grep -qx "group.devices=$VM_EDU_BDF \[1234:11e8\] vfio-pci" ||
	bad "walk: edu's group does not list $VM_EDU_BDF on vfio-pci"
grep -A 5 "^group=$VM_EDU_GROUP\$" "$tmp/walk.out" | grep -qx "group.path=/dev/vfio/$VM_EDU_GROUP" ||
	bad "walk: edu's group node is not /dev/vfio/$VM_EDU_GROUP"
grep -A 5 "^group=$VM_EDU_GROUP\$" "$tmp/walk.out" | grep -qx "group.blockers=" ||
	bad "walk: edu's group has a blocker"
[ "$(grep -c '^group=' "$tmp/walk.out")" = "$(ls /sys/kernel/iommu_groups | wc -l)" ] ||
	bad "walk: not one record per /sys/kernel/iommu_groups entry"

section "without the probe: guesses from files"
VFIOCOMPAT_PROBE=/nonexistent/vfiocompat-probe doctor noprobe "" --lib "$lib" --check
check_format noprobe
expect_rc noprobe 0
expect noprobe '^warn +probe: /nonexistent/vfiocompat-probe is not executable'
expect noprobe '^ok +/dev/iommu: present and read-write for root \(crw-rw---- root:root 10:260; not opened: no probe\)$'
expect noprobe "^ok +/dev/vfio/vfio: the kernel's type1 container \(crw-rw-rw- root:root 10:196, CONFIG_VFIO_CONTAINER \(guessed\)\)"
expect noprobe "^ok +group $VM_EDU_GROUP: $edu \[1234:11e8\] vfio-pci; /dev/vfio/$VM_EDU_GROUP read-write for root \(not opened: no probe\)$"
expect noprobe '^skip +group join: not tried \(no probe\); vfio is linked to iommufd'

section "unprivileged user"
if command -v setpriv >/dev/null; then
	doctor_as_nobody nobody "" --lib "$lib" --check --mem 1G
	check_format nobody
	expect_rc nobody 1
	expect nobody '^FAIL +/dev/iommu: permission denied for nobody \(crw-rw---- root:root 10:260\): allow it with a udev rule'
	expect nobody "^FAIL +group $VM_EDU_GROUP: .*/dev/vfio/$VM_EDU_GROUP: permission denied for nobody \(crw------- root:root "
	expect nobody '^FAIL +memlock: RLIMIT_MEMLOCK [0-9]+ [KMG]iB < 1 GiB needed \(--mem 1G\)'
	expect nobody '^info +accounting: per user: without CAP_SYS_RESOURCE'
	expect nobody '^result: not ready \(/dev/iommu, group '
else
	bad "setpriv not found"
fi

section "edu's group held by another process"
sleep 30 3<>"/dev/vfio/$VM_EDU_GROUP" &
holder=$!
sleep 0.3
doctor busy "" --lib "$lib" --check
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
expect_rc busy 0
expect busy "^warn +group $VM_EDU_GROUP: .* is open in another process"
expect busy "^result: ready: .*usable groups: $VM_NIC_GROUP\)$"

section "the kernel's compat container on /dev/vfio/vfio"
if command -v unshare >/dev/null; then
	unshare -m sh -c 'mount --bind /dev/iommu /dev/vfio/vfio && exec "$@"' sh \
		"$wrapper" --lib "$lib" --check >"$tmp/compat.out" 2>&1
	echo $? >"$tmp/compat.rc"
	sed 's/^/   | /' "$tmp/compat.out"
	expect_rc compat 0
	expect compat "^info +/dev/vfio/vfio: already iommufd's compat container"
else
	bad "unshare not found"
fi
. "$here/guest-lines.sh"
finish
