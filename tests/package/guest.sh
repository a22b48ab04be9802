#!/bin/sh
# SPDX-License-Identifier: MIT
# The unpacked .deb (deb.sh leaves it in ROOT) in the test guest: the installed doctor must
# say ready, and a legacy container program (python3's fcntl.ioctl, nothing of ours) must
# map and unmap DMA on edu's group through the installed wrapper and library.
#   guest.sh ROOT
set -u
root=$1
run=$root/usr/bin/vfiocompat-run
nfail=0
bad() {
	echo "FAILED: $*"
	nfail=$((nfail + 1))
}
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}"

echo "== the installed doctor"
out=$("$run" --check 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" = 0 ] || bad "--check exit status $rc"
printf '%s\n' "$out" | grep -Eq "^ok +library: $root/usr/lib/[^/]+/vfiocompat/libvfiocompat\.so \(" ||
	bad "the installed doctor does not use the installed library"
printf '%s\n' "$out" | grep -Eq "^ok +group $VM_EDU_GROUP: .* vfio-pci; /dev/vfio/$VM_EDU_GROUP opens, viable, joins an iommufd$" ||
	bad "no ok line for edu's group"

echo "== a legacy container program through the installed wrapper"
"$run" --fallback never --log debug,fd -- python3 - "$VM_EDU_GROUP" <<'EOF' || bad "the legacy program failed"
import ctypes, fcntl, mmap, os, struct, sys
GET_API_VERSION, CHECK_EXTENSION, SET_IOMMU = 0x3b64, 0x3b65, 0x3b66
GROUP_SET_CONTAINER, MAP_DMA, UNMAP_DMA = 0x3b68, 0x3b71, 0x3b72
TYPE1v2 = 3
c = os.open("/dev/vfio/vfio", os.O_RDWR)
st = os.fstat(c)
print("container fd %d: rdev %d:%d, /proc/self/fd says %s" % (
    c, os.major(st.st_rdev), os.minor(st.st_rdev), os.readlink("/proc/self/fd/%d" % c)))
assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (10, 260), "not a /dev/iommu fd"
assert fcntl.ioctl(c, GET_API_VERSION, 0) == 0
assert fcntl.ioctl(c, CHECK_EXTENSION, TYPE1v2) == 1
g = os.open("/dev/vfio/" + sys.argv[1], os.O_RDWR)
fcntl.ioctl(g, GROUP_SET_CONTAINER, struct.pack("i", c))
fcntl.ioctl(c, SET_IOMMU, TYPE1v2)
buf = mmap.mmap(-1, 2 << 20)
vaddr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
fcntl.ioctl(c, MAP_DMA, struct.pack("IIQQQ", 32, 3, vaddr, 1 << 20, 2 << 20))
unmap = bytearray(struct.pack("IIQQ", 24, 0, 1 << 20, 2 << 20))
fcntl.ioctl(c, UNMAP_DMA, unmap)
size = struct.unpack("IIQQ", unmap)[3]
print("mapped and unmapped %#x bytes at IOVA 0x100000" % size)
assert size == 2 << 20
EOF

if [ "$nfail" -gt 0 ]; then
	echo "$nfail check(s) failed"
	exit 1
fi
echo "all checks passed"
