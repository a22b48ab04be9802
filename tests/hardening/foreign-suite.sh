#!/bin/sh
# Transparency on a suite nobody here wrote: CPython's own tests of the os,
# posix, fcntl, ioctl, pty, file and subprocess modules (Debian's
# libpython3.11-testsuite), which open, ioctl, dup and close heavily. Run once
# without and once with the shim preloaded: every test's result must be the
# same.
#   foreign-suite.sh LIB
set -eu
lib=$1
py=/usr/bin/python3
tests="test_os test_posix test_fcntl test_ioctl test_pty test_openpty test_fileio
 test_io test_tempfile test_shutil test_select test_file test_subprocess"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! "$py" -c 'import test.libregrtest' 2>/dev/null; then
	echo "foreign-suite: $py has no test package (install libpython3.11-testsuite)" >&2
	exit 1
fi
run() {
	# one line per test case with its outcome, in a stable order
	# shellcheck disable=SC2086
	(cd "$out" && env "$@" "$py" -m test -v $tests 2>&1) |
		grep -E ' \.\.\. (ok|skipped.*|FAIL|ERROR|expected failure|unexpected success)$' |
		sed 's/skipped .*/skipped/' | sort
}
run VFIOCOMPAT_FOREIGN=plain >"$out/plain"
run LD_PRELOAD="$lib" >"$out/shim"
n=$(wc -l <"$out/plain")
if [ "$n" -lt 1000 ]; then
	echo "foreign-suite: only $n test results: the suite did not run" >&2
	exit 1
fi
if ! diff -u "$out/plain" "$out/shim"; then
	echo "foreign-suite: results differ under the shim"
	exit 1
fi
echo "foreign-suite: $n CPython test cases, identical results with and without the shim" \
	"($(grep -c ' ok$' "$out/plain") ok, $(grep -c 'skipped$' "$out/plain") skipped)"
