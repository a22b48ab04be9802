# SPDX-License-Identifier: MIT
# Sourced by the package tests: a failure count, and a throw-away Debian 12 root
# (a chroot) made from a cached mmdebstrap tarball.
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

# What the test root holds besides the apt variant: what vfiocompat's Depends and its
# autopkgtest need (python3; apt-utils for the chroot test bed), so no test needs the archive
# after the tarball is made.
ROOT_PKGS="apt-utils libseccomp2 python3"
ROOT_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vfiocompat/package

# root_tarball: prints the path of the Debian 12 root tarball, made once with
# mmdebstrap from the system's own apt sources (no archive name written anywhere)
root_tarball() {
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || { echo "root_tarball: no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
	tar=$ROOT_CACHE/$codename-$(dpkg --print-architecture).tar
	mkdir -p "$ROOT_CACHE"
	(
		flock 9
		if [ -f "$tar" ] && [ "$(cat "$tar.pkgs" 2>/dev/null)" = "$ROOT_PKGS" ]; then exit 0; fi
		src=/etc/apt/sources.list.d/debian.sources
		[ -f "$src" ] || src=/etc/apt/sources.list
		echo "making the $codename root tarball with mmdebstrap ($ROOT_PKGS)" >&2
		rm -f "$tar" "$tar.pkgs"
		new=$ROOT_CACHE/new.tar # mmdebstrap writes a tarball for a name ending in .tar
		# shellcheck disable=SC2086 # ROOT_PKGS is a list
		mmdebstrap --quiet --variant=apt --include="$(echo $ROOT_PKGS | tr ' ' ,)" \
			"$codename" "$new" "$src" >"$ROOT_CACHE/mmdebstrap.log" 2>&1 || {
			echo "mmdebstrap failed: $(tail -n 3 "$ROOT_CACHE/mmdebstrap.log")" >&2
			rm -rf "$new"
			exit 1
		}
		mv "$new" "$tar"
		echo "$ROOT_PKGS" >"$tar.pkgs"
	) 9>"$ROOT_CACHE/.lock" || return 1
	echo "$tar"
}

# make_root TARBALL DIR: DIR becomes a fresh copy of the root (without documentation or
# translations: the test guest holds it in memory)
make_root() {
	rm -rf "$2"
	mkdir -p "$2"
	tar -C "$2" --exclude=./dev --exclude=./usr/share/locale --exclude=./usr/share/doc \
		--exclude=./usr/share/man -xf "$1" && mkdir -p "$2/dev"
}

# in_root DIR CMD...: CMD in a private mount namespace with DIR as the root, /proc, /sys
# and /dev of this host and a fresh /tmp; nothing stays mounted afterwards
in_root() {
	d=$1
	shift
	unshare -m --propagation private sh -c '
		d=$1; shift
		mount -t proc proc "$d/proc" && mount --rbind /sys "$d/sys" &&
			mount --rbind /dev "$d/dev" && mount -t tmpfs tmpfs "$d/tmp" &&
			exec "$@"' sh "$d" "$@"
}
