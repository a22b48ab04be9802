#!/bin/sh
# SPDX-License-Identifier: MIT
# The package installed, tested, removed and purged in a throw-away Debian root (from the
# cached mmdebstrap tarball, in a private mount namespace with this machine's /dev, /proc
# and /sys): in-root.sh there. debian/tests/legacy-program must skip on a host without
# /dev/iommu (this project's build host), and pass in the test guest (guest.sh).
#   chroot.sh OUT-DIR LEGACY [TARBALL]    OUT-DIR/src from deb.sh; LEGACY: pass, skip,
#                                         or auto (skip without /dev/iommu, else either)
set -u
out=$1 legacy=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/package/lib.sh
. "$here/lib.sh"
[ "$legacy" != auto ] || [ -e /dev/iommu ] || legacy=skip
[ "$(id -u)" = 0 ] || { echo "FAILED: the chroot test needs root (chroot, mount)"; exit 1; }
if [ $# -ge 3 ]; then tar=$3; else tar=$(root_tarball) || { echo "FAILED: no root tarball"; exit 1; }; fi
set -- "$out"/src/vfiocompat_*_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || { echo "FAILED: expected one vfiocompat .deb in $out/src, found: $*"; exit 1; }
deb=$1
tree=$(ls -d "$out"/src/vfiocompat-*/)
r=${TMPDIR:-/tmp}/vfiocompat-root.$$
trap 'rm -rf "$r"' EXIT
echo "== a throw-away root from $tar in $r"
make_root "$tar" "$r" || { echo "FAILED: unpacking $tar"; exit 1; }
mkdir -p "$r/srv/vfiocompat-test/tests"
cp "$deb" "$r/srv/vfiocompat-test/"
cp "$tree/debian/tests/"* "$r/srv/vfiocompat-test/tests/"
cp "$here/in-root.sh" "$r/srv/vfiocompat-test/"
in_root "$r" chroot "$r" sh /srv/vfiocompat-test/in-root.sh /srv/vfiocompat-test "$legacy"
