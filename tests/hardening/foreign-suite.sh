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
run() { # name, env assignments...
	# one line per test case with its outcome, in a stable order, from the suite's
	# own JUnit report (the verbose text interleaves the output of threaded tests)
	name=$1
	shift
	# shellcheck disable=SC2086
	(cd "$out" && env "$@" "$py" -m test --junit-xml "$out/$name.xml" $match $tests \
		>"$out/$name.log" 2>&1) || true
	"$py" - "$out/$name.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError) as e:
    sys.exit("foreign-suite: no JUnit report: %s" % e)
rows = []
for tc in root.iter("testcase"):
    kinds = [c.tag for c in tc if c.tag in ("skipped", "failure", "error")]
    rows.append("%s %s" % (tc.get("name"), kinds[0] if kinds else "ok"))
print("\n".join(sorted(rows)))
PY
}
match=
run plain VFIOCOMPAT_FOREIGN=plain >"$out/plain"
run shim LD_PRELOAD="$lib" >"$out/shim"
n=$(wc -l <"$out/plain")
if [ "$n" -lt 1000 ]; then
	echo "foreign-suite: only $n test results: the suite did not run" >&2
	exit 1
fi
if ! diff -q "$out/plain" "$out/shim" >/dev/null; then
	# A few of these cases are timing-sensitive (thread shutdown, subprocess
	# timeouts) and fail now and then on a loaded machine, with or without the
	# shim. The cases that differ run once more both ways; they must agree then.
	diff -u "$out/plain" "$out/shim" || true
	ids=$(diff "$out/plain" "$out/shim" | sed -n 's/^[<>] \([^ ]*\) .*/\1/p' | sort -u)
	tests=$(echo "$ids" | cut -d. -f2 | sort -u | tr '\n' ' ')
	match=$(for i in $ids; do printf -- '-m %s ' "$i"; done)
	echo "foreign-suite: $(echo "$ids" | wc -l) case(s) differ; running them again both ways"
	run plain2 VFIOCOMPAT_FOREIGN=plain >"$out/plain2"
	run shim2 LD_PRELOAD="$lib" >"$out/shim2"
	if [ "$(wc -l <"$out/plain2")" != "$(echo "$ids" | wc -l)" ] ||
		! diff -u "$out/plain2" "$out/shim2"; then
		echo "foreign-suite: results differ under the shim (again on the second run)"
		exit 1
	fi
	echo "foreign-suite: they agree on the second run (timing-sensitive under load):"
	sed 's/^/   /' "$out/shim2"
fi
echo "foreign-suite: $n CPython test cases, identical results with and without the shim" \
	"($(grep -c ' ok$' "$out/plain") ok, $(grep -c ' skipped$' "$out/plain") skipped," \
	"$(grep -c -E ' (failure|error)$' "$out/plain") failing both ways)"
