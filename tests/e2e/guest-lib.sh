# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced (bash) by the guest parts of the e2e scenarios, which run as root in the
# tests/vm/vm-run guest (a chroot of the host root, Debian's programs unchanged).
#
# Kernel-side evidence comes from ftrace, so no tracer is attached to QEMU or DPDK:
#   e2e/vopen     vfio_fops_open: every open of the real type1 container /dev/vfio/vfio
#   e2e/vioctl    vfio_fops_unl_ioctl: type1 container ioctls + the first 32 bytes of the argument
#   e2e/vioctlret the same function's return value (type1's answer, e.g. to CHECK_EXTENSION)
#   e2e/fdopen    iommufd_fops_open: every open of /dev/iommu
#   e2e/fdioctl   iommufd_fops_ioctl: /dev/iommu ioctls + the first 40 bytes of the argument
#   e2e/imap      intel_iommu_map_pages: the IOMMU page size and count of every map (6.12;
#                 7.x has no such function: the generic page table maps ranges)
#   e2e/rfd       receive_fd: the file_operations of every fd received over SCM_RIGHTS (BTF)
#   iommu/map, iommu/unmap   the IOMMU core's tracepoints (bytes mapped / really unmapped)
# Phases are delimited with trace_marker lines "E2E <text>" (analyzed by check.py on the host).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
TR=/sys/kernel/tracing

e2e_log() { echo "e2e-guest: $*"; }
# uptime in seconds, for step timings
e2e_now() { cut -d' ' -f1 /proc/uptime; }
e2e_since() { awk -v a="$1" -v b="$(e2e_now)" 'BEGIN{printf "%.1f", b-a}'; }

# shellcheck disable=SC2016 # $argN are kprobe syntax, not shell
ktrace_setup() {
	[ -d $TR/events ] || mount -t tracefs tracefs $TR 2>/dev/null
	local u='w0=+u0($arg3):x64 w1=+u8($arg3):x64 w2=+u16($arg3):x64 w3=+u24($arg3):x64'
	{
		echo 'p:e2e/fdopen iommufd_fops_open'
		echo "p:e2e/fdioctl iommufd_fops_ioctl cmd=\$arg2:x32 arg=\$arg3:x64 $u w4=+u32(\$arg3):x64"
	} >>$TR/kprobe_events || { e2e_log "cannot define the kprobes"; return 1; }
	# the type1 container's entry points: a kernel without VFIO groups (-nogroup) has none,
	# so nothing can open a real container there
	if grep -q ' vfio_fops_open' /proc/kallsyms; then
		{
			echo 'p:e2e/vopen vfio_fops_open'
			echo "p:e2e/vioctl vfio_fops_unl_ioctl cmd=\$arg2:x32 arg=\$arg3:x64 $u"
			echo 'r:e2e/vioctlret vfio_fops_unl_ioctl ret=$retval:s64'
		} >>$TR/kprobe_events || { e2e_log "cannot define the kprobes"; return 1; }
	else
		e2e_log "note: no vfio_fops_open in $(uname -r) (no VFIO container): /dev/vfio/vfio cannot exist"
	fi
	# the Intel IOMMU driver's page size per map: 7.x drivers use the generic page table
	# (vtdss_map_range picks the page sizes inside), so there it is seen only on the host,
	# in the vIOMMU's own page walks
	if grep -q ' intel_iommu_map_pages$' /proc/kallsyms; then
		echo 'p:e2e/imap intel_iommu_map_pages dom=$arg1:x64 iova=$arg2:x64 pgsize=$arg4:x64 pgcount=$arg5:u64' >>$TR/kprobe_events ||
			{ e2e_log "cannot define the imap kprobe"; return 1; }
	else
		e2e_log "note: no intel_iommu_map_pages in $(uname -r): the guest's IOMMU page sizes are not traced"
	fi
	echo 'p:e2e/rfd receive_fd fop=file->f_op:symbol' >>$TR/kprobe_events 2>/dev/null ||
		e2e_log "note: no BTF kprobe arguments: fds received over SCM_RIGHTS are not traced"
	echo 32768 >$TR/buffer_size_kb
	echo 1 >$TR/options/record-tgid # threads (DPDK's mp handler) are told by their process
	if ! { echo 1 >$TR/events/e2e/enable && echo 1 >$TR/events/iommu/map/enable &&
		echo 1 >$TR/events/iommu/unmap/enable; }; then
		e2e_log "cannot enable the trace events"
		return 1
	fi
	: >$TR/trace
	# which probes exist on this kernel, for check.py
	[ -z "${out:-}" ] || sed 's/ .*//' $TR/kprobe_events >"$out/kprobes.txt"
}
ktrace_mark() { echo "E2E $*" >$TR/trace_marker; }
ktrace_dump() { cat $TR/trace >"$1"; }

# fd_snapshot PID: "fd -> target" for every fd of PID (seen from outside the process, so the
# shim's readlink("/proc/self/fd/N") answer does not apply: the real file shows)
fd_snapshot() {
	# one ls for all fds: a fork per fd would make samples of a short-lived process too coarse
	# shellcheck disable=SC2012 # fd names are numbers
	ls -l "/proc/$1/fd/" 2>/dev/null | sed -n 's/.* \([0-9][0-9]*\) -> /\1 -> /p'
}

# DPDK's EAL dlopens every library in its plugin directory (about 130 with Debian's
# dpdk-dev): over 9p under TCG that alone takes seconds. Cover the directory with a tmpfs
# that links only the libraries the two programs are linked with plus the two plugins the
# test needs (the e1000 PMD and the ring mempool). The programs stay unchanged.
# EAL refuses plugins below a world-writable directory, hence /run (mode 755), not /tmp.
dpdk_trim_plugins() {
	local dir lib n linked
	dir=$(find /usr/lib/*/dpdk -maxdepth 1 -type d -name 'pmds-*' 2>/dev/null | head -n 1)
	[ -n "$dir" ] || { e2e_log "no DPDK plugin directory (dpdk-dev installed?)"; return 1; }
	linked=$(ldd /usr/bin/dpdk-testpmd /usr/bin/dpdk-proc-info | grep -o "$dir/[^ ]*" | sort -u)
	if ! { mkdir -p /run/e2e-pmds && mount --bind "$dir" /run/e2e-pmds &&
		mount -t tmpfs -o mode=755 pmds "$dir"; }; then
		e2e_log "cannot cover $dir"
		return 1
	fi
	for lib in $linked; do
		ln -sf "/run/e2e-pmds/${lib##*/}" "$dir/"
	done
	for lib in /run/e2e-pmds/librte_net_e1000.so.* /run/e2e-pmds/librte_mempool_ring.so.*; do
		case $lib in *.so.*.*) ln -sf "$lib" "$dir/" ;; esac
	done
	n=$(find "$dir" -maxdepth 1 | wc -l)
	e2e_log "DPDK plugin dir $dir trimmed to $((n - 1)) links"
}

# cpr_edu: the edu that QEMU 11.1's live update can survive in this rig (tests/e2e/README.md, "QEMU 11.1
# live update"): the second edu, alone behind a PCI bridge (vm-run --qemu-arg, see e2e-run), so the kernel
# can reset it by a secondary bus reset and QEMU does not send it through its hot-reset path; and
# without a legacy IRQ, so the kernel's vfio-pci reports interrupt pin 0 and QEMU's cpr notifier does
# not reach KVM under TCG. The guest boots with acpi=noirq noapic (no ACPI or IO-APIC routing: the
# PCI IRQ is the Interrupt Line register as read at enumeration); the line is cleared and the device
# enumerated again, so pdev->irq is 0. noapic leaves no interrupt remapping, hence
# allow_unsafe_interrupts for type1 and iommufd alike (the edu loop polls, it takes no interrupt).
# Sets VM_EDU_BDF and VM_EDU_GROUP to that device; returns 1 (with a line saying why) if it cannot.
cpr_edu() {
	local d b="" m
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
			[ "${d##*/}" != "$VM_EDU_BDF" ] && b=${d##*/}
	done
	[ -n "$b" ] || { e2e_log "cpr: no second edu (behind the bridge) in this guest"; return 1; }
	d=/sys/bus/pci/devices/$b
	for m in vfio_iommu_type1 iommufd; do
		echo 1 >/sys/module/$m/parameters/allow_unsafe_interrupts ||
			{ e2e_log "cpr: cannot set $m.allow_unsafe_interrupts"; return 1; }
	done
	[ ! -e "$d/driver" ] || echo "$b" >"$d/driver/unbind"
	printf '\000' | dd of="$d/config" bs=1 seek=60 conv=notrunc status=none
	echo 1 >"$d/remove"
	echo 1 >/sys/bus/pci/rescan
	[ -d "$d" ] || { e2e_log "cpr: $b did not come back from remove/rescan"; return 1; }
	echo vfio-pci >"$d/driver_override"
	echo "$b" >/sys/bus/pci/drivers_probe
	VM_EDU_BDF=$b VM_EDU_GROUP=$(basename "$(readlink "$d/iommu_group")")
	e2e_log "cpr: edu $b group $VM_EDU_GROUP ($(echo /sys/kernel/iommu_groups/"$VM_EDU_GROUP"/devices/*)) driver $(basename "$(readlink "$d/driver")") irq $(cat "$d/irq") reset_method $(cat "$d/reset_method")"
	if [ "$(basename "$(readlink "$d/driver")")" != vfio-pci ] || [ "$(cat "$d/irq")" != 0 ] ||
		[ "$(cat "$d/reset_method")" != bus ]; then
		e2e_log "cpr: $b is not as needed (vfio-pci, irq 0, bus reset)"
		return 1
	fi
}
