# SPDX-License-Identifier: MIT
# Sourced by guest.sh (same variables and helpers): the doctor lines the guest's other
# sections do not give, each made by changing one real thing in the guest and undoing it.
# Not on a group-less kernel (VM_NOGROUP=1): its lines are that test's.
if [ "${VM_NOGROUP:-0}" != 1 ]; then
	section "the library loaded but disabled (VFIOCOMPAT_DISABLE)"
	doctor disabled "" --lib "$lib" --disable --check
	check_format disabled
	expect_rc disabled 0
	expect disabled '^warn +library: VFIOCOMPAT_DISABLE is set: the library will pass every call through$'

	section "unprivileged, no --mem: what RLIMIT_MEMLOCK allows"
	if command -v setpriv >/dev/null; then
		doctor_as_nobody nomem "" --lib "$lib" --check
		check_format nomem
		expect nomem '^info +memlock: RLIMIT_MEMLOCK [0-9]+ [KMG]iB without CAP_IPC_LOCK: a program can map at most that much'
	fi

	section "a /dev/iommu that is not iommufd (/dev/null bind-mounted on it)"
	unshare -m sh -c 'mount --bind /dev/null /dev/iommu && exec "$@"' sh \
		"$wrapper" --lib "$lib" --check >"$tmp/notiommufd.out" 2>&1
	echo $? >"$tmp/notiommufd.rc"
	sed 's/^/   | /' "$tmp/notiommufd.out"
	check_format notiommufd
	expect_rc notiommufd 1
	expect notiommufd '^FAIL +/dev/iommu: opens, but is not iommufd: IOMMU_IOAS_ALLOC fails with ENOTTY \(crw-rw-rw- root:root 1:3\)$'
	expect notiommufd '^result: not ready \(/dev/iommu'
	expect notiommufd '^skip +group join: not tried: /dev/iommu is not iommufd \(group [0-9]+ refuses it: EBADFD?\)$'
	reject notiommufd '^info +features:'

	section "the e1000e unbound from vfio-pci: its group has no VFIO driver"
	nic=/sys/bus/pci/devices/$VM_NIC_BDF
	if [ -n "${VM_NIC_BDF:-}" ] && [ -e "$nic/driver" ] &&
		echo "$VM_NIC_BDF" >/sys/bus/pci/drivers/vfio-pci/unbind; then
		doctor nicfree "" --lib "$lib" --check
		# back to vfio-pci (driver_override still names it) for whatever runs next
		echo "$VM_NIC_BDF" >/sys/bus/pci/drivers/vfio-pci/bind || bad "could not bind $VM_NIC_BDF back to vfio-pci"
		check_format nicfree
		expect_rc nicfree 0
		expect nicfree "^info +groups: [0-9]+ more IOMMU groups have no device bound to a VFIO driver \\(.*$VM_NIC_GROUP: $(printf '%s' "$VM_NIC_BDF" | sed 's/\./\\./g') \\[8086:10d3\\] none"
		reject nicfree "^(ok|warn|FAIL) +group $VM_NIC_GROUP:"
		expect nicfree "^result: ready: .*\\(usable groups: $VM_EDU_GROUP\\)$"
	else
		bad "could not unbind the e1000e ($VM_NIC_BDF) from vfio-pci"
	fi
fi
