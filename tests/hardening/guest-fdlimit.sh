#!/bin/sh
# SPDX-License-Identifier: MIT
# In the test guest: the fd-limit program on type1 (the oracle) and under the
# shim; the answers must be the same line for line. With the soft limit equal
# to the hard one the shim has no room for its own attach fd (fdroom.h): the
# listed difference is SET_IOMMU's EMFILE (and what follows from it) with 2
# or 3 fds free; everything else must still be type1's.
#   guest-fdlimit.sh FDLIMIT LIB
set -eu
prog=$1 lib=$2
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}" "${VM_EDU_BDF:?}"
d=$(mktemp -d)
"$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" >"$d/type1"
LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" >"$d/shim" 2>"$d/log"
cat "$d/shim"
if ! diff -u "$d/type1" "$d/shim"; then
	echo 'FAIL: at the fd limit the shim answers unlike type1'
	exit 1
fi
if [ -s "$d/log" ]; then
	echo 'FAIL: the shim logged at the fd limit:'; cat "$d/log"
	exit 1
fi
echo 'fdlimit: the same answers as type1 with 0-4 fds free'
"$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" hard >"$d/type1-hard"
LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" hard >"$d/shim-hard" 2>/dev/null
diff -u "$d/type1-hard" "$d/shim-hard" || true
grep -v '^free=[23] ' "$d/type1-hard" >"$d/a"
grep -v '^free=[23] ' "$d/shim-hard" >"$d/b"
diff -u "$d/a" "$d/b" || { echo 'FAIL: soft = hard limit: a difference beyond the listed one'; exit 1; }
for n in 2 3; do
	grep -q "^free=$n SET_IOMMU *EMFILE" "$d/shim-hard" ||
		{ echo "FAIL: soft = hard, $n free: not the listed EMFILE"; exit 1; }
done
echo 'fdlimit: soft = hard limit: only the listed SET_IOMMU EMFILE with 2-3 fds free'
