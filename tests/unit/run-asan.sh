#!/bin/sh
# The unit tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer.
#   run-asan.sh SRC_DIR BUILD_DIR
set -eu
src=$1
bin=$2/asan
cmake -S "$src" -B "$bin" -DVFIOCOMPAT_SANITIZE=address -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$bin" -j"$(nproc)" --target unit_tests >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	CK_FORK=no "$bin/tests/unit_tests"
