#!/bin/sh
# Build the libFuzzer target with clang (ASan+UBSan) and run it for a while
# from the conformance-derived seeds. Any crash, leak or record/kernel
# mismatch fails.
#   run-fuzz.sh SRC_DIR BUILD_DIR SECONDS
set -eu
src=$1
bin=$2/fuzz
secs=${3:-60}
# a fuzz run that cannot build is a failure, not a skip
command -v clang >/dev/null || {
	echo 'clang not found: install it (scripts/setup-deps)'
	exit 1
}
CC=clang cmake -S "$src" -B "$bin" -DVFIOCOMPAT_FUZZ=ON >/dev/null
cmake --build "$bin" -j"$(nproc)" --target fuzz_container >/dev/null
corpus=$bin/corpus
# findings of an earlier run in this build tree are replayed, then cleared:
# an old crash that still crashes fails here, a fixed one does not linger
mkdir -p "$corpus" "$bin/artifacts"
for f in "$bin"/artifacts/*; do
	[ -e "$f" ] || continue
	"$bin/tests/fuzz/fuzz_container" "$f" > /dev/null 2>&1 || {
		echo "run-fuzz: earlier finding $f still fails" >&2
		exit 1
	}
	rm -f "$f"
done
python3 "$src/tests/fuzz/seeds.py" "$corpus"
"$bin/tests/fuzz/fuzz_container" "$corpus" -max_total_time="$secs" \
	-artifact_prefix="$bin/artifacts/" -print_final_stats=1 2>&1 |
	grep -E '^(stat::|INFO: seed|==|SUMMARY|Done)|ERROR' || true
# libFuzzer leaves an artifact for each finding
if [ -n "$(ls -A "$bin/artifacts")" ]; then
	echo "run-fuzz: findings in $bin/artifacts" >&2
	exit 1
fi
echo "run-fuzz: no findings in ${secs}s"
