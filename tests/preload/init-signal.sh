#!/bin/sh
# SPDX-License-Identifier: MIT
# A signal whose handler opens the container path lands while the shim's
# constructor is in its set-up (held there: opening VFIOCOMPAT_LOG_FILE, a
# FIFO, blocks until a reader comes). The handler must run once the set-up is
# done and answer as without the shim; before, the process hung for good.
#   init-signal.sh LIB INIT_SIGNAL_LIB
set -eu
lib=$1 sig=$2
d=$(mktemp -d)
pid= reader=
cleanup() {
	[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
	[ -z "$reader" ] || kill -9 "$reader" 2>/dev/null || true
	rm -rf "$d"
}
trap cleanup EXIT
want=$(LD_PRELOAD=$sig sh -c 'kill -USR1 $$; true' 2>&1)
echo "without the shim: $want"
mkfifo "$d/log"
# init_signal's constructor runs first (the later preload entry does), then
# the shim's, which blocks opening the FIFO
VFIOCOMPAT_LOG_FILE=$d/log VFIOCOMPAT_LOG=info LD_PRELOAD=$lib:$sig \
	sh -c 'exit 0' >"$d/out" 2>"$d/err" &
pid=$!
i=0
# wait until it is blocked in openat (257) on the FIFO
until case $(cat "/proc/$pid/syscall" 2>/dev/null) in 257\ *) true ;; *) false ;; esac; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "FAIL: the shim's constructor never blocked on the log FIFO"; exit 1; }
	sleep 0.05
done
kill -USR1 "$pid"
sleep 0.5
cat "$d/log" >"$d/log.out" &
reader=$!
# the process must now finish; 30 s without it is a hang
i=0
while kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "FAIL: hung after the signal (handler waits on the set-up)"; cat "$d/err"; exit 1; }
	sleep 0.1
done
rc=0
wait "$pid" || rc=$?
pid=
got=$(grep '^handler:' "$d/err" || true)
echo "under the shim:   ${got:-(the handler did not run)} (exit $rc)"
[ "$rc" = 0 ] || { echo "FAIL: exit $rc"; cat "$d/err"; exit 1; }
[ "$got" = "$want" ] || { echo "FAIL: the handler's answer differs"; exit 1; }
echo "init-signal: ok"
