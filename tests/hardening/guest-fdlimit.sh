#!/bin/sh
# SPDX-License-Identifier: MIT
# In the test guest: the fd-limit program on type1 (the oracle) and under the
# shim; the answers must be the same line for line. With the soft limit equal
# to the hard one the shim has no room for its own fds (fdroom.h): the listed
# difference is an EMFILE where type1 succeeds (and EINVAL for what depends
# on that step); everything else must still be type1's.
#   guest-fdlimit.sh FDLIMIT LIB
set -eu
prog=$1 lib=$2
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}" "${VM_EDU_BDF:?}"
d=$(mktemp -d)
"$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" >"$d/type1"
LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" >"$d/shim" 2>"$d/log"
cat "$d/shim"
if ! diff -u "$d/type1" "$d/shim"; then
	echo 'FAIL: at the fd limit the shim answers unlike type1'
	exit 1
fi
if [ -s "$d/log" ]; then
	echo 'FAIL: the shim logged at the fd limit:'; cat "$d/log"
	exit 1
fi
echo 'fdlimit: the same answers as type1 with 0-4 fds free'
"$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" hard >"$d/type1-hard"
LD_PRELOAD=$lib "$prog" "$VM_EDU_GROUP" "$VM_EDU_BDF" hard >"$d/shim-hard" 2>/dev/null
diff -u "$d/type1-hard" "$d/shim-hard" || true
# the listed difference: with no room the shim's two fds (the record's file,
# a group's attach device) count against the program's; a step may then say
# EMFILE where type1 succeeds, and what depends on it EINVAL; nothing else
python3 - "$d/type1-hard" "$d/shim-hard" <<'PY'
import re, sys
def parse(path):
    steps, other = {}, []
    for line in open(path).read().splitlines():
        m = re.match(r"free=(\d+) (.+?) +(\S+)$", line)
        if m:
            steps.setdefault(m.group(1), []).append((m.group(2), m.group(3)))
        else:
            other.append(line)
    return steps, other
(a, ao), (b, bo) = parse(sys.argv[1]), parse(sys.argv[2])
bad, emfile = False, 0
for free, want in a.items():
    got = dict(b.get(free, []))
    failed = False
    for step, ans in want:
        g = got.get(step)
        if g == ans and not failed:
            continue
        if g == "EMFILE" and not failed:
            failed = True
            emfile += 1
        elif failed and g in (None, "EINVAL"):
            pass  # after the EMFILE: not run, or refused as type1 would
        else:
            print("FAIL: soft = hard, %s free: %s: type1 %s, shim %s" % (free, step, ans, g))
            bad = True
if [l for l in ao if l.startswith("fds left")] != [l for l in bo if l.startswith("fds left")]:
    print("FAIL: soft = hard: fds left open"); bad = True
if bad:
    sys.exit(1)
print("fdlimit: soft = hard limit: %d step(s) EMFILE where type1 succeeds (listed), nothing else differs" % emfile)
PY
