#!/bin/sh
# SPDX-License-Identifier: MIT
# In the test guest (tests/vm/vm-run): the signal handler program on type1
# (the oracle), then each case under the shim. For the cases whose signals
# land inside MAP/UNMAP, the shim's report must show handlers really were
# deferred (otherwise the run proved nothing about them).
#   guest-sighandler.sh SIGHANDLER LIB
set -eu
prog=$1 lib=$2
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}"
echo '== type1'
"$prog" "$VM_EDU_GROUP"
for c in actions same-thread other-thread rt-order; do
	echo "== vfiocompat: $c"
	rm -f /tmp/sig-report.json
	VFIOCOMPAT_REPORT=/tmp/sig-report.json LD_PRELOAD=$lib \
		"$prog" "$VM_EDU_GROUP" "$c"
	n=$(sed -n 's/.*"signals_deferred":\([0-9]*\).*/\1/p' /tmp/sig-report.json)
	echo "$c: signals deferred by the shim: ${n:-none reported}"
	case $c in
	same-thread | rt-order)
		[ "${n:-0}" -gt 0 ] || { echo "FAIL: $c: no signal landed inside the shim"; exit 1; }
		;;
	esac
done
