#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian package from debian/: the source tree as git sees it is copied to
# OUT/src/vfiocompat-VERSION, `dpkg-source -b` makes the source package and
# `dpkg-buildpackage -us -uc -b` the binary ones (vfiocompat, vfiocompat-dbgsym);
# lintian --pedantic on both must show no tag that is not overridden; then the
# control fields, the versions, the files (stripped ELF files, their debug files in the
# -dbgsym), Depends against what the files need, the man pages and the header.
# OUT/src is kept for the chroot, autopkgtest and guest tests.
#   deb.sh SOURCE-DIR BUILD-DIR OUT-DIR
set -u
src=$1 build=$2 out=$3
# shellcheck source=tests/package/lib.sh
. "$(dirname "$0")/lib.sh"

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
tree=$out/src/vfiocompat-$version
rm -rf "$out/src" "$out/root"
mkdir -p "$tree"

echo "== the source tree (tracked and new files) in $tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z -co --exclude-standard |
		xargs -0 sh -c 'for f; do [ ! -e "$f" ] || printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -C "$tree" -xf - || { echo "FAILED: copying the source tree"; exit 1; }
else
	(cd "$src" && tar --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - .) |
		tar -C "$tree" -xf - || { echo "FAILED: copying the source tree"; exit 1; }
fi
clv=$(cd "$tree" && dpkg-parsechangelog -S Version)
[ "$clv" = "$version" ] && ok "debian/changelog's version is the project's ($version)" ||
	bad "debian/changelog says $clv, CMakeLists.txt $version"
hv=$(sed -n 's/^#define VFIOCOMPAT_VERSION_STRING "\(.*\)"$/\1/p' "$tree/include/vfiocompat.h")
[ "$hv" = "$version" ] && ok "vfiocompat.h's version is the project's" || bad "vfiocompat.h says $hv, CMakeLists.txt $version"

echo "== dpkg-source -b"
(cd "$out/src" && dpkg-source -b "vfiocompat-$version") >"$out/dpkg-source.log" 2>&1 ||
	{ cat "$out/dpkg-source.log"; echo "FAILED: dpkg-source -b"; exit 1; }
tail -n 2 "$out/dpkg-source.log"

echo "== dpkg-buildpackage -us -uc -b"
(cd "$tree" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) >"$out/dpkg-buildpackage.log" 2>&1 ||
	{ tail -n 30 "$out/dpkg-buildpackage.log"; echo "FAILED: dpkg-buildpackage (log: $out/dpkg-buildpackage.log)"; exit 1; }
grep "^dpkg-deb: building" "$out/dpkg-buildpackage.log"
deb=$out/src/vfiocompat_${version}_$arch.deb
dbg=$out/src/vfiocompat-dbgsym_${version}_$arch.deb
changes=$out/src/vfiocompat_${version}_$arch.changes
dsc=$out/src/vfiocompat_$version.dsc
got=$(cd "$out/src" && ls ./*.deb | sort | tr '\n' ' ')
[ "$got" = "./vfiocompat-dbgsym_${version}_$arch.deb ./vfiocompat_${version}_$arch.deb " ] &&
	ok "two binary packages: $got" || bad "binary packages: $got"
[ -f "$deb" ] && [ -f "$dbg" ] && [ -f "$changes" ] || { echo "FAILED: no package to check"; exit 1; }

echo "== lintian --pedantic --display-info --display-experimental --show-overrides"
lintian --pedantic --display-info --display-experimental --show-overrides \
	"$changes" "$dsc" >"$out/lintian.out" 2>"$out/lintian.err"
lrc=$?
cat "$out/lintian.out"
grep -v 'running with root privileges is not recommended' "$out/lintian.err" || true
[ "$lrc" = 0 ] || bad "lintian exit status $lrc"
for s in E W I P X O; do eval "n$s=$(grep -c "^$s: " "$out/lintian.out")"; done
# shellcheck disable=SC2154 # nE ... nO from the eval
echo "lintian: $nE errors, $nW warnings, $nI info, $nP pedantic, $nX experimental not overridden; $nO overridden"
[ "$nE$nW$nI$nP$nX" = 00000 ] && ok "lintian: every tag fixed or overridden" || bad "lintian tags not fixed or overridden"
# the overrides are seen: lintian went through the binary and the source package
grep -q '^O: vfiocompat: executable-in-usr-lib ' "$out/lintian.out" || bad "lintian did not report the binary package's overrides"
grep -q '^O: vfiocompat source: ' "$out/lintian.out" || bad "lintian did not report the source package's override"

echo "== control fields"
dpkg-deb -I "$deb"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = vfiocompat ] || bad "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] && ok "Version $version" || bad "Version is '$(field Version)', the project's is $version"
[ "$(field Architecture)" = "$arch" ] || bad "Architecture is '$(field Architecture)', not $arch"
maint=$(sed -n 's/^Maintainer: //p' "$tree/debian/control")
[ "$(field Maintainer)" = "$maint" ] || bad "Maintainer is '$(field Maintainer)'"
[ "$(dpkg-deb -f "$dbg" Package)" = vfiocompat-dbgsym ] || bad "the -dbgsym's Package is $(dpkg-deb -f "$dbg" Package)"
[ "$(dpkg-deb -f "$dbg" Depends)" = "vfiocompat (= $version)" ] || bad "the -dbgsym's Depends: $(dpkg-deb -f "$dbg" Depends)"
depends=$(field Depends)
case $depends in libc6*|*" libc6"*) ok "Depends: $depends" ;; *) bad "Depends has no libc6: $depends" ;; esac
# each dependency is satisfied here (a Debian 12 host): package installed, version high enough
for dep in $(printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//; s/ *(\(..\) */|\1|/; s/)$//; s/ //g'); do
	p=${dep%%|*}
	have=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null)
	case $dep in
	*"|"*) op=${dep#*|}; op=${op%%|*}; want=${dep##*|} ;;
	*) op='' want='' ;;
	esac
	if [ -z "$have" ]; then
		bad "Depends on $p, which is not installed here"
	elif [ -n "$op" ] && ! dpkg --compare-versions "$have" "$(echo "$op" | sed 's/>=/ge/; s/<=/le/; s/>>/gt/; s/<</lt/; s/^=$/eq/')" "$want"; then
		bad "Depends on $p $op $want; this host has $have"
	else
		ok "Depends on $p ${op:+$op $want }satisfied here ($have)"
	fi
done

echo "== files"
root=$out/root
dpkg-deb -x "$deb" "$root" || { echo "FAILED: dpkg-deb -x"; exit 1; }
pdir=usr/lib/$triplet/vfiocompat
for f in usr/bin/vfiocompat-run "$pdir/libvfiocompat.so" "$pdir/vfiocompat-probe" "$pdir/vfiocompat-doctor" \
	usr/include/vfiocompat.h usr/share/man/man1/vfiocompat-run.1.gz usr/share/man/man7/vfiocompat.7.gz \
	usr/share/doc/vfiocompat/copyright usr/share/doc/vfiocompat/changelog.gz; do
	[ -f "$root/$f" ] && ok "/$f" || bad "/$f is not in the package"
done
for f in usr/bin/vfiocompat-run "$pdir/vfiocompat-doctor" "$pdir/vfiocompat-probe"; do
	[ -x "$root/$f" ] || bad "/$f is not executable"
done
extra=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -v '/$' |
	grep -Ev "^\./usr/(bin/vfiocompat-run|lib/$triplet/vfiocompat/(libvfiocompat\.so|vfiocompat-probe|vfiocompat-doctor)|include/vfiocompat\.h|share/man/man[17]/vfiocompat(-run)?\.[17]\.gz|share/doc/vfiocompat/(copyright|changelog\.gz)|share/lintian/overrides/vfiocompat)$")
[ -z "$extra" ] && ok "nothing else in the package" || bad "unexpected files in the package: $extra"
cmp -s "$root/usr/share/doc/vfiocompat/copyright" "$tree/debian/copyright" || bad "the package's copyright is not debian/copyright"
gzip -dc "$root/usr/share/doc/vfiocompat/changelog.gz" | head -n 1 | grep -q "^vfiocompat ($version) " ||
	bad "the package's changelog does not start with $version"
grep -q "^installed_libdir=\.\./lib/$triplet/vfiocompat$" "$root/usr/bin/vfiocompat-run" ||
	bad "the installed wrapper does not carry installed_libdir=../lib/$triplet/vfiocompat"
grep -q "^installed_version=$version$" "$root/usr/bin/vfiocompat-run" ||
	bad "the installed wrapper does not carry installed_version=$version"

echo "== stripped ELF files, their debug files in the -dbgsym"
dbgroot=$out/dbgroot
rm -rf "$dbgroot"
dpkg-deb -x "$dbg" "$dbgroot" || bad "dpkg-deb -x of the -dbgsym"
for f in "$pdir/libvfiocompat.so" "$pdir/vfiocompat-probe"; do
	secs=$(readelf -SW "$root/$f" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p')
	if printf '%s\n' "$secs" | grep -Eq '^\.(symtab|debug_info)$'; then
		bad "/$f is not stripped (.symtab or .debug_info)"
	else
		ok "/$f is stripped"
	fi
	id=$(readelf -n "$root/$f" | sed -n 's/^ *Build ID: *//p')
	d=usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
	if [ -n "$id" ] && [ -f "$dbgroot/$d" ] && readelf -SW "$dbgroot/$d" 2>/dev/null | grep -q '\.debug_info'; then
		ok "/$f's debug info is in the -dbgsym (/$d)"
	else
		bad "/$f (build id '$id'): no /$d with .debug_info in the -dbgsym"
	fi
done

# every shared library the ELF files need comes from a package in Depends
for f in "$root/$pdir/"*; do
	[ "$(head -c 4 "$f")" = "$(printf '\177ELF')" ] || continue # the doctor is a shell script
	for so in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		p=$(dpkg -S "*/$so" 2>/dev/null | head -n 1 | cut -d: -f1)
		if [ -z "$p" ]; then
			bad "$(basename "$f") needs $so, which no installed package provides"
		elif printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' | grep -qx "$p"; then
			ok "$(basename "$f") needs $so: $p is in Depends"
		else
			bad "$(basename "$f") needs $so from $p, which is not in Depends ($depends)"
		fi
	done
done

echo "== man pages"
command -v groff >/dev/null || bad "groff not found (Debian package groff-base)"
for m in man1/vfiocompat-run.1 man7/vfiocompat.7; do
	warn=$(gzip -dc "$root/usr/share/man/$m.gz" | groff -man -Tutf8 -ww -z 2>&1)
	[ -z "$warn" ] && ok "$m renders without warnings" || bad "$m: groff says: $warn"
	lines=$(gzip -dc "$root/usr/share/man/$m.gz" | groff -man -Tutf8 2>/dev/null | wc -l)
	[ "$lines" -gt 20 ] || bad "$m renders to only $lines lines"
done
if command -v man >/dev/null; then
	MANPATH=$root/usr/share/man man -P cat vfiocompat-run 2>/dev/null | grep -q -- '--json' ||
		bad "man vfiocompat-run (MANPATH=$root/usr/share/man) does not show --json"
fi

echo "== the header"
if command -v cc >/dev/null; then
	printf '#include <vfiocompat.h>\nconst char *v = VFIOCOMPAT_VERSION_STRING;\n' |
		cc -x c -fsyntax-only -Wall -Werror -I"$root/usr/include" - && ok "vfiocompat.h compiles" || bad "vfiocompat.h does not compile"
fi
finish
