#!/bin/sh
# SPDX-License-Identifier: MIT
# The package in the test guest (tests/vm/vm-run): chroot.sh installs deb.sh's .deb into a
# throw-away Debian root there (the guest's /dev: iommufd, edu's and the e1000e's VFIO
# groups), runs debian/tests/* (legacy-program must pass: a legacy type1 program through
# the installed wrapper maps and unmaps DMA on a group the installed doctor finds usable),
# removes and purges it.
#   guest.sh OUT-DIR     (OUT-DIR/root-tarball names the root tarball: the package_root test)
set -u
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}"
exec sh "$(dirname "$0")/chroot.sh" "$1" pass "$(cat "$1/root-tarball")"
