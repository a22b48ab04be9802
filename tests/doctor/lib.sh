# SPDX-License-Identifier: MIT
# Helpers for the doctor tests (sourced). Needs $wrapper and $tmp.
nfail=0
section() { echo "== $*"; }
note() { echo "   note: $*"; }
bad() {
	echo "   FAILED: $*"
	nfail=$((nfail + 1))
}
# doctor NAME ROOT ARGS...: run the wrapper, output in $tmp/NAME.out, status in $tmp/NAME.rc;
# a --check is run again with --json, which must say the same (json_twin): every run, or
# only the runs named in $twin_only
doctor() {
	name=$1 root=$2
	shift 2
	VFIOCOMPAT_CHECK_ROOT=$root "$wrapper" "$@" >"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
	sed 's/^/   | /' "$tmp/$name.out"
	if twin_wanted "$@"; then
		VFIOCOMPAT_CHECK_ROOT=$root "$wrapper" "$@" --json >"$tmp/$name.json" 2>&1
		echo $? >"$tmp/$name.json.rc"
		json_twin "$name"
	fi
}
doctor_as_nobody() {
	name=$1 root=$2
	shift 2
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		env VFIOCOMPAT_CHECK_ROOT="$root" "$wrapper" "$@" >"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
	sed 's/^/   | /' "$tmp/$name.out"
	if twin_wanted "$@"; then
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			env VFIOCOMPAT_CHECK_ROOT="$root" "$wrapper" "$@" --json >"$tmp/$name.json" 2>&1
		echo $? >"$tmp/$name.json.rc"
		json_twin "$name"
	fi
}
# twin_wanted ARGS...: a --check run whose --json twin is wanted (see doctor)
twin_wanted() {
	case " ${twin_only:-$name} " in *" $name "*) ;; *) return 1 ;; esac
	for a in "$@"; do [ "$a" != --check ] || return 0; done
	return 1
}
# json_twin NAME: $tmp/NAME.json (--check --json) has one JSON object per line of
# $tmp/NAME.out (--check), each with exactly the keys check, item, verdict and message and
# saying the same, and the same exit status (2, a usage error: the same message)
json_twin() {
	[ "$(cat "$tmp/$1.json.rc")" = "$(cat "$tmp/$1.rc")" ] ||
		bad "$1: --json exit status $(cat "$tmp/$1.json.rc"), without it $(cat "$tmp/$1.rc")"
	if [ "$(cat "$tmp/$1.rc")" = 2 ]; then
		cmp -s "$tmp/$1.out" "$tmp/$1.json" || bad "$1: --json says $(cat "$tmp/$1.json")"
		return 0
	fi
	why=$(python3 "${here:?}/json_twin.py" "$tmp/$1.out" "$tmp/$1.json") ||
		bad "$1: --check --json: $why"
}
expect_rc() {
	got=$(cat "$tmp/$1.rc")
	[ "$got" = "$2" ] || bad "$1: exit status $got, expected $2"
}
expect() {
	grep -Eq -- "$2" "$tmp/$1.out" || bad "$1: no line matches: $2"
}
reject() {
	! grep -Eq -- "$2" "$tmp/$1.out" || bad "$1: a line matches: $2"
}
# every line is "VERDICT ITEM: text" or the final "result: ..."
check_format() {
	odd=$(grep -Ev '^(ok   |info |warn |FAIL |skip ) [^ :][^:]*: .+$|^result: (ready|not ready)' "$tmp/$1.out")
	[ -z "$odd" ] || bad "$1: lines not in the doctor's format: $odd"
	[ "$(tail -n 1 "$tmp/$1.out" | cut -c1-7)" = "result:" ] || bad "$1: the last line is not the result"
}
finish() {
	if [ "$nfail" -gt 0 ]; then
		echo "$nfail check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
