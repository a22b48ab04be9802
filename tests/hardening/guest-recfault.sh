#!/bin/sh
# SPDX-License-Identifier: MIT
# In the test guest (tests/vm/vm-run): the record-fault program on type1 (the
# oracle), then under the shim, as v2 and as v1; then maps until the record
# cannot grow, on a 16 KiB tmpfs over /dev/shm (type1 first: it maps all).
#   guest-recfault.sh RECFAULT LIB [ITERATIONS]
set -eu
prog=$1 lib=$2 n=${3:-40}
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}"
: "${VM_NIC_GROUP:?run me with tests/vm/vm-run}"
for t in v2 v1; do
	echo "== type1 $t"
	"$prog" "$VM_EDU_GROUP" "$VM_NIC_GROUP" $t "$n"
	echo "== vfiocompat $t"
	LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP" "$VM_NIC_GROUP" $t "$n"
done
echo '== type1, full record file'
"$prog" --fill "$VM_EDU_GROUP" 1000
echo '== vfiocompat, full record file (16 KiB tmpfs on /dev/shm)'
mount -t tmpfs -o size=16k,mode=1777 tmpfs /dev/shm
rc=0
LD_PRELOAD=$lib "$prog" --fill "$VM_EDU_GROUP" 1000 || rc=$?
umount /dev/shm
exit $rc
