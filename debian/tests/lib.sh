# SPDX-License-Identifier: MIT
# Sourced by the tests here: the installed package's paths and a failure count.
nfail=0
bad() {
	echo "FAILED: $*"
	nfail=$((nfail + 1))
}
ok() { echo "ok: $*"; }
finish() {
	if [ "$nfail" -gt 0 ]; then
		echo "$nfail check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
version=$(dpkg-query -W -f '${Version}' vfiocompat) || { echo "FAILED: vfiocompat is not installed"; exit 1; }
lib=$(dpkg -L vfiocompat | grep '/vfiocompat/libvfiocompat\.so$')
[ -f "$lib" ] || { echo "FAILED: dpkg -L vfiocompat lists no libvfiocompat.so"; exit 1; }
run=$(command -v vfiocompat-run) || { echo "FAILED: vfiocompat-run is not on PATH"; exit 1; }
tmp=${AUTOPKGTEST_TMP:-$(mktemp -d)}
