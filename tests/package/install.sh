#!/bin/sh
# SPDX-License-Identifier: MIT
# `cmake --install` to another prefix (DESTDIR and /opt/vfiocompat): the installed wrapper
# finds its own library there, also through a symlink, and says the project's version.
#   install.sh BUILD-DIR OUT-DIR
set -u
build=$1 out=$2
# shellcheck source=tests/package/lib.sh
. "$(dirname "$0")/lib.sh"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
rm -rf "$out/prefix"
DESTDIR=$out/prefix cmake --install "$build" --prefix /opt/vfiocompat >"$out/install.log" 2>&1 ||
	{ cat "$out/install.log"; echo "FAILED: cmake --install"; exit 1; }
top=$out/prefix/opt/vfiocompat
run=$top/bin/vfiocompat-run
n=$("$run" -- grep -c "$top/lib/.*vfiocompat/libvfiocompat.so" /proc/self/maps)
[ "${n:-0}" -ge 1 ] && ok "an install under /opt/vfiocompat finds its own library" || bad "an install under /opt/vfiocompat does not find its library"
ln -sf "$run" "$out/vfiocompat-run-link"
n=$("$out/vfiocompat-run-link" -- grep -c "$top/lib/.*vfiocompat/libvfiocompat.so" /proc/self/maps)
[ "${n:-0}" -ge 1 ] && ok "a symlink to the wrapper finds the library" || bad "a symlink to the wrapper does not find the library"
"$run" --check >"$out/check.out" 2>&1
grep -Eq "^ok +library: $top/lib/.*vfiocompat/libvfiocompat\.so \($version; preloads\)$" "$out/check.out" &&
	ok "the installed doctor uses the installed library" || bad "the installed doctor: $(head -n 1 "$out/check.out")"
! grep -q '^warn +probe:' "$out/check.out" || bad "the installed doctor does not find the installed probe"
got=$("$run" --version)
[ "$got" = "vfiocompat-run $version" ] && ok "--version: $got" || bad "--version says '$got', not vfiocompat-run $version"
"$run" --help | grep -q -- '--json' || bad "--help does not show --json"
for f in share/man/man1/vfiocompat-run.1.gz share/man/man7/vfiocompat.7.gz share/doc/vfiocompat/copyright include/vfiocompat.h; do
	[ -f "$top/$f" ] || bad "cmake --install did not install $f"
done
finish
