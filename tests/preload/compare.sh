#!/bin/sh
# Run PROG without and with the shim preloaded; the outputs must be identical.
#   compare.sh LIB PROG
set -eu
lib=$1
prog=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$prog" >"$out/plain" 2>&1
LD_PRELOAD="$lib" "$prog" >"$out/shim" 2>&1
if ! diff -u "$out/plain" "$out/shim"; then
	echo "FAIL: $prog behaves differently under the shim"
	exit 1
fi
echo "identical: $(wc -l <"$out/plain") lines of $(basename "$prog")"
