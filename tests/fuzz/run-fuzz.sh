#!/bin/sh
# Build a libFuzzer target with clang (ASan+UBSan) and run it for a while:
# fuzz_container (the default) from the conformance-derived seeds, any
# crash, leak or record/kernel mismatch fails; fuzz_record (the shared
# record damaged by another process) from an empty corpus, any crash, hang
# or sanitizer report fails.
#   run-fuzz.sh SRC_DIR BUILD_DIR SECONDS [TARGET]
set -eu
src=$1
secs=${3:-60}
target=${4:-fuzz_container}
bin=$2/fuzz
# a fuzz run that cannot build is a failure, not a skip
command -v clang >/dev/null || {
	echo 'clang not found: install it (scripts/setup-deps)'
	exit 1
}
CC=clang cmake -S "$src" -B "$bin" -DVFIOCOMPAT_FUZZ=ON >/dev/null
cmake --build "$bin" -j"$(nproc)" --target "$target" >/dev/null
corpus=$bin/corpus-$target
arts=$bin/artifacts-$target
# findings of an earlier run in this build tree are replayed, then cleared:
# an old crash that still crashes fails here, a fixed one does not linger
mkdir -p "$corpus" "$arts"
for f in "$arts"/*; do
	[ -e "$f" ] || continue
	"$bin/tests/fuzz/$target" "$f" > /dev/null 2>&1 || {
		echo "run-fuzz: earlier finding $f still fails" >&2
		exit 1
	}
	rm -f "$f"
done
[ "$target" != fuzz_container ] || python3 "$src/tests/fuzz/seeds.py" "$corpus"
"$bin/tests/fuzz/$target" "$corpus" -max_total_time="$secs" -timeout=10 \
	-artifact_prefix="$arts/" -print_final_stats=1 2>&1 |
	grep -E '^(stat::|INFO: seed|==|SUMMARY|Done)|ERROR' || true
# libFuzzer leaves an artifact for each finding
if [ -n "$(ls -A "$arts")" ]; then
	echo "run-fuzz: $target: findings in $arts" >&2
	exit 1
fi
echo "run-fuzz: $target: no findings in ${secs}s ($(ls "$corpus" | wc -l) corpus inputs)"
