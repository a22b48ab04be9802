#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian package: `cpack -G DEB` in the build tree, its control fields and files,
# unpacked with dpkg -x into OUT/root (the host's dpkg database is never touched), and
# run from there: the doctor, preload smokes, the man pages, the header. Then
# `cmake --install` to another prefix and a symlinked wrapper. OUT/root is kept for
# the guest half (guest.sh, run by the package_deb_vm test).
#   deb.sh BUILD-DIR OUT-DIR
set -u
build=$1 out=$2
nfail=0
bad() {
	echo "FAILED: $*"
	nfail=$((nfail + 1))
}
ok() { echo "ok: $*"; }

rm -rf "$out/pkg" "$out/root" "$out/prefix"
mkdir -p "$out/pkg"
echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$out/pkg") || { echo "FAILED: cpack"; exit 1; }
set -- "$out"/pkg/*.deb
[ $# -eq 1 ] && [ -f "$1" ] || { echo "FAILED: expected one .deb in $out/pkg, found: $*"; exit 1; }
deb=$1
echo "$deb"
dpkg-deb -I "$deb"

echo "== control fields"
field() { dpkg-deb -f "$deb" "$1"; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
[ "$(field Package)" = vfiocompat ] || bad "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || bad "Version is '$(field Version)', the project's is $version"
[ "$(field Architecture)" = "$arch" ] || bad "Architecture is '$(field Architecture)', not $arch"
[ "$(field Maintainer)" = "vfiocompat developers" ] || bad "Maintainer is '$(field Maintainer)'"
depends=$(field Depends)
case $depends in libc6*|*" libc6"*) ok "Depends: $depends" ;; *) bad "Depends has no libc6: $depends" ;; esac
[ "$(basename "$deb")" = "vfiocompat_${version}_$arch.deb" ] || bad "file name $(basename "$deb")"

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
dpkg-deb -x "$deb" "$out/root" || { echo "FAILED: dpkg -x"; exit 1; }
root=$out/root
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null)
[ -n "$triplet" ] || triplet=$(cd "$root/usr/lib" && ls -d *-linux-gnu* | head -n 1)
for f in usr/bin/vfiocompat-run "usr/lib/$triplet/vfiocompat/libvfiocompat.so" \
	"usr/lib/$triplet/vfiocompat/vfiocompat-probe" "usr/lib/$triplet/vfiocompat/vfiocompat-doctor" \
	usr/include/vfiocompat.h \
	usr/share/man/man1/vfiocompat-run.1.gz usr/share/man/man7/vfiocompat.7.gz \
	usr/share/doc/vfiocompat/copyright; do
	[ -f "$root/$f" ] && ok "/$f" || bad "/$f is not in the package"
done
for f in usr/bin/vfiocompat-run "usr/lib/$triplet/vfiocompat/vfiocompat-doctor"; do
	[ -x "$root/$f" ] || bad "/$f is not executable"
done
extra=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -v '/$' |
	grep -Ev "^\./usr/(bin/vfiocompat-run|lib/$triplet/vfiocompat/(libvfiocompat\.so|vfiocompat-probe|vfiocompat-doctor)|include/vfiocompat\.h|share/man/man[17]/vfiocompat(-run)?\.[17]\.gz|share/doc/vfiocompat/copyright)$")
[ -z "$extra" ] || bad "unexpected files in the package: $extra"
grep -q "^installed_libdir=\.\./lib/$triplet/vfiocompat$" "$root/usr/bin/vfiocompat-run" ||
	bad "the installed wrapper does not carry installed_libdir=../lib/$triplet/vfiocompat"

# every shared library the ELF files need comes from a package in Depends
for f in "$root/usr/lib/$triplet/vfiocompat/"*; do
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

echo "== dpkg -i and -r into a scratch root with its own database"
droot=$out/dpkg-root
rm -rf "$droot"
mkdir -p "$droot/var/lib/dpkg/info" "$droot/var/lib/dpkg/updates" "$droot/var/lib/dpkg/triggers"
: >"$droot/var/lib/dpkg/status"
force=--force-depends
[ "$(id -u)" = 0 ] || force="$force,not-root"
if dpkg --root="$droot" "$force" -i "$deb" >"$out/dpkg.log" 2>&1; then
	[ "$(dpkg --root="$droot" -s vfiocompat | sed -n 's/^Status: //p')" = "install ok installed" ] &&
		ok "dpkg -i: install ok installed" || bad "dpkg -i: not 'install ok installed'"
	dpkg --root="$droot" "$force" -r vfiocompat >>"$out/dpkg.log" 2>&1 || bad "dpkg -r failed: $(cat "$out/dpkg.log")"
	left=$(find "$droot" -path "$droot/var/lib/dpkg" -prune -o ! -type d -print)
	[ -z "$left" ] && ok "dpkg -r removes every file" || bad "dpkg -r left: $left"
else
	bad "dpkg -i into a scratch root failed: $(cat "$out/dpkg.log")"
fi
rm -rf "$droot"

run="$root/usr/bin/vfiocompat-run"
echo "== the installed doctor"
"$run" --check >"$out/check.out" 2>&1
rc=$?
cat "$out/check.out"
grep -Eq "^ok +library: $root/usr/lib/$triplet/vfiocompat/libvfiocompat\.so \($version; preloads\)$" "$out/check.out" ||
	bad "the installed doctor does not find the installed library"
! grep -q '^warn +probe:' "$out/check.out" || bad "the installed doctor does not find the installed probe"
if [ ! -e /dev/iommu ]; then
	[ "$rc" = 1 ] || bad "--check exit status $rc on a host without /dev/iommu (expected 1)"
	grep -Eq '^FAIL +/dev/iommu: missing' "$out/check.out" || bad "no FAIL line for the missing /dev/iommu"
fi

echo "== preload smokes from the installed tree"
"$run" -- true || bad "vfiocompat-run -- true"
n=$("$run" -- grep -c "$root/usr/lib/$triplet/vfiocompat/libvfiocompat.so" /proc/self/maps)
[ "${n:-0}" -ge 1 ] && ok "the library is mapped in the program ($n mappings)" || bad "the library is not mapped in the program"
got=$("$run" -- python3 -c '
import fcntl, os, struct, termios
r, w = os.pipe()
os.write(w, b"abc")
print(struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0" * 4))[0])')
[ "$got" = 3 ] && ok "python3 ioctl(FIONREAD) through the shim: 3" || bad "python3 ioctl(FIONREAD) gave '$got'"
if [ ! -e /dev/iommu ]; then
	# the shim answers the container's open: without iommufd and with --fallback never it says why
	msg=$("$run" --fallback never -- python3 -c 'import os; os.open("/dev/vfio/vfio", os.O_RDWR)' 2>&1)
	case $msg in
	*"vfiocompat"*"/dev/iommu unusable"*) ok "the shim serves open(/dev/vfio/vfio): $(printf '%s' "$msg" | grep vfiocompat | head -n 1)" ;;
	*) bad "open(/dev/vfio/vfio) under --fallback never: $msg" ;;
	esac
fi
ln -sf "$run" "$out/vfiocompat-run-link"
n=$("$out/vfiocompat-run-link" -- grep -c libvfiocompat /proc/self/maps)
[ "${n:-0}" -ge 1 ] && ok "a symlink to the wrapper finds the library" || bad "a symlink to the wrapper does not find the library"
"$run" --help | grep -q -- '--check' || bad "--help does not show --check"
got=$("$run" --version)
[ "$got" = "vfiocompat-run $version" ] && ok "--version: $got" || bad "--version says '$got', not vfiocompat-run $version"

echo "== man pages"
command -v groff >/dev/null || { bad "groff not found (Debian package groff-base)"; }
for m in man1/vfiocompat-run.1 man7/vfiocompat.7; do
	warn=$(gzip -dc "$root/usr/share/man/$m.gz" | groff -man -Tutf8 -ww -z 2>&1)
	[ -z "$warn" ] && ok "$m renders without warnings" || bad "$m: groff says: $warn"
	lines=$(gzip -dc "$root/usr/share/man/$m.gz" | groff -man -Tutf8 2>/dev/null | wc -l)
	[ "$lines" -gt 20 ] || bad "$m renders to only $lines lines"
done
if command -v man >/dev/null; then
	MANPATH=$root/usr/share/man man -P cat vfiocompat-run 2>/dev/null | grep -q -- '--check' ||
		bad "man vfiocompat-run (MANPATH=$root/usr/share/man) does not show --check"
fi

echo "== the header"
if command -v cc >/dev/null; then
	printf '#include <vfiocompat.h>\nconst char *v = VFIOCOMPAT_VERSION_STRING;\n' |
		cc -x c -fsyntax-only -Wall -Werror -I"$root/usr/include" - && ok "vfiocompat.h compiles" || bad "vfiocompat.h does not compile"
fi

echo "== cmake --install to another prefix"
DESTDIR=$out/prefix cmake --install "$build" --prefix /opt/vfiocompat >/dev/null || bad "cmake --install"
n=$("$out/prefix/opt/vfiocompat/bin/vfiocompat-run" -- grep -c "$out/prefix/opt/vfiocompat/lib/.*vfiocompat/libvfiocompat.so" /proc/self/maps)
[ "${n:-0}" -ge 1 ] && ok "an install under /opt/vfiocompat finds its own library" || bad "an install under /opt/vfiocompat does not find its library"

if [ "$nfail" -gt 0 ]; then
	echo "$nfail check(s) failed"
	exit 1
fi
echo "all checks passed"
