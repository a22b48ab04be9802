#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Judges an nvme-run output directory: the image file on the host, qemu-io's own
pattern checks, the shim's report and log, and the guest kernel's trace of which
container each column opened. Prints one "ok"/"FAIL" line per check; exit 1 on any FAIL."""
import json
import os
import re
import sys

MAP_DMA = 0x3B71  # VFIO_IOMMU_MAP_DMA: _IO(';', VFIO_BASE 100 + 13)
REGION = 65536 + 1048576 + 131072  # what each column writes (guest-nvme.sh cmds)

out, guest_rc = sys.argv[1], int(sys.argv[2])
failed = 0


def check(cond, what):
    global failed
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failed += 1


def read(name):
    try:
        with open(os.path.join(out, name), errors="replace") as f:
            return f.read()
    except OSError:
        return None


print("qemu-io: " + (read("qemu-io.version") or "?").strip())
check(guest_rc == 0, f"guest part exited 0 (got {guest_rc})")

# qemu-io's own verdicts, per column
for tag in ("type1", "shim", "type1-readback"):
    rc, text = read(f"{tag}.rc"), (read(f"{tag}.out") or "") + (read(f"{tag}.err") or "")
    check(rc is not None and rc.strip() == "0", f"{tag}: qemu-io ran and exited 0 (rc {rc and rc.strip()})")
    reads = re.findall(r"^read (\d+)/(\d+) bytes at offset", text, re.M)
    check(bool(reads) and all(a == b for a, b in reads), f"{tag}: {len(reads)} read(s) complete")
    check("Pattern verification failed" not in text and "error" not in text.lower(),
          f"{tag}: no pattern mismatch or error in qemu-io's output")

# the namespace on the host
try:
    with open(os.path.join(out, "ns.img"), "rb") as f:
        img = f.read()
except OSError:
    img = b""
check(len(img) > 8388608 + REGION, f"image file has {len(img)} bytes")
check(img[0:REGION] == b"\x5a" * REGION, "type1's region [0, 1.19 MiB) holds 0x5a on the host")
check(img[8388608:8388608 + REGION] == b"\xa5" * REGION, "the shim's region [8 MiB, +1.19 MiB) holds 0xa5 on the host")
rest = img[REGION:8388608] + img[8388608 + REGION:]
check(rest == bytes(len(rest)), "every other byte of the namespace is still zero")

# which container each column used, from the kernel's side
events = {}  # column -> list of (event, cmd)
col = None
for line in (read("ktrace-nvme.txt") or "").splitlines():
    m = re.search(r"E2E (begin|end) (\S+)", line)
    if m:
        col = m.group(2) if m.group(1) == "begin" else None
        continue
    m = re.search(r" (vopen|vioctl|fdopen|fdioctl): \([^)]*\)(?: cmd=(0x[0-9a-f]+))?", line)
    if m and col:
        events.setdefault(col, []).append((m.group(1), int(m.group(2), 16) if m.group(2) else None))
t1 = events.get("type1", [])
sh = events.get("shim", [])
check(any(e == "vopen" for e, _ in t1), "type1 column opened the real container /dev/vfio/vfio (kernel probe)")
check(any(e == "vioctl" and c == MAP_DMA for e, c in t1), "type1 column: MAP_DMA reached type1")
check(not any(e == "vopen" for e, _ in sh) and any(e == "fdioctl" and c == MAP_DMA for e, c in sh),
      "shim column never opened the real container (kernel probe), while its MAP_DMA reached /dev/iommu")
check(any(e == "fdopen" for e, _ in sh), "shim column opened /dev/iommu (kernel probe)")
check(any(e == "fdioctl" for e, _ in sh), "shim column: iommufd ioctls reached the kernel")

# what the shim says it served
rep = read("shim-report.json") or ""
reqs = {}
for line in rep.splitlines():
    try:
        j = json.loads(line)
    except ValueError:
        continue
    for name, r in (j.get("calls") or {}).items():
        reqs[name] = reqs.get(name, 0) + int(r.get("count", 0))
print("shim report: " + (", ".join(f"{k}={v}" for k, v in sorted(reqs.items())) or "none"))
check(reqs.get("VFIO_SET_IOMMU", 0) >= 1, "the shim served SET_IOMMU")
check(reqs.get("VFIO_IOMMU_MAP_DMA", 0) >= 1, "the shim served MAP_DMA")
check(reqs.get("VFIO_IOMMU_UNMAP_DMA", 0) >= 1, "the shim served UNMAP_DMA")
log = read("shim.log") or ""
check("SET_IOMMU(VFIO_TYPE1_IOMMU)" in log or re.search(r"SET_IOMMU\S*\(1\)", log) is not None,
      "QEMU's driver asked for VFIO_TYPE1_IOMMU (v1) (shim trace)")

# the driver's reset of its temporary mappings: ENOSPC, then one UNMAP_DMA over many mappings
live = {}  # iova -> size, from the shim's trace of its answers
spans = []
enospc = 0
for line in log.splitlines():
    m = re.search(r"MAP_DMA\(iova=(0x[0-9a-f]+) size=(0x[0-9a-f]+) vaddr=\S+ flags=\S+\) = (.*)", line)
    if m and "UNMAP" not in line:
        if m.group(3).strip() == "0":
            live[int(m.group(1), 16)] = int(m.group(2), 16)
        elif "ENOSPC" in m.group(3) or "-28" in m.group(3):
            enospc += 1
        continue
    m = re.search(r"UNMAP_DMA\(iova=(0x[0-9a-f]+) size=(0x[0-9a-f]+) flags=\S+\) = 0, size (0x[0-9a-f]+)", line)
    if m:
        lo, n, got = (int(g, 16) for g in m.groups())
        inside = [i for i in live if lo <= i and i + live[i] <= lo + n]
        if len(inside) >= 2:
            spans.append((len(inside), got == sum(live[i] for i in inside)))
        for i in inside:
            del live[i]
check(enospc >= 1, f"the driver hit the DMA entry limit ({enospc} MAP_DMA answered ENOSPC)")
check(bool(spans), f"an UNMAP_DMA spanned several mappings ({', '.join(str(k) for k, _ in spans) or 'none'})")
check(all(ok for _, ok in spans), "each such unmap returned the sum of the mappings it removed")
kicked = (read("kicked") or "").split()
if kicked:
    print("note: the controller's first MSI-X never reached the guest kernel (vfio-msix count 0, "
          "a TCG/vIOMMU artifact seen under type1 too); qemu-io's eventfds were signalled: " +
          ", ".join("%s x%d" % (t, kicked.count(t)) for t in dict.fromkeys(kicked)))
retried = (read("retried") or "").split()
if retried:
    print("note: qemu-io hung before its first completion and was run again: " +
          ", ".join("%s x%d" % (t, retried.count(t)) for t in dict.fromkeys(retried)))
print("nvme: " + ("PASS" if not failed else f"FAIL ({failed} checks)"))
sys.exit(1 if failed else 0)
