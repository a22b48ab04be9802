#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest part of the e2e DPDK scenarios (started by e2e-run through tests/vm/vm-run, with
# --hugepages so hugetlbfs is at /dev/hugepages).
#
#   guest-dpdk.sh dpdk OUTDIR RUNNER LIB SECS
#     1. shim:   dpdk-testpmd txonly (--burst=1: fewer frames per second, a smaller pcap) on
#                the e1000e ($VM_NIC_BDF) under RUNNER, SECS seconds after its first stats line
#     2. type1:  dpdk-testpmd io --tx-first (one burst of 32 txonly frames) on the real type1
#     3. compat: the same on the kernel's iommufd compat: /dev/iommu bind-mounted on
#                /dev/vfio/vfio in a private mount namespace (how the kernel compat is deployed)
#     Columns 2 and 3 show which IOMMU page sizes the same v1 maps get there (their NIC DMA
#     is seen by the vIOMMU trace too). The host's pcap must hold the three TX-totals' sum.
#   guest-dpdk.sh secondary OUTDIR RUNNER LIB SECS
#     dpdk-testpmd txonly under RUNNER (primary), then dpdk-proc-info (always a secondary)
#     under RUNNER while it forwards: the secondary gets the container fd over DPDK's mp socket
#     and must print the port's TX stats.
# Writes testpmd-*.log, procinfo.log, *.fds, shim-*.log and ktrace-*.txt to OUTDIR.
# Exit: 0 all steps ran, 1 a step failed, 75 testpmd hung (e2e-run retries once).
set -u
what=$1 out=$2 runner=$3 lib=$4 secs=$5
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
. "$here/guest-lib.sh"

# launcher: the words put before the DPDK program (each of them execs the next, so the pid
# of the background job is the DPDK program's)
# shellcheck disable=SC2054 # commas in --log trace,iommufd are the shim's syntax
shim_launcher() { launcher=("$runner" --lib "$lib" --fallback never --log trace,iommufd --log-file "$out/shim-$1.log" --); }
# the PCI bus's debug level: since DPDK 23.x "Probe PCI driver: net_e1000_em" is a debug message
EAL=(-l 0-1 -n 1 -a "$VM_NIC_BDF" --log-level=bus.pci:debug)
TPARGS=(--stats-period=1 --total-num-mbufs=2048)
fail=0

# running (not a zombie, not being reaped: bash reaps its children on SIGCHLD by itself)
pid_alive() {
	local st
	st=$(sed -e 's/.*) //' -e 's/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# tp_start NAME TESTPMD-ARGS...: start "${launcher[@]}" dpdk-testpmd in the background, wait
# for its first per-second stats line (forwarding has started). Sets TP_PID.
tp_start() {
	local name=$1 t0
	shift
	t0=$(e2e_now)
	ktrace_mark "dpdk-$name start"
	# every launcher execs: TP_PID is testpmd itself
	"${launcher[@]}" dpdk-testpmd "${EAL[@]}" -- "$@" "${TPARGS[@]}" >"$out/testpmd-$name.log" 2>&1 &
	TP_PID=$!
	for _ in $(seq 1 180); do
		grep -q 'Tx-pps' "$out/testpmd-$name.log" 2>/dev/null && break
		pid_alive $TP_PID || { e2e_log "testpmd ($name) exited before forwarding:"; tail -n 5 "$out/testpmd-$name.log"; return 1; }
		sleep 0.5
	done
	if ! grep -q 'Tx-pps' "$out/testpmd-$name.log"; then
		e2e_log "testpmd ($name) not forwarding after $(e2e_since "$t0") s; last line: $(tail -n 1 "$out/testpmd-$name.log")"
		for task in /proc/"$TP_PID"/task/*; do
			e2e_log "  task ${task##*/} $(cat "$task/comm") wchan=$(cat "$task/wchan" 2>/dev/null)"
			sed 's/^/e2e-guest:     /' "$task/stack" 2>/dev/null | head -n 8
		done
		kill -KILL $TP_PID 2>/dev/null
		wait $TP_PID 2>/dev/null
		exit 75
	fi
	fd_snapshot $TP_PID >"$out/testpmd-$name.fds"
	grep -E '^Vm(Pin|Lck)' /proc/$TP_PID/status >>"$out/testpmd-$name.fds"
	e2e_log "testpmd ($name) forwarding $(e2e_since "$t0") s after exec"
}

# tp_stop NAME: SIGTERM (a background job of a non-interactive shell ignores SIGINT), final stats
tp_stop() {
	local t0 rc
	t0=$(e2e_now)
	kill -TERM $TP_PID
	for _ in $(seq 1 40); do pid_alive $TP_PID || break; sleep 0.5; done
	if pid_alive $TP_PID; then
		e2e_log "testpmd ($1) ignored SIGTERM for 20 s: SIGKILL"
		kill -KILL $TP_PID
		fail=1
	fi
	wait $TP_PID
	rc=$?
	ktrace_mark "dpdk-$1 stopped rc=$rc"
	e2e_log "testpmd ($1) exited $rc, $(e2e_since "$t0") s after SIGTERM; $(grep 'TX-total' "$out/testpmd-$1.log" | tail -n 1 | tr -s ' ')"
	[ $rc = 0 ] || fail=1
}

env | grep "^VM_" >"$out/guest.env"
ktrace_setup || exit 125
dpdk_trim_plugins || exit 125
grep -q ' /dev/hugepages hugetlbfs' /proc/mounts || { e2e_log "no hugetlbfs at /dev/hugepages"; exit 125; }

case $what in
dpdk)
	shim_launcher shim
	tp_start shim --forward-mode=txonly --burst=1 || fail=1
	sleep "$secs"
	tp_stop shim
	ktrace_dump "$out/ktrace-dpdk-shim.txt"
	: >"$TR/trace"
	if [ "${VM_NOGROUP:-0}" = 1 ]; then
		# type1 and the kernel compat both need groups: nothing else can run here
		e2e_log "group-less kernel: the type1 and kernel-compat columns cannot run"
		exit $fail
	fi
	launcher=(env)
	tp_start type1 --forward-mode=io --tx-first || fail=1
	tp_stop type1
	launcher=(unshare --mount --propagation private sh -c 'mount --bind /dev/iommu /dev/vfio/vfio && exec "$@"' sh)
	tp_start compat --forward-mode=io --tx-first || fail=1
	tp_stop compat
	ktrace_dump "$out/ktrace-dpdk-cols.txt"
	;;
secondary)
	shim_launcher primary
	tp_start primary --forward-mode=txonly || fail=1
	t0=$(e2e_now)
	ktrace_mark "dpdk-secondary start"
	shim_launcher secondary
	# dpdk-proc-info adds --proc-type=secondary to its EAL arguments itself; DPDK 25.11's
	# argument parser refuses it given twice
	"${launcher[@]}" dpdk-proc-info -- --stats >"$out/procinfo.log" 2>&1 &
	sp=$!
	echo $sp >"$out/secondary.pid"
	# what the secondary holds, seen from outside while it runs (every 0.1 s)
	: >"$out/secondary.fds"
	for _ in $(seq 1 900); do
		pid_alive $sp || break
		fd_snapshot $sp >>"$out/secondary.fds" 2>/dev/null
		sleep 0.1
	done
	pid_alive $sp && { e2e_log "dpdk-proc-info still running after 90 s: SIGKILL"; kill -KILL $sp; }
	wait $sp
	rc=$?
	ktrace_mark "dpdk-secondary exited rc=$rc"
	e2e_log "secondary dpdk-proc-info exited $rc after $(e2e_since "$t0") s"
	[ $rc = 0 ] || fail=1
	sort -u -o "$out/secondary.fds" "$out/secondary.fds"
	tp_stop primary
	ktrace_dump "$out/ktrace-secondary.txt"
	;;
*)
	e2e_log "unknown scenario $what"
	exit 2
	;;
esac
exit $fail
