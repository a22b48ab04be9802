#!/bin/bash
# SPDX-License-Identifier: MIT
# cpr_guest.sh: bench section 7 inside the tests/vm guest (7.2 kernel, sid root: QEMU 11.1),
# started by bench/bench.py through tests/vm/vm-run; not meant to be run by hand.
#
#   cpr_guest.sh DRIVE OUTDIR SHIMLIB PAYLOAD ROUNDS
#
# QEMU's live update of a running nested machine doing edu DMA through -device vfio-pci
# (DRIVE = tests/e2e/cpr-drive.py, PAYLOAD = nested-dma.S built with CPR_LOOP), cpr-transfer
# and cpr-exec, ROUNDS rounds, the two columns alternating in order:
#   native      QEMU's own iommufd backend (-object iommufd)
#   vfiocompat  the legacy container under SHIMLIB
# Prints one line per attempt:
#   cpr MODE COLUMN ROUND handover SECONDS        migrate sent -> the new QEMU reports running
#   cpr MODE COLUMN ROUND fail REASON             the attempt did not complete, and why
set -u
drive=$1 out=$2 lib=$3 payload=$4 rounds=$5
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# the edu behind the bridge, without a legacy IRQ (tests/e2e/guest-lib.sh: cpr_edu)
# shellcheck source-path=SCRIPTDIR/../tests/e2e source=guest-lib.sh
. "$(dirname "$drive")/guest-lib.sh"
cpr_edu || exit 125
export VM_EDU_BDF VM_EDU_GROUP
# cpr-transfer's main channel is tcp on 127.0.0.1: the guest's loopback starts down
ip link set lo up || exit 1
echo "guest kernel $(uname -r) qemu $(qemu-system-x86_64 --version | head -n 1)"
rc=0
for mode in transfer exec; do
	r=1
	while [ "$r" -le "$rounds" ]; do
		if [ $((r % 2)) = 1 ]; then order="native vfiocompat"; else order="vfiocompat native"; fi
		for col in $order; do
			tag=bench-$mode-$col-$r
			if [ "$col" = native ]; then
				python3 "$drive" --mode $mode --backend iommufd --bdf "$VM_EDU_BDF" --group "$VM_EDU_GROUP" \
					--payload "$payload" --tag "$tag" --dir "$out" --json "$out/$tag.json" >"$out/$tag.log" 2>&1
			else
				python3 "$drive" --mode $mode --backend legacy --bdf "$VM_EDU_BDF" --group "$VM_EDU_GROUP" \
					--payload "$payload" --tag "$tag" --dir "$out" --json "$out/$tag.json" -- \
					env LD_PRELOAD="$lib" VFIOCOMPAT_FALLBACK=never >"$out/$tag.log" 2>&1
			fi
			python3 - "$out/$tag.json" "$mode" "$col" "$r" <<'EOF' || rc=1
import json, sys
p, mode, col, r = sys.argv[1:]
try:
    o = json.load(open(p))
except (OSError, ValueError) as e:
    print("cpr %s %s %s fail no result (%s)" % (mode, col, r, e))
    sys.exit(1)
if o.get("ok") and o.get("handover_s") is not None:
    print("cpr %s %s %s handover %.3f" % (mode, col, r, o["handover_s"]))
    sys.exit(0)
bad = [s for s in o.get("steps", []) if not s["ok"]]
why = "%s failed" % bad[0]["step"] if bad else "incomplete"
if bad and bad[0].get("error"):
    why += ": " + bad[0]["error"]
rc = (o.get("old") or {}).get("rc")
if rc is not None and rc < 0:
    why += "; the old QEMU was killed by signal %d" % -rc
print("cpr %s %s %s fail %s" % (mode, col, r, why))
sys.exit(1)
EOF
		done
		r=$((r + 1))
	done
done
exit $rc
