#!/bin/sh
# SPDX-License-Identifier: MIT
# In the test guest (tests/vm/vm-run): the lifecycle program on type1 (the
# oracle), then the same program under the shim.
#   guest-lifecycle.sh LIFECYCLE LIB
set -eu
prog=$1 lib=$2
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}"
echo '== type1'
"$prog" "$VM_EDU_GROUP"
echo '== vfiocompat'
LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP"
