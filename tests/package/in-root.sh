#!/bin/sh
# SPDX-License-Identifier: MIT
# Run as root inside a throw-away Debian root (chroot.sh): what piuparts checks, by hand.
# dpkg -i the package, the autopkgtest scripts (debian/tests) as autopkgtest runs them,
# dpkg -r, dpkg -P, and nothing of the package left under /usr, /etc or dpkg's info.
#   in-root.sh DIR LEGACY     DIR holds the .deb and tests/; LEGACY: pass, skip (77) or auto
set -u
dir=$1 legacy=$2
nfail=0
bad() {
	echo "FAILED: $*"
	nfail=$((nfail + 1))
}
ok() { echo "ok: $*"; }
snapshot() { find /usr /etc /var/lib/dpkg/info -xdev 2>/dev/null | sort; }

snapshot >"$dir/before"
echo "== dpkg -i"
if dpkg -i "$dir"/vfiocompat_*.deb; then
	st=$(dpkg-query -W -f '${Status}' vfiocompat)
	[ "$st" = "install ok installed" ] && ok "dpkg -i: $st" || bad "dpkg -i: status '$st'"
else
	bad "dpkg -i failed"
fi

for t in doctor preload-smoke legacy-program; do
	echo "== debian/tests/$t"
	AUTOPKGTEST_TMP=$(mktemp -d) "$dir/tests/$t"
	rc=$?
	case $t:$rc:$legacy in
	*:0:* ) [ "$t:$legacy" != legacy-program:skip ] && ok "$t passed" || bad "$t passed where it should skip" ;;
	legacy-program:77:skip | legacy-program:77:auto) ok "$t skipped (exit 77)" ;;
	*) bad "$t: exit status $rc" ;;
	esac
done

echo "== dpkg -r, dpkg -P"
dpkg -r vfiocompat || bad "dpkg -r failed"
[ ! -e /usr/bin/vfiocompat-run ] || bad "dpkg -r left /usr/bin/vfiocompat-run"
dpkg -P vfiocompat || bad "dpkg -P failed"
st=$(dpkg-query -W -f '${Status}' vfiocompat 2>/dev/null) || st=
case $st in "" | "unknown ok not-installed" | "purge ok not-installed") ok "dpkg -P: ${st:-no record}" ;; *) bad "after dpkg -P: status '$st'" ;; esac
snapshot >"$dir/after"
left=$(diff "$dir/before" "$dir/after")
[ -z "$left" ] && ok "nothing left under /usr, /etc, /var/lib/dpkg/info (as before dpkg -i)" ||
	bad "not as before dpkg -i: $left"

if [ "$nfail" -gt 0 ]; then
	echo "$nfail check(s) failed"
	exit 1
fi
echo "all checks passed"
