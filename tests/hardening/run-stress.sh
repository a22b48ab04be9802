#!/bin/sh
# The race stress test on the real kernel, twice: with the normal build of
# the shim, and with a ThreadSanitizer build of the shim and of the program
# (any TSan report fails the test). STRESS_TSAN=0 runs only the first.
#   run-stress.sh SRC_DIR BUILD_DIR [SECONDS]
set -eu
src=$1
bin=$2
secs=${3:-10}
tsan=$bin/tsan
with_tsan=${STRESS_TSAN:-1}
# both runs, the boot and the set-up, with room to spare
vm_timeout=$((secs * 2 + 300))

libtsan=$(gcc -print-file-name=libtsan.so)
if [ "$with_tsan" = 1 ]; then
	echo "== building the ThreadSanitizer tree ($tsan)"
	cmake -S "$src" -B "$tsan" -DVFIOCOMPAT_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$tsan" -j"$(nproc)" --target vfiocompat stress >/dev/null
fi

# shellcheck disable=SC2016 # expanded in the guest
"$src/tests/vm/vm-run" --timeout "$vm_timeout" -- sh -c '
	set -e
	echo "== plain shim"
	LD_PRELOAD='"$bin"'/shim/libvfiocompat.so '"$bin"'/tests/hardening/stress "$VM_EDU_GROUP" '"$secs"'
	[ '"$with_tsan"' = 1 ] || exit 0
	echo "== ThreadSanitizer shim and program"
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0" \
	LD_PRELOAD='"$libtsan"':'"$tsan"'/shim/libvfiocompat.so '"$tsan"'/tests/hardening/stress "$VM_EDU_GROUP" '"$secs"'
'
