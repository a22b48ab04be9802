#!/bin/sh
# SPDX-License-Identifier: MIT
# In the test guest (tests/vm/vm-run): rawsyscall on type1 (the oracle), under
# the shim in trap mode (must pass), and under the shim without it (must
# fail: raw requests then reach the kernel's compat answers).
#   guest-trap.sh RAWSYSCALL LIB
set -eu
prog=$1 lib=$2
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}"
echo '== type1'
"$prog" "$VM_EDU_GROUP"
echo '== vfiocompat, VFIOCOMPAT_TRAP=1'
VFIOCOMPAT_TRAP=1 LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP"
echo '== vfiocompat without trap (must fail)'
if LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP"; then
	echo 'passed without trap mode: the test proves nothing'
	exit 1
fi
