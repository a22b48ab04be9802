#!/bin/sh
# SPDX-License-Identifier: MIT
# In the test guest (tests/vm/vm-run): vfiocompat-run --report/--strict. A
# clean program (stress) passes with a strict_ok summary; one that hits a
# listed difference (type1_conf's VADDR section) fails with 97, also when the
# process that hit it left with _exit().
#   guest-report.sh WRAPPER LIB STRESS TYPE1_CONF
set -u
run=$1 lib=$2 stress=$3 conf=$4
: "${VM_EDU_GROUP:?run me with tests/vm/vm-run}"
$run --lib "$lib" --report /tmp/ok.json --strict -- "$stress" "$VM_EDU_GROUP" 1 || exit 1
grep -q '"strict_ok":true' /tmp/ok.json || { echo 'no strict_ok summary'; cat /tmp/ok.json; exit 1; }
grep -q '"VFIO_IOMMU_MAP_DMA":{"class":"translated"' /tmp/ok.json || { echo 'MAP_DMA not counted'; exit 1; }
VFIOCOMPAT_LOG=off $run --lib "$lib" --report /tmp/bad.json --strict -- "$conf" -s vaddr -t 3 >/dev/null
rc=$?
[ $rc = 97 ] || { echo "strict run exited $rc, expected 97"; exit 1; }
grep -q '"name":"update_vaddr"' /tmp/bad.json || { echo 'no update_vaddr event'; exit 1; }
echo 'report/strict: clean run 0 with strict_ok summary; VADDR run 97 with its event line'
