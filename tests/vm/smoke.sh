#!/bin/bash
# Smoke test of the guest rig.
#
#   tests/vm/smoke.sh [--kernel K] [--root R] [vm-run options]
#                                on the host: boots the guest through vm-run (with --out,
#                                --bind, --env, --hugepages and --pcap) and runs itself inside it
#   vm-run -- tests/vm/smoke.sh  the guest part alone
#
# Guest part: checks that the guest runs the kernel ABI vm-prepare built for --kernel and
# the userspace asked for with --root (the QEMU major version in it), the VFIO/iommufd
# device nodes (on a -nogroup kernel: that no group nodes exist), that edu and the e1000e
# are bound to vfio-pci in the groups vm-run exported, that a host directory under /tmp
# is visible at its own path, the chroot mounts (tmpfs /tmp, debugfs), and, when python3
# is in the chroot, that the type1 container and /dev/iommu answer ioctls.
# Prints what it found. Exit 0 = all good.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)

# ---------------------------------------------------------------- host part
if [ "${VM_GUEST:-0}" != 1 ]; then
	kernel=${VFIOCOMPAT_VM_KERNEL:-6.12} root=${VFIOCOMPAT_VM_ROOT:-host}
	args=("$@")
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) kernel=${2:-}; shift ;;
		--kernel=*) kernel=${1#*=} ;;
		--root) root=${2:-}; shift ;;
		--root=*) root=${1#*=} ;;
		esac
		shift
	done
	# what the guest must show: the ABI vm-prepare has for this kernel (vm-run uses the same)
	penv=$("$HERE/vm-prepare" --cached --quiet --print-env --kernel "$kernel" --root "$root") ||
		{ echo "smoke: FAIL: vm-prepare --kernel $kernel --root $root failed" >&2; exit 1; }
	want_kabi=$(echo "$penv" | sed -n 's/^VM_KABI=//p')
	want_nogroup=$(echo "$penv" | sed -n 's/^VM_NOGROUP=//p')
	if [ "$root" = sid ]; then
		want_qemu=11
	else
		want_qemu=$(qemu-system-x86_64 --version | sed -n '1s/^QEMU emulator version \([0-9]*\)\..*/\1/p')
	fi
	out=$(mktemp -d "${TMPDIR:-/tmp}/vm-smoke.XXXXXX")
	seen=$(mktemp -d /tmp/vm-smoke-bind.XXXXXX) # not shared writable: must come in by --bind
	trap 'rm -rf "$out" "$seen"' EXIT
	token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "$token" >"$seen/token"
	cd "$HERE/../.." # the repo: visible in the guest at the same path
	set +e
	"$HERE/vm-run" --hugepages 8 --env SMOKE_OUT="$out" --env "SMOKE_SPACES=a b  'c'" \
		--env SMOKE_KABI="$want_kabi" --env SMOKE_NOGROUP="$want_nogroup" --env SMOKE_ROOT="$root" \
		--env SMOKE_QEMU="$want_qemu" --env SMOKE_SEEN="$seen" --env SMOKE_TOKEN="$token" \
		--bind "$seen" --out "$out" --pcap "$out/nic.pcap" "${args[@]+"${args[@]}"}" -- "$HERE/smoke.sh" 2>"$out/stderr"
	rc=$?
	set -e
	cat "$out/stderr" >&2
	fail=0
	grep -q "^vm-run: kernel $want_kabi.*, root $root\$" "$out/stderr" ||
		{ echo "smoke: FAIL: vm-run did not name kernel $want_kabi and root $root on stderr" >&2; fail=1; }
	[ "$rc" = 0 ] || { echo "smoke: FAIL: guest part exited with $rc" >&2; fail=1; }
	# the guest wrote through --out, at the same absolute path
	grep -q '^written in the guest$' "$out/from-guest" 2>/dev/null ||
		{ echo "smoke: FAIL: --out file not written" >&2; fail=1; }
	grep -q '^smoke: stderr line$' "$out/stderr" ||
		{ echo "smoke: FAIL: CMD's stderr did not reach vm-run's stderr" >&2; fail=1; }
	# filter-dump writes the pcap header when the NIC's netdev is created
	[ -s "$out/nic.pcap" ] || { echo "smoke: FAIL: --pcap file missing" >&2; fail=1; }
	[ $fail = 0 ] && echo "smoke: PASS"
	exit $fail
fi

# ---------------------------------------------------------------- guest part
fail=0
ok() { echo "smoke: ok   $*"; }
bad() { echo "smoke: FAIL $*"; fail=1; }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

echo "smoke: kernel $(uname -r), root ${VM_ROOT:-?}, cwd $(pwd)"
echo "smoke: stderr line" >&2
for v in VM_EDU_BDF VM_EDU_GROUP VM_NIC_BDF VM_NIC_GROUP VM_KERNEL VM_ROOT VM_NOGROUP; do
	[ -n "${!v:-}" ] && ok "$v=${!v}" || bad "$v is not set"
done
check "VM_KERNEL is uname -r" test "${VM_KERNEL:-}" = "$(uname -r)"
nogroup=${SMOKE_NOGROUP:-${VM_NOGROUP:-0}}
if [ -n "${SMOKE_KABI:-}" ]; then
	[ "$(uname -r)" = "$SMOKE_KABI" ] && ok "kernel is $SMOKE_KABI" || bad "kernel is $(uname -r), asked for $SMOKE_KABI"
	check "VM_ROOT is $SMOKE_ROOT" test "${VM_ROOT:-}" = "$SMOKE_ROOT"
	check "VM_NOGROUP is $nogroup" test "${VM_NOGROUP:-}" = "$nogroup"
	qv=$(qemu-system-x86_64 --version 2>/dev/null | head -n 1)
	case "$qv" in
	"QEMU emulator version $SMOKE_QEMU."*) ok "root $SMOKE_ROOT: $qv" ;;
	*) bad "root $SMOKE_ROOT: want QEMU $SMOKE_QEMU.x, found '${qv:-no qemu-system-x86_64}'" ;;
	esac
	[ "$(cat "$SMOKE_SEEN/token" 2>/dev/null)" = "$SMOKE_TOKEN" ] &&
		ok "host dir $SMOKE_SEEN under /tmp visible in the guest" ||
		bad "host dir $SMOKE_SEEN (--bind) not visible in the guest"
fi
if [ "$nogroup" = 1 ]; then
	check "no /dev/vfio/vfio (group-less kernel)" test ! -e /dev/vfio/vfio
else
	check "/dev/vfio/vfio is a char device" test -c /dev/vfio/vfio
fi
check "/dev/iommu is a char device" test -c /dev/iommu

for dev in EDU:1234:11e8 NIC:8086:10d3; do
	name=${dev%%:*} id=${dev#*:}
	bdfv=VM_${name}_BDF grpv=VM_${name}_GROUP
	bdf=${!bdfv:-none} grp=${!grpv:-none}
	d=/sys/bus/pci/devices/$bdf
	if [ ! -d "$d" ]; then bad "$name: no PCI device $bdf"; continue; fi
	vd="$(cat "$d/vendor"):$(cat "$d/device")"
	[ "$vd" = "0x${id%%:*}:0x${id#*:}" ] && ok "$name $bdf is $id" || bad "$name $bdf is $vd, not $id"
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null || true)
	[ "$drv" = vfio-pci ] && ok "$name $bdf bound to vfio-pci" || bad "$name $bdf bound to '${drv:-nothing}'"
	g=$(basename "$(readlink "$d/iommu_group")")
	[ "$g" = "$grp" ] && ok "$name $bdf in IOMMU group $g" || bad "$name $bdf in group $g, exported $grp"
	if [ "$nogroup" = 1 ]; then
		check "$name no /dev/vfio/$g (group-less kernel)" test ! -e "/dev/vfio/$g"
	else
		check "$name /dev/vfio/$g is a char device" test -c "/dev/vfio/$g"
	fi
	cdev=$(ls "$d/vfio-dev" 2>/dev/null | head -n 1)
	[ -n "$cdev" ] && [ -c "/dev/vfio/devices/$cdev" ] && ok "$name cdev /dev/vfio/devices/$cdev" ||
		bad "$name has no /dev/vfio/devices cdev"
done

check "/tmp is a tmpfs" grep -q ' /tmp tmpfs ' /proc/mounts
check "debugfs at /sys/kernel/debug" grep -q ' /sys/kernel/debug debugfs ' /proc/mounts
if [ -n "${SMOKE_OUT:-}" ]; then
	check "--out dir writable" sh -c 'echo "written in the guest" > "$SMOKE_OUT/from-guest"'
	check "--env with spaces and quotes" test "${SMOKE_SPACES:-}" = "a b  'c'"
	check "hugetlbfs at /dev/hugepages" grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts
	check "8 hugepages reserved" test "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)" -ge 8
fi

# type1 container and iommufd answer (VFIO_GET_API_VERSION = _IO(';', 100),
# VFIO_CHECK_EXTENSION = _IO(';', 101), VFIO_TYPE1v2_IOMMU = 3, IOMMU_IOAS_ALLOC = _IO(';', 0x81))
if command -v python3 >/dev/null; then
	SMOKE_NOGROUP=$nogroup python3 - <<-'EOF' || fail=1
		import fcntl, os, struct
		ok = True
		if os.environ["SMOKE_NOGROUP"] != "1":
		    fd = os.open("/dev/vfio/vfio", os.O_RDWR)
		    api = fcntl.ioctl(fd, 0x3b64)
		    t1v2 = fcntl.ioctl(fd, 0x3b65, 3)
		    print(f"smoke: {'ok  ' if api == 0 and t1v2 == 1 else 'FAIL'} /dev/vfio/vfio: API version {api}, TYPE1v2 extension {t1v2}")
		    ok = api == 0 and t1v2 == 1
		fd2 = os.open("/dev/iommu", os.O_RDWR)
		buf = bytearray(struct.pack("=III", 12, 0, 0))      # struct iommu_ioas_alloc
		fcntl.ioctl(fd2, 0x3b81, buf)
		ioas = struct.unpack("=III", buf)[2]
		print(f"smoke: {'ok  ' if ioas else 'FAIL'} /dev/iommu: IOMMU_IOAS_ALLOC -> ioas {ioas}")
		raise SystemExit(0 if ok and ioas else 1)
	EOF
else
	bad "no python3 in the chroot: the ioctl checks cannot run"
fi

echo "smoke: devices:"
ls -l /dev/iommu /dev/vfio /dev/vfio/devices | sed 's/^/smoke:   /'
[ $fail = 0 ] && echo "smoke: guest part PASS" || echo "smoke: guest part FAIL"
exit $fail
