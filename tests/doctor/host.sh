#!/bin/sh
# SPDX-License-Identifier: MIT
# `vfiocompat-run --check` on this host, then on made-up hosts: a directory standing in
# for / (VFIOCOMPAT_CHECK_ROOT), a kernel release (VFIOCOMPAT_CHECK_KERNEL) and a fake
# vfiocompat-probe that gives the kernel's answers from files, so that every reason the
# doctor can give is checked here, whatever this host has.
#   host.sh WRAPPER LIB PROBE
set -u
wrapper=$1 lib=$2 probe=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# -- this host --------------------------------------------------------------------
section "this host"
doctor host "" --lib "$lib" --check
check_format host
expect host '^ok +library: .*/libvfiocompat\.so \([0-9]+\.[0-9]+\.[0-9]+; preloads\)$'
reject host '^warn +probe:' # found from the library: build/shim -> build/tools
expect host '^ok +kernel: |^FAIL +kernel: .* is older than 6\.2'
if [ ! -e /dev/iommu ]; then
	# this project's CI host: no iommufd, so nothing can run
	expect_rc host 1
	expect host '^FAIL +/dev/iommu: missing'
	if gzip -dc /proc/config.gz 2>/dev/null | grep -q '^# CONFIG_IOMMUFD is not set'; then
		expect host '^FAIL +/dev/iommu: missing: this kernel is built without CONFIG_IOMMUFD \(/proc/config\.gz\)'
	fi
	expect host '^result: not ready \(.*/dev/iommu.*\); what to do: TROUBLESHOOTING in man 7 vfiocompat, or Troubleshooting in the README$'
else
	note "this host has /dev/iommu: only the format is checked here"
fi
if [ -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]; then
	expect host '^FAIL +groups: no IOMMU groups: no IOMMU is active'
	expect host '^skip +group join: not tried'
fi
expect host '^(ok|info) +accounting: '
expect host '^(ok|info|warn|FAIL) +memlock: '

# The library path given wrong, and a library with no probe next to it.
section "library"
doctor nolib "" --lib "$tmp/nowhere/libvfiocompat.so" --check
expect_rc nolib 1
expect nolib "^FAIL +library: $tmp/nowhere/libvfiocompat.so: no such file \(--lib or VFIOCOMPAT_LIB\)$"
# a quote, a backslash and a tab in a message: --json escapes them (json_twin)
doctor quoted "" --lib "$tmp/a\"b\\c	d/libvfiocompat.so" --check
expect_rc quoted 1
grep -q 'a\\"b\\\\c\\td/libvfiocompat.so: no such file' "$tmp/quoted.json" || bad "quoted: not escaped in --json"
mkdir -p "$tmp/l" && cp "$lib" "$tmp/l/"
doctor noprobe "" --lib "$tmp/l/libvfiocompat.so" --check
expect noprobe '^ok +library: .*\(version not checked; preloads\)$'
expect noprobe '^warn +probe: vfiocompat-probe not found next to the library'
expect noprobe '^FAIL +host: not examined \(no vfiocompat-probe'
expect_rc noprobe 1
VFIOCOMPAT_PROBE=$probe doctor probevar "" --lib "$tmp/l/libvfiocompat.so" --check
expect probevar '^ok +library: .*/l/libvfiocompat\.so \([0-9]+\.[0-9]+\.[0-9]+; preloads\)$'
reject probevar '^warn +probe:'
printf 'not an ELF file\n' >"$tmp/l/libbroken.so"
doctor broken "" --lib "$tmp/l/libbroken.so" --check
expect_rc broken 1
expect broken '^FAIL +library: .*/libbroken\.so does not preload: .*'
doctor disabled "" --lib "$lib" --disable --check
expect disabled '^warn +library: VFIOCOMPAT_DISABLE is set'
doctor badmem "" --lib "$lib" --check --mem lots
expect_rc badmem 2
expect badmem '^vfiocompat-run: --mem lots: give a size such as 4G'

# Where the wrapper finds the library (and the doctor its probe) by itself: a copy of the
# scripts in a made-up source checkout or install, with the library and probe in each layout.
section "library found by the wrapper"
libver=$(LD_PRELOAD=$lib "$probe" library | sed -n 's/^version=//p')
doctor version "" --version
expect version "^vfiocompat-run $(printf '%s' "$libver" | sed 's/\./\\./g')\$"
# layout NAME WRAPPER-DIR LIB-DIR PROBE-DIR [VAR=VALUE...]: --check and a run find LIB-DIR's library
layout() {
	name=$1 wdir=$2 ldir=$3 pdir=$4
	shift 4
	mkdir -p "$wdir" "$ldir" "$pdir"
	cp "${wrapper%/*}/vfiocompat-run" "${wrapper%/*}/vfiocompat-doctor" "$wdir/"
	cp "$lib" "$ldir/"
	cp "$probe" "$pdir/"
	env "$@" VFIOCOMPAT_CHECK_ROOT= "$wdir/vfiocompat-run" --check >"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
	sed 's/^/   | /' "$tmp/$name.out"
	check_format "$name"
	expect "$name" "^ok +library: $ldir/libvfiocompat\.so \(${libver}; preloads\)$"
	reject "$name" '^warn +probe:'
	n=$(env "$@" "$wdir/vfiocompat-run" -- grep -c "$ldir/libvfiocompat.so" /proc/self/maps)
	[ "${n:-0}" -ge 1 ] || bad "$name: the program does not have $ldir/libvfiocompat.so mapped"
	rm -rf "$wdir" "$ldir" "$pdir"
}
src=$tmp/src
layout cmake "$src/scripts" "$src/build/shim" "$src/build/tools"           # cmake -B build, scripts/demo
layout scripts_test "$src/scripts" "$src/build-test/shim" "$src/build-test/tools" # scripts/test
layout build_dir "$src/scripts" "$tmp/elsewhere/shim" "$tmp/elsewhere/tools" BUILD_DIR="$tmp/elsewhere"
layout installed "$tmp/inst/bin" "$tmp/inst/lib/x86_64-linux-gnu/vfiocompat" "$tmp/inst/lib/x86_64-linux-gnu/vfiocompat"

# The walk itself (vfiocompat-probe host): what the doctor's group lines are made of.
walk() { # walk NAME ROOT [RELEASE]
	name=$1
	shift
	"$probe" host "$@" >"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
}

# -- made-up hosts ----------------------------------------------------------------
# fake probe: FAKE_PROBE_DIR/<subcommand>-<basename of the node> holds the answer
cat >"$tmp/probe" <<'EOF'
#!/bin/sh
case $1 in
library) echo version=0.0.0-fake ;;
*) cat "$FAKE_PROBE_DIR/$1-${2##*/}" 2>/dev/null || echo open=ENOENT ;;
esac
EOF
chmod 755 "$tmp/probe"
export VFIOCOMPAT_PROBE="$tmp/probe"

# device ROOT GROUP BDF DRIVER [VENDOR DEVICE]
device() {
	d=$1/sys/kernel/iommu_groups/$2/devices/$3
	mkdir -p "$d"
	if [ "$4" != none ]; then
		mkdir -p "$1/sys/bus/pci/drivers/$4"
		ln -s "$1/sys/bus/pci/drivers/$4" "$d/driver"
	fi
	echo "0x${5:-8086}" >"$d/vendor"
	echo "0x${6:-10fb}" >"$d/device"
}
# answer ROOT WHAT NODE LINES...
answer() {
	f=$1/probe/$2-$3
	shift 3
	mkdir -p "${f%/*}"
	printf '%s\n' "$@" >"$f"
}

section "kernel 6.1"
r=$tmp/k61
mkdir -p "$r/boot" "$r/sys/kernel/iommu_groups" "$r/dev/vfio" "$r/sys/module/vfio"
printf '%s\n' '# CONFIG_IOMMUFD is not set' 'CONFIG_VFIO=m' 'CONFIG_VFIO_CONTAINER=y' >"$r/boot/config-6.1.0-18-amd64"
: >"$r/dev/vfio/vfio"
answer "$r" container vfio open=OK api=0 kind=type1
device "$r" 12 0000:03:00.0 vfio-pci
: >"$r/dev/vfio/12"
answer "$r" group 12 open=OK viable=1 join=iommufd-ENOENT
FAKE_PROBE_DIR=$r/probe VFIOCOMPAT_CHECK_KERNEL=6.1.0-18-amd64 doctor k61 "$r" --lib "$lib" --check
check_format k61
expect_rc k61 1
expect k61 '^FAIL +kernel: 6\.1\.0-18-amd64 is older than 6\.2: no iommufd'
expect k61 '^FAIL +/dev/iommu: missing: this kernel is built without CONFIG_IOMMUFD \(/boot/config-6\.1\.0-18-amd64\)'
expect k61 "^ok +/dev/vfio/vfio: the kernel's type1 container"
expect k61 '^skip +group join: not tried: /dev/iommu does not open \(ENOENT\)$'
expect k61 '^ok +group 12: 0000:03:00\.0 \[8086:10fb\] vfio-pci; /dev/vfio/12 opens, viable, joins|^FAIL +group 12: '
expect k61 '^result: not ready \(kernel, /dev/iommu'

section "iommufd is a module, not loaded"
r=$tmp/mod
mkdir -p "$r/boot" "$r/sys/kernel/iommu_groups"
printf '%s\n' 'CONFIG_IOMMUFD=m' 'CONFIG_VFIO=m' >"$r/boot/config-6.8.0-1-amd64"
FAKE_PROBE_DIR=$r/probe VFIOCOMPAT_CHECK_KERNEL=6.8.0-1-amd64 doctor mod "$r" --lib "$lib" --check
expect_rc mod 1
expect mod '^ok +kernel: 6\.8\.0-1-amd64 \(6\.2\+: iommufd.*6\.6\+: VFIO cdevs; file-backed IOAS maps need 6\.13'
expect mod '^FAIL +/dev/iommu: missing: iommufd is a module \(CONFIG_IOMMUFD=m\) but not loaded: modprobe iommufd$'
expect mod '^FAIL +vfio: not loaded'
expect mod '^FAIL +groups: no IOMMU groups: no IOMMU is active'

section "cdev-only kernel (no CONFIG_VFIO_GROUP)"
r=$tmp/cdev
mkdir -p "$r/boot" "$r/dev/vfio/devices" "$r/sys/module/iommufd" "$r/sys/module/vfio"
printf '%s\n' 'CONFIG_IOMMUFD=y' 'CONFIG_VFIO=y' '# CONFIG_VFIO_GROUP is not set' 'CONFIG_VFIO_DEVICE_CDEV=y' >"$r/boot/config-6.10.0"
: >"$r/dev/iommu"
: >"$r/dev/vfio/devices/vfio0"
answer "$r" iommufd iommu open=OK rlimit_mode=OK ioas=OK
device "$r" 7 0000:01:00.0 vfio-pci 8086 1521
mkdir -p "$r/sys/kernel/iommu_groups/7/devices/0000:01:00.0/vfio-dev/vfio0"
# a second group bound to vfio-pci whose device has no cdev: nothing to serve it with
device "$r" 8 0000:02:00.0 vfio-pci 8086 1521
FAKE_PROBE_DIR=$r/probe VFIOCOMPAT_CHECK_KERNEL=6.10.0 doctor cdev "$r" --lib "$lib" --check
check_format cdev
expect_rc cdev 0
expect cdev '^ok +/dev/iommu: opens read-write as [^ ]+ and iommufd answers'
expect cdev '^info +/dev/vfio/vfio: absent .*vfiocompat serves that path itself'
expect cdev '^info +cdevs: /dev/vfio/devices: vfio0 '
expect cdev '^ok +group 7: 0000:01:00\.0 \[8086:1521\] vfio-pci; no /dev/vfio/7 on this kernel: vfiocompat serves it over /dev/vfio/devices/vfio0 \(rw for [^ ]+\)$'
expect cdev '^warn +group 8: 0000:02:00\.0 \[8086:1521\] vfio-pci; no /dev/vfio/8 on this kernel: vfiocompat serves it over no cdev$'
expect cdev '^ok +group-less kernel: groups served by vfiocompat '
expect cdev '^ok +accounting: per process, as type1'
expect cdev '^result: ready: .*\(usable groups: 7\)$'

section "a ready host, with the kernel's compat container and problem groups"
r=$tmp/ready
mkdir -p "$r/dev/vfio/devices" "$r/sys/module/iommufd/holders/vfio" "$r/sys/module/vfio"
: >"$r/dev/iommu"
: >"$r/dev/vfio/vfio"
answer "$r" iommufd iommu open=OK rlimit_mode=EPERM ioas=OK
answer "$r" container vfio open=OK api=0 kind=iommufd
device "$r" 0 0000:00:00.0 none 8086 29c0
device "$r" 1 0000:00:03.0 vfio-pci 1234 11e8
device "$r" 2 0000:00:04.0 vfio-pci 8086 10d3
device "$r" 3 0000:00:05.0 vfio-pci
device "$r" 3 0000:00:05.1 ixgbe
device "$r" 4 0000:00:06.0 vfio-pci
device "$r" 5 0000:00:07.0 vfio-pci
device "$r" 6 0000:00:08.0 virtio-pci 1af4 1000
for g in 1 2 3 4 5; do : >"$r/dev/vfio/$g"; done
answer "$r" group 1 open=OK viable=1 join=OK
answer "$r" group 2 open=EBUSY
answer "$r" group 4 open=EACCES
answer "$r" group 5 open=OK viable=0 join=OK
walk walk "$r" 6.1.0-18-amd64
expect_rc walk 0
expect walk '^kernel=6\.1\.0-18-amd64$'
expect walk '^kernel\.level=6001$'
expect walk '^kernel\.iommufd=0$'
expect walk '^iommu\.node=present$'
expect walk '^iommufd\.holds_vfio=1$'
expect walk '^container\.node=present$'
expect walk '^groups=7$'
reject walk '^[^=]*$'
# one record per group, in number order; group 0 is not VFIO's, group 3 has a blocker
[ "$(sed -n 's/^group=//p' "$tmp/walk.out" | tr '\n' ' ')" = "0 1 2 3 4 5 6 " ] ||
	bad "walk: groups are not 0..6 in order: $(sed -n 's/^group=//p' "$tmp/walk.out" | tr '\n' ' ')"
grep -A 3 '^group=3$' "$tmp/walk.out" | grep -qx 'group.blockers=0000:00:05.1 (ixgbe)' ||
	bad "walk: group 3's blocker is not 0000:00:05.1 (ixgbe)"
grep -A 4 '^group=1$' "$tmp/walk.out" | grep -qx 'group.path=/dev/vfio/1' || bad "walk: group 1's node"
grep -A 4 '^group=6$' "$tmp/walk.out" | grep -qx 'group.vfio=0' || bad "walk: group 6 (virtio-pci) is not VFIO's"
walk noversion "$r"
expect_rc noversion 0
expect noversion "^kernel=$(uname -r | sed 's/\./\\./g')\$"
"$probe" host >/dev/null 2>&1
[ $? = 2 ] || bad "vfiocompat-probe host without ROOT: not a usage error"

FAKE_PROBE_DIR=$r/probe doctor ready "$r" --lib "$lib" --check
check_format ready
expect_rc ready 0
expect ready "^info +/dev/vfio/vfio: already iommufd's compat container .*CONFIG_IOMMUFD_VFIO_CONTAINER"
expect ready '^ok +group 1: 0000:00:03\.0 \[1234:11e8\] vfio-pci; /dev/vfio/1 opens, viable, joins an iommufd$'
expect ready '^warn +group 2: .* is open in another process'
expect ready '^warn +group 3: .*not viable.*: 0000:00:05\.1 \(ixgbe\)$'
expect ready '^warn +group 4: .*/dev/vfio/4: permission denied for '
expect ready '^warn +group 5: .*the kernel says not viable'
expect ready '^info +groups: 2 more IOMMU groups have no device bound to a VFIO driver \(0: 0000:00:00\.0 \[8086:29c0\] none; 6: 0000:00:08\.0 \[1af4:1000\] virtio-pci\)$'
expect ready '^ok +group join: group 1 joined an iommufd and left again'
expect ready '^info +accounting: per user: without CAP_SYS_RESOURCE'
expect ready '^result: ready: a legacy VFIO program can run here under vfiocompat-run \(usable groups: 1\)$'

section "the same groups, none usable"
answer "$r" group 1 open=OK viable=1 join=EBADFD
FAKE_PROBE_DIR=$r/probe doctor nojoin "$r" --lib "$lib" --check
expect_rc nojoin 1
expect nojoin '^FAIL +group 1: .*cannot join an iommufd \(EBADFD\)$'
expect nojoin '^FAIL +group 4: '
expect nojoin '^FAIL +group join: group 1 refuses a /dev/iommu fd \(EBADFD\): vfio was built without iommufd support'
expect nojoin '^result: not ready \(group 1, group 3, group 4, group 5, group join\)'

section "memlock, as an unprivileged user"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	answer "$r" group 1 open=OK viable=1 join=OK
	for d in "$tmp" "$tmp/ready" "$lib"; do [ -r "$d" ] || note "$d is not readable by others"; done
	FAKE_PROBE_DIR=$r/probe doctor_as_nobody mem "$r" --lib "$lib" --check --mem 64G
	expect_rc mem 1
	expect mem '^FAIL +memlock: RLIMIT_MEMLOCK [0-9]+ [KMG]iB < 64 GiB needed \(--mem 64G\): .*raise it'
	FAKE_PROBE_DIR=$r/probe doctor_as_nobody nomem "$r" --lib "$lib" --check
	expect nomem '^info +memlock: RLIMIT_MEMLOCK [0-9]+ [KMG]iB without CAP_IPC_LOCK: '
	expect_rc nomem 0
	mkdir -p "$r/sys/kernel/mm/hugepages/hugepages-1048576kB"
	echo 128 >"$r/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
	FAKE_PROBE_DIR=$r/probe doctor_as_nobody huge "$r" --lib "$lib" --check
	expect huge '^warn +memlock: RLIMIT_MEMLOCK [0-9]+ [KMG]iB < 128 GiB needed \(all reserved hugepages, as DPDK maps them\)'
	walk hugewalk "$r" ""
	expect hugewalk '^hugepages\.kib=134217728$'
	expect_rc huge 0
else
	note "not root or no setpriv: the unprivileged memlock cases are not run"
fi
finish
