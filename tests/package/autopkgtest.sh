#!/bin/sh
# SPDX-License-Identifier: MIT
# The autopkgtest of debian/tests/control, run by the autopkgtest tool with its chroot
# virtualization: a throw-away Debian root (the cached mmdebstrap tarball) with this
# machine's /dev, /proc and /sys in a private mount namespace; the package is deb.sh's.
# doctor and preload-smoke must pass; legacy-program passes, or on a test bed without
# iommufd (this host) is skipped by its exit status 77.
#   autopkgtest.sh OUT-DIR
set -u
out=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/package/lib.sh
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "FAILED: the chroot test bed needs root (chroot, mount)"; exit 1; }
command -v autopkgtest >/dev/null || { echo "FAILED: autopkgtest not found (scripts/setup-deps installs it)"; exit 1; }
set -- "$out"/src/vfiocompat_*_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || { echo "FAILED: expected one vfiocompat .deb in $out/src, found: $*"; exit 1; }
deb=$1
tree=$(ls -d "$out"/src/vfiocompat-*/)
[ -f "$tree/debian/files" ] || { echo "FAILED: $tree is not a built tree (no debian/files)"; exit 1; }
tar=$(root_tarball) || { echo "FAILED: no root tarball"; exit 1; }
r=${TMPDIR:-/tmp}/vfiocompat-aptroot.$$
trap 'rm -rf "$r"' EXIT
make_root "$tar" "$r" || { echo "FAILED: unpacking $tar"; exit 1; }
rm -rf "$out/autopkgtest"

echo "== autopkgtest $(basename "$deb") $tree -- chroot $r"
in_root "$r" autopkgtest --output-dir "$out/autopkgtest" "$deb" "$tree" -- chroot "$r" >"$out/autopkgtest.log" 2>&1
rc=$?
grep -v '^\(Get\|Selecting\|Preparing\|Unpacking\|Setting up\):\?' "$out/autopkgtest.log" | grep -v 'Reading database'
echo "== autopkgtest exit status $rc; summary:"
cat "$out/autopkgtest/summary" 2>/dev/null || bad "no summary in $out/autopkgtest"
# 0: all passed; 2: one was skipped
case $rc in 0 | 2) ;; *) bad "autopkgtest exit status $rc" ;; esac
summary=$out/autopkgtest/summary
grep -Eq '^doctor +PASS$' "$summary" && ok "doctor PASS" || bad "doctor did not pass"
grep -Eq '^preload-smoke +PASS$' "$summary" && ok "preload-smoke PASS" || bad "preload-smoke did not pass"
if [ -e /dev/iommu ]; then
	grep -Eq '^legacy-program +(PASS|SKIP exit status 77)' "$summary" && ok "legacy-program: $(grep legacy-program "$summary")" ||
		bad "legacy-program: $(grep legacy-program "$summary")"
else
	grep -Eq '^legacy-program +SKIP exit status 77' "$summary" && ok "legacy-program skipped here (no /dev/iommu)" ||
		bad "legacy-program on a host without /dev/iommu: $(grep legacy-program "$summary")"
	grep -q 'skip: this test bed has no /dev/iommu' "$out/autopkgtest/legacy-program-stdout" 2>/dev/null ||
		bad "legacy-program did not say why it skipped"
fi
[ "$(grep -c . "$summary")" = 3 ] || bad "not three tests in the summary"
finish
