#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench.py: the driver behind scripts/bench (run that; it builds first).

  bench.py --build DIR [--out DIR] [--smoke] [--only 1,2,3,4,5] [--host-only]

Measures everything side by side in one run and prints one table (markdown),
also written as OUTDIR/bench.csv and OUTDIR/bench.json:
  1 pass-through   host, callgrind: instructions per call, no preload vs
                   umockdev's preload vs vfiocompat
  2 translation    guest (tests/vm/vm-run): MAP+UNMAP time, type1 vs the
                   kernel's compat vs vfiocompat; kernel calls per MAP/UNMAP
  3 scaling        host, callgrind over the fake kernel: the shim's
                   instructions per map and unmap with 16 .. 64 Ki live mappings
  4 IOMMU page     guest + QEMU's vtd trace on the host: IOMMU page size of
    size           DPDK-style v1 maps of 2 MiB hugepages
  5 startup        guest: nested QEMU with a vfio-pci device, exec -> query-pci
  6 group-less     guest, vfiocompat only: open-to-first-DMA and MAP+UNMAP on a
    kernel         kernel with VFIO groups and on the same release without them
                   (--nogroup-kernel, default 7.2: 7.2 and 7.2-nogroup), one run
  7 cpr handover   guest (7.2 kernel, sid root: QEMU 11.1), opt-in (--only 7): QEMU live
                   update (cpr-transfer, cpr-exec) of a running nested machine with vfio-pci,
                   migrate to the new QEMU running, QEMU's iommufd backend vs vfiocompat
--smoke runs every row with small counts (does it run, prints every row; the
figures are not meant to be read). Exit status 0 if every row was measured,
1 if a row failed (targets missed are reported, not failures).
"""
import argparse
import csv
import errno
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
UMOCKDEV = "libumockdev-preload.so.0"

rows = []       # the table, in order
failures = []   # rows that could not be measured
notes = []      # reference figures printed under the table


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def add(section, row, unit, a=None, b=None, v=None, ratio=None, target="", met=None,
        cells=None, detail=None):
    """one table row; a/b/v are numbers (or None), cells optional display strings"""
    r = {"section": section, "row": row, "unit": unit, "a": a, "b": b, "vfiocompat": v,
         "ratio": ratio, "target": target, "met": met}
    r["cells"] = cells or {}
    if detail:
        r["detail"] = detail
    rows.append(r)
    return r


SECTIONS = {
    1: ("pass-through (host, callgrind)", "no preload", "umockdev", "vfiocompat / no preload"),
    2: ("translation (guest, real kernel)", "type1", "kernel compat", "vfiocompat / compat"),
    3: ("scaling of the shim's record (host, callgrind, fake kernel)", "at 16 live", "",
        "vfiocompat / at 16"),
    4: ("IOMMU page size, DPDK-style v1 hugepage maps (guest + vtd trace)", "type1",
        "kernel compat", "vfiocompat / compat"),
    5: ("startup: QEMU -m 512 + vfio-pci edu, exec to query-pci (guest)", "type1", "",
        "vfiocompat / type1"),
    6: ("group-less kernel: vfiocompat with the kernel's groups (A) and serving them itself "
        "over the device cdevs (vfiocompat column), same release", "with groups", "",
        "group-less / with groups"),
    7: ("cpr live update: QEMU 11.1, migrate to the new QEMU running (guest 7.2, sid root)",
        "QEMU's iommufd backend", "", "vfiocompat / iommufd backend"),
}


# ------------------------------------------------------------------ helpers

def run(argv, env=None, **kw):
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


def callgrind(argv, env=None, opts=()):
    """Ir of one run under callgrind (what it collected)"""
    fd, out = tempfile.mkstemp(prefix="bench-cg-")
    os.close(fd)
    try:
        p = run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + list(opts) + argv,
                env=env)
        if p.returncode != 0:
            raise RuntimeError("%s: rc %d: %s" % (" ".join(argv), p.returncode, p.stderr[-500:]))
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
        raise RuntimeError("no totals in callgrind output")
    finally:
        os.unlink(out)


def per_op(argv_n, argv_2n, n, env=None, opts=()):
    """(Ir(2N) - Ir(N)) / N: fixed costs (start-up, lazy binding, set-up) cancel"""
    a = callgrind(argv_n, env, opts)
    b = callgrind(argv_2n, env, opts)
    return (b - a) / n


def fmt_num(x, nd=0):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if nd == 0:
        return "{:,.0f}".format(x)
    return "{:,.{}f}".format(x, nd)


def ratio(x, y):
    if x is None or y is None or y == 0:
        return None
    return x / y


def best(xs):
    xs = [x for x in xs if x is not None]
    return min(xs) if xs else None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ------------------------------------------------------------------ 1. pass-through

# (key, label, bound on the added instructions or None, whether it must beat umockdev)
PASS_ROWS = [
    ("fionread", "ioctl(FIONREAD) on a pipe", 6, True),
    ("tcgets", "ioctl(TCGETS) on a pty", 6, True),
    ("openclose", "open + close of a regular file", None, True),
    ("dupclose", "dup + close", None, True),
    # umockdev does not interpose mmap: only the shim's own bound (two tail calls)
    ("mmapanon", "mmap + munmap, anonymous", 16, False),
    ("mmapfile", "mmap + munmap of a regular file (an fd-table look-up)", 16, False),
]


def section_passthru(a):
    prog = os.path.join(a.build, "bench", "bench_passthru")
    lib = os.path.join(a.build, "shim", "libvfiocompat.so")
    n = 2000 if a.smoke else 100000
    have_um = umockdev_path() is not None
    if not have_um:
        log("umockdev's %s not found (apt-get install umockdev): column B skipped" % UMOCKDEV)
    env_tmp = {"TMPDIR": a.tmp}
    for key, label, bound, vs_um in PASS_ROWS:
        try:
            base = per_op([prog, key, str(n)], [prog, key, str(2 * n)], n, env_tmp)
            shim = per_op([prog, key, str(n)], [prog, key, str(2 * n)], n,
                          dict(env_tmp, LD_PRELOAD=lib))
            um = per_op([prog, key, str(n)], [prog, key, str(2 * n)], n,
                        dict(env_tmp, LD_PRELOAD=UMOCKDEV)) if have_um else None
        except RuntimeError as e:
            failures.append("1 %s: %s" % (key, e))
            add(1, label, "instr/call", met=False, cells={"vfiocompat": "fail"})
            continue
        d_shim = shim - base
        d_um = um - base if um is not None else None
        ok = not vs_um or d_um is None or d_shim < d_um
        target = "; ".join(([] if bound is None else ["≤ +%d" % bound]) +
                           (["less than umockdev"] if vs_um else []))
        if bound is not None:
            ok = ok and d_shim <= bound
        add(1, label, "instr/call", base, um, shim, ratio(shim, base), target, ok,
            cells={"b": "{} ({:+,.0f})".format(fmt_num(um), d_um) if um is not None else "—",
                   "vfiocompat": "{} ({:+,.0f})".format(fmt_num(shim), d_shim)},
            detail={"n": n, "delta_vfiocompat": d_shim, "delta_umockdev": d_um})


def section_trapcost(a):
    """VFIOCOMPAT_TRAP=1: wall time, three columns interleaved in one run"""
    prog = os.path.join(a.build, "bench", "bench_trapcost")
    lib = os.path.join(a.build, "shim", "libvfiocompat.so")
    n = 20000 if a.smoke else 200000
    cols = {"none": {}, "shim": {"LD_PRELOAD": lib},
            "trap": {"LD_PRELOAD": lib, "VFIOCOMPAT_TRAP": "1"}}
    for key, label in (("fionread", "ioctl(FIONREAD) on a pipe, VFIOCOMPAT_TRAP=1 (the filter runs, no trap)"),
                       ("raw", "raw syscall(SYS_ioctl) VFIO request on a pipe, VFIOCOMPAT_TRAP=1 (trapped)")):
        best = {}
        for _ in range(3):
            for col, env in cols.items():
                p = run([prog, key, str(n)], env)
                try:
                    v = float(p.stdout.strip())
                except ValueError:
                    failures.append("1 trap %s %s: %s" % (key, col, p.stderr[-200:]))
                    continue
                best[col] = min(best.get(col, v), v)
        if len(best) != 3:
            add(1, label, "ns/call", met=False, cells={"vfiocompat": "fail"})
            continue
        add(1, label, "ns/call", best["none"], best["shim"], best["trap"],
            ratio(best["trap"], best["none"]), "measured (off by default)", None,
            cells={"b": "%.0f (shim, no trap)" % best["shim"]},
            detail={"n": n, "wall_ns": best})


def umockdev_path():
    p = run(["ldconfig", "-p"])
    for line in p.stdout.splitlines():
        if UMOCKDEV in line and "=>" in line:
            return line.split("=>")[1].strip()
    return None


# ------------------------------------------------------------------ 3. scaling

SCALE_LIVE = [16, 1024, 16384, 65536]


def live_name(n):
    return "%d Ki" % (n // 1024) if n >= 1024 else str(n)


def section_scale(a):
    prog = os.path.join(a.build, "bench", "bench_scale")
    k = 200 if a.smoke else 2000
    cost = {}
    for op in ("map", "unmap"):
        opts = ["--instr-atstart=no", "--collect-atstart=no",
                "--toggle-collect=bench_" + op, "--toggle-collect=iommufd_compat_%s_dma" % op,
                "--toggle-collect=iommufd_ioas_unmap"]
        for live in SCALE_LIVE:
            try:
                cost[(op, live)] = per_op([prog, str(live), str(k)], [prog, str(live), str(2 * k)],
                                          k, opts=opts)
            except RuntimeError as e:
                failures.append("3 %s %d: %s" % (op, live, e))
                cost[(op, live)] = None
    for op in ("map", "unmap"):
        base = cost[(op, SCALE_LIVE[0])]
        for live in SCALE_LIVE:
            c = cost[(op, live)]
            r = ratio(c, base)
            last = live == SCALE_LIVE[-1]
            add(3, "%s, %s live mappings" % ("MAP_DMA" if op == "map" else "UNMAP_DMA",
                                             live_name(live)),
                "instr/op", base, None, c, r,
                "≤ 2× at 16" if last else "",
                (r is not None and r <= 2.0) if last else None,
                cells={"vfiocompat": fmt_num(c, 0) if c is not None else "fail"},
                detail={"ops": k})
    live = SCALE_LIVE[-1]
    p = run([prog, "--mem", str(live)])
    m = re.search(r"sizeof (\d+) record_bytes (\d+) heap_bytes (\d+)", p.stdout)
    if p.returncode or not m:
        failures.append("3 bytes per mapping: %s" % p.stderr[-300:])
        add(3, "bytes per mapping (%s live)" % live_name(live), "bytes", met=False,
            cells={"vfiocompat": "fail"})
        return
    sz, rec, heap = (int(x) for x in m.groups())
    add(3, "bytes per mapping, %s live (heap growth; the record's own count %.1f, node %d)" % (
        live_name(live), rec / live, sz), "bytes", None, None,
        heap / live, None, "≤ 64", heap / live <= 64,
        cells={"vfiocompat": "%.1f" % (heap / live)},
        detail={"sizeof_mapping": sz, "record_bytes": rec, "heap_bytes": heap, "live": live})


# ------------------------------------------------------------------ guest: 2, 4, 5

MODES = ("type1", "compat", "vfiocompat")
TROWS = [("4k", "MAP+UNMAP 4 KiB"), ("2m", "MAP+UNMAP 2 MiB (hugepage)"),
         ("1g", "MAP+UNMAP 1 GiB (2 MiB hugepages)"),
         ("qemu", "QEMU-like: map 1 GiB RAM in 5 sections, unmap all"),
         ("1m", "MAP+UNMAP 1 MiB RAM (4 KiB pages)"),
         ("bar", "MAP+UNMAP 1 MiB device BAR (P2P, dma-buf)"),
         ("memfd", "MAP+UNMAP 1 MiB memfd RAM (shim from 6.13: IOAS_MAP_FILE)")]
PG_BASE = {"type1": 0x2000000, "compat": 0x4000000, "vfiocompat": 0x6000000}


def guest_params(a):
    if a.smoke:
        return dict(rounds=1, rows="4k:20:2 2m:5:2 1g:1:2 qemu:1:2 1m:5:2 bar:5:2 memfd:5:2", count=10,
                    srounds=1)
    # ROW:K:S = S samples of K ops each: many short samples, so the fastest one
    # finds a quiet moment of a shared host
    return dict(rounds=5, rows="4k:2000:10 2m:300:10 1g:1:10 qemu:1:10 1m:200:10 bar:200:10 "
                "memfd:200:10",
                count=200, srounds=5)


def section_guest(a, want):
    """sections 4 and 5 in the first kernel's guest, section 2 in every kernel's guest
    (each against that kernel's own type1 and compat)"""
    for i, kernel in enumerate(a.kernels):
        parts = sorted(want & ({2, 4, 5} if i == 0 else {2}))
        if parts:
            guest_run(a, kernel, parts)


def guest_run(a, kernel, parts):
    gp = guest_params(a)
    vmrun = os.path.join(TOP, "tests", "vm", "vm-run")
    out = a.out
    # the guest sees the host's / read-only (but not /tmp): run from the shared build dir
    for f in ("guest.sh", "qemu_startup.py"):
        shutil.copy(os.path.join(HERE, f), os.path.join(out, f))
    trace = os.path.join(out, "vtd.trace")
    if os.path.exists(trace):
        os.unlink(trace)
    lib = os.path.join(a.build, "shim", "libvfiocompat.so")
    argv = [vmrun, "--kernel", kernel, "--mem", "3072", "--hugepages", "520", "--out", a.build,
            "--timeout", "900" if not a.smoke else "400"]
    if 4 in parts:
        argv += ["--qemu-arg", "-trace", "--qemu-arg", "enable=vtd_iotlb_page_*,file=" + trace]
    argv += ["--", os.path.join(out, "guest.sh"), os.path.join(a.build, "bench"), lib, out,
             str(gp["rounds"]), gp["rows"], str(gp["count"]), str(gp["srounds"]), "512",
             ",".join(str(x) for x in parts)]
    log("guest %s (sections %s): %s" % (kernel, ",".join(map(str, parts)), " ".join(argv[:4]) + " ..."))
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    log("guest %s: exit %d after %.0f s; %s" % (kernel, p.returncode, time.monotonic() - t0,
                                               (p.stderr.splitlines() or ["no vm-run line"])[0]))
    glog = os.path.join(out, "guest-%s.log" % kernel)
    with open(glog, "w") as f:
        f.write(p.stdout + "\n--- stderr ---\n" + p.stderr)
    if p.returncode == 125:
        failures.append("guest %s rig failed: " % kernel + p.stderr.strip().splitlines()[-1]
                        if p.stderr.strip() else "guest %s rig failed" % kernel)
    elif p.returncode:
        failures.append("guest %s: exit %d (see %s)" % (kernel, p.returncode, glog))
    lines = p.stdout.splitlines()
    info = {}
    for l in lines:
        m = re.match(r"guest kernel (\S+) cpus (\d+) mem_kib (\d+)", l)
        if m:
            info = {"kernel": m.group(1), "cpus": int(m.group(2)), "mem_kib": int(m.group(3))}
    a.guest_info[kernel] = info
    # section 2's rows name the kernel they ran on
    kp = "[%s] " % kernel
    if 2 in parts:
        guest_translate(lines, gp, kp)
        guest_count(lines, gp, kp)
        guest_syscost(lines, kp)
    if 4 in parts:
        guest_pgsize(lines, trace)
    if 5 in parts:
        guest_startup(lines)
    return lines


def section_groups(a):
    """6: the same vfiocompat on a kernel with groups and on the same release without"""
    k = a.nogroup_kernel
    res = {}
    for kernel in (k, k + "-nogroup"):
        lines = guest_run(a, kernel, [6])
        first, rowsd = [], {}
        for l in lines:
            m = re.match(r"groups \d+ firstdma samples \d+ ns (\d+) median (\d+)", l)
            if m:
                first.append(int(m.group(1)))
            m = re.match(r"groups \d+ row (\w+) ops \d+ samples \d+ ns_per_op (\d+) median (\d+)", l)
            if m:
                rowsd.setdefault(m.group(1), []).append(int(m.group(2)))
            if l.startswith("groups ") and " fail" in l:
                failures.append("6 [%s] %s" % (kernel, l))
        res[kernel] = (first, rowsd)
    (fa, ra), (fb, rb) = res[k], res[k + "-nogroup"]
    label = "[%s vs %s-nogroup] " % (k, k)
    ms_a = best(fa) / 1e6 if fa else None
    ms_b = best(fb) / 1e6 if fb else None
    if ms_a is None or ms_b is None:
        failures.append("6 open to first DMA: not measured")
    add(6, label + "open to the first MAP_DMA returned (container, group, SET_IOMMU, device, "
        "2 MiB map)", "ms", ms_a, None, ms_b, ratio(ms_b, ms_a), "", None,
        cells={"a": fmt_num(ms_a, 2), "vfiocompat": fmt_num(ms_b, 2)},
        detail={"fastest_sample_ns_per_round": {"groups": fa, "nogroup": fb}})
    for key, what in (("4k", "MAP+UNMAP 4 KiB"), ("2m", "MAP+UNMAP 2 MiB hugepage")):
        ua = best(ra.get(key, [])) / 1000.0 if ra.get(key) else None
        ub = best(rb.get(key, [])) / 1000.0 if rb.get(key) else None
        if ua is None or ub is None:
            failures.append("6 %s: not measured" % key)
        r = ratio(ub, ua)
        add(6, label + what, "µs/op", ua, None, ub, r, "≤ 1.05× with groups",
            r is not None and r <= 1.05,
            cells={"a": fmt_num(ua, 1), "vfiocompat": fmt_num(ub, 1)},
            detail={"fastest_sample_ns_per_round": {"groups": ra.get(key, []),
                                                    "nogroup": rb.get(key, [])}})


def guest_translate(lines, gp, kp=""):
    samples, medians = {}, {}  # per (mode, row): each round's fastest and median sample
    unsupported = {}  # (mode, row): errno of a row the container cannot map
    for l in lines:
        m = re.match(r"translate (\w+) (\d+) row (\w+) ops (\d+) samples (\d+) ns_per_op (\d+) "
                     r"median (\d+)", l)
        if m:
            samples.setdefault((m.group(1), m.group(3)), []).append(int(m.group(6)))
            medians.setdefault((m.group(1), m.group(3)), []).append(int(m.group(7)))
        elif l.startswith("translate ") and " fail" in l:
            failures.append("2 " + kp + l)
        m = re.match(r"translate (\w+) (\d+) row (\w+) unsupported errno (\d+)", l)
        if m:
            unsupported[(m.group(1), m.group(3))] = int(m.group(4))
    for key, label in TROWS:
        label = kp + label
        # the best round: the host is shared, and interference only ever adds time
        med = {mo: best(samples.get((mo, key), [])) for mo in MODES}
        us = {mo: (med[mo] / 1000.0 if med[mo] is not None else None) for mo in MODES}
        r = ratio(us["vfiocompat"], us["compat"])
        target, met = "≤ 1.05× compat", r is not None and r <= 1.05
        if key == "bar":
            # the kernel compat cannot map a BAR: next to the 1 MiB RAM row instead
            ram = best(samples.get(("vfiocompat", "1m"), []))
            r = ratio(us["vfiocompat"], ram / 1000.0 if ram else None)
            target, met = "(vfiocompat BAR / vfiocompat RAM 1 MiB)", None
        if key == "memfd":
            # the same memory pinned as a file (the shim from 6.13) or by address (the compat)
            target, met = "(vfiocompat / compat: IOAS_MAP_FILE vs by address from 6.13)", None
        # a BAR the container cannot map (the compat; the shim before 6.19) is shown, not a failure
        if any(us[mo] is None and (mo, key) not in unsupported for mo in MODES):
            failures.append("2 %s%s: not measured" % (kp, key))
        nd = 1 if key in ("4k", "2m") else 0

        def cell(mo):
            if (mo, key) in unsupported:
                return "— (%s)" % errno.errorcode.get(unsupported[(mo, key)], "?")
            return fmt_num(us[mo], nd)
        add(2, label, "µs/op", us["type1"], us["compat"], us["vfiocompat"], r, target, met,
            cells={"a": cell("type1"), "b": cell("compat"), "vfiocompat": cell("vfiocompat")},
            detail={"fastest_sample_ns_per_round": {mo: samples.get((mo, key), [])
                                                    for mo in MODES},
                    "median_sample_ns_per_round": {mo: medians.get((mo, key), [])
                                                   for mo in MODES},
                    "rounds": gp["rounds"], "rows": gp["rows"],
                    "figure": "fastest sample over all rounds"})
        if key == "memfd":
            # the floor of each route, no shim: native IOAS_MAP vs native IOAS_MAP_FILE
            by_addr = best(samples.get(("native", "memfd"), []))
            by_file = best(samples.get(("native", "memfd_file"), []))
            if by_addr is None:
                failures.append("2 %smemfd native: not measured" % kp)
            elif by_file is None:
                notes.append("%s, reference: native IOMMU_IOAS_MAP of the memfd: %s µs/op; "
                             "native IOMMU_IOAS_MAP_FILE: %s" % (
                                 label, fmt_num(by_addr / 1000.0, 0),
                                 "— (errno %s)" % unsupported.get(("native", "memfd_file"), "?")))
            else:
                notes.append("%s, reference: native IOMMU_IOAS_MAP_FILE %s µs/op vs native "
                             "IOMMU_IOAS_MAP %s µs/op of the same memfd (%.2f×)" % (
                                 label, fmt_num(by_file / 1000.0, 0),
                                 fmt_num(by_addr / 1000.0, 0), by_file / by_addr))
            rows_by_label(label)["detail"]["reference_native_memfd"] = {
                "ioas_map_fastest_sample_ns_per_round": samples.get(("native", "memfd"), []),
                "ioas_map_file_fastest_sample_ns_per_round":
                    samples.get(("native", "memfd_file"), [])}
        if key != "4k":
            continue
        # reference figures for the 4 KiB row (not vfiocompat: printed under the table)
        for mo, what in (("compat_user", "kernel compat with /dev/iommu's default per-user memlock "
                          "charging (iommufd's /dev/vfio/vfio charges per process, as the compat "
                          "column does)"),
                         ("native", "one native IOMMU_IOAS_MAP + IOMMU_IOAS_UNMAP per pair on the "
                          "compat IOAS, no shim (the floor for a shim that issues IOAS calls)")):
            v = best(samples.get((mo, key), []))
            if v is None:
                failures.append("2 %s4k %s: not measured" % (kp, mo))
                continue
            r = ratio(v / 1000.0, us["compat"])
            notes.append("%s, reference: %s: %s µs/op%s" % (
                label, what, fmt_num(v / 1000.0, 1),
                " (%.2f× compat)" % r if r is not None else ""))
            rows_by_label(label)["detail"]["reference_" + mo + "_fastest_sample_ns_per_round"] = \
                samples.get((mo, key), [])


def rows_by_label(label):
    return [r for r in rows if r["row"] == label][-1]


def parse_strace(path):
    """syscalls between the markers close(-77), close(-78), close(-79): [map, unmap] phases"""
    phases = [dict(), dict()]
    cur = None
    with open(path) as f:
        for line in f:
            m = re.match(r"^(?:\d+\s+)?(\w+)\((.*)", line)
            if not m:
                continue
            name, rest = m.groups()
            if name == "close" and rest.startswith("-7"):
                cur = {"-77": 0, "-78": 1, "-79": None}.get(rest[:3])
                continue
            if cur is None:
                continue
            if name == "ioctl":
                req = rest.split(",")[1].strip()
                name = "ioctl " + req
            phases[cur][name] = phases[cur].get(name, 0) + 1
    return phases


IOCTL_NAMES = {"0x3b71": "VFIO_IOMMU_MAP_DMA", "0x3b72": "VFIO_IOMMU_UNMAP_DMA",
               "0x3b85": "IOMMU_IOAS_MAP", "0x3b86": "IOMMU_IOAS_UNMAP"}


def guest_count(lines, gp, kp=""):
    files = {}
    for l in lines:
        m = re.match(r"count (\w+) (\S+)$", l)
        if m and m.group(1) in MODES:
            files[m.group(1)] = m.group(2)
    k = gp["count"]
    per = {}
    for mo in MODES:
        try:
            per[mo] = parse_strace(files[mo])
        except (KeyError, OSError) as e:
            failures.append("2 %scount %s: %s" % (kp, mo, e))
            per[mo] = None
    for i, what in enumerate(("MAP", "UNMAP")):
        def ioctls(mo):
            if per[mo] is None:
                return None
            return sum(v for n, v in per[mo][i].items() if n.startswith("ioctl")) / k

        def others(mo):
            if per[mo] is None:
                return None
            return sum(v for n, v in per[mo][i].items() if not n.startswith("ioctl")) / k

        def names(mo):
            if per[mo] is None:
                return ""
            return ", ".join("%s %g" % (IOCTL_NAMES.get(n.split()[-1], n) if n.startswith("ioctl")
                                        else n, v / k) for n, v in sorted(per[mo][i].items()))
        vi = ioctls("vfiocompat")
        add(2, kp + "kernel ioctls per %s_DMA (strace)" % what, "ioctls", ioctls("type1"),
            ioctls("compat"), vi, None, "= 1", vi == 1,
            cells={"a": fmt_num(ioctls("type1"), 2) if per["type1"] else "fail",
                   "b": fmt_num(ioctls("compat"), 2) if per["compat"] else "fail",
                   "vfiocompat": fmt_num(vi, 2) if vi is not None else "fail"},
            detail={mo: names(mo) for mo in MODES})
        vo = others("vfiocompat")
        add(2, kp + "other syscalls per %s_DMA (strace)" % what, "syscalls", others("type1"),
            others("compat"), vo, None, "", None,
            cells={"vfiocompat": "%s (%s)" % (fmt_num(vo, 2), ", ".join(
                "%s %g" % (n, v / k) for n, v in sorted(per["vfiocompat"][i].items())
                if not n.startswith("ioctl"))) if vo else fmt_num(vo, 2),
                "a": fmt_num(others("type1"), 2), "b": fmt_num(others("compat"), 2)})


def guest_syscost(lines, kp=""):
    for l in lines:
        m = re.match(r"syscost process_vm_readv (\d+) getppid (\d+)", l)
        if m:
            rv, gp = int(m.group(1)) / 1000.0, int(m.group(2)) / 1000.0
            add(2, kp + "one process_vm_readv of 32 B in this guest (the shim's copy of a struct that is "
                "not on the caller's stack; getppid for scale)", "µs",
                None, None, rv, None, "", None,
                cells={"vfiocompat": "%.2f (getppid %.2f)" % (rv, gp)})
            return
    failures.append("2 %ssyscost: not measured" % kp)


def guest_pgsize(lines, trace):
    dmas = {mo: [] for mo in MODES}
    for l in lines:
        m = re.match(r"pgsize (\w+) (\S+) dma (0x[0-9a-f]+) (\w+)", l)
        if m and m.group(1) in dmas:
            dmas[m.group(1)].append((int(m.group(3), 16), m.group(4)))
        elif l.startswith("pgsize ") and " fail" in l:
            failures.append("4 " + l)
    ev = []
    try:
        with open(trace) as f:
            for l in f:
                m = re.search(r"vtd_iotlb_page_(update|hit).*iova (0x[0-9a-f]+) slpte (0x[0-9a-f]+)",
                              l)
                if m:
                    ev.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
    except OSError as e:
        failures.append("4 vtd trace: %s" % e)
    size, misses = {}, {}
    for mo in MODES:
        lo, hi = PG_BASE[mo], PG_BASE[mo] + 4 * 0x200000
        mine = [e for e in ev if lo <= e[1] < hi]
        ups = [e for e in mine if e[0] == "update"]
        if not ups or not dmas[mo] or any(s != "ok" for _, s in dmas[mo]):
            size[mo] = None
            continue
        # second-level PTE bit 7: a leaf above level 1 (2 MiB here: the maps are 2 MiB)
        large = [e for e in ups if e[2] & 0x80]
        if len(large) == len(ups):
            size[mo] = 2048
        elif not large:
            size[mo] = 4
        else:
            size[mo] = "mixed"
        misses[mo] = len(ups) / 4.0
    if any(size[mo] is None for mo in MODES):
        failures.append("4: page size not seen for %s" % [mo for mo in MODES if size[mo] is None])

    def cell(mo):
        s = size[mo]
        return {2048: "2 MiB", 4: "4 KiB", None: "fail"}.get(s, str(s))
    v, b = size["vfiocompat"], size["compat"]
    r = ratio(v, b) if isinstance(v, int) and isinstance(b, int) else None
    add(4, "IOMMU page of a 2 MiB hugepage, VFIO_TYPE1_IOMMU", "page",
        size["type1"], b, v, r, "large (as type1)", v == size["type1"] == 2048,
        cells={"a": cell("type1"), "b": cell("compat"), "vfiocompat": cell("vfiocompat")},
        detail={"iotlb_misses_per_hugepage_2_dmas": misses})
    add(4, "IOTLB misses per hugepage (2 DMAs 1 MiB apart)", "misses",
        misses.get("type1"), misses.get("compat"), misses.get("vfiocompat"),
        ratio(misses.get("vfiocompat"), misses.get("compat")), "", None,
        cells={k2: fmt_num(misses.get(mo), 0) if mo in misses else "fail"
               for k2, mo in (("a", "type1"), ("b", "compat"), ("vfiocompat", "vfiocompat"))})


def guest_startup(lines):
    s = {"type1": [], "vfiocompat": []}
    for l in lines:
        m = re.match(r"startup (\w+) ([0-9.]+)$", l)
        if m and m.group(1) in s:
            s[m.group(1)].append(float(m.group(2)))
        elif l.startswith("startup ") and " fail" in l:
            failures.append("5 " + l)
    t, v = best(s["type1"]), best(s["vfiocompat"])
    if t is None or v is None:
        failures.append("5: startup not measured")
    add(5, "QEMU 512 MiB + vfio-pci: exec to query-pci", "s", t, None, v, ratio(v, t),
        "", None, cells={"a": fmt_num(t, 2), "vfiocompat": fmt_num(v, 2)},
        detail={"samples_s": s, "median_s": {k: median(x) for k, x in s.items()},
                "figure": "minimum over rounds"})


def section_cpr(a):
    """7: QEMU's live update with a vfio-pci device, its iommufd backend against the legacy
    container under vfiocompat, same guest, same run (tests/e2e/cpr-drive.py does one update)"""
    out = a.out
    for f in ("cpr_guest.sh",):
        shutil.copy(os.path.join(HERE, f), os.path.join(out, f))
    payload = os.path.join(out, "nested-loop.bin")
    obj = os.path.join(a.tmp, "nested-loop.o")
    p = run(["cc", "-m32", "-DCPR_LOOP", "-c", "-o", obj, os.path.join(TOP, "tests", "e2e", "nested-dma.S")])
    if p.returncode == 0:
        p = run(["ld", "-m", "elf_i386", "-Ttext=0xffff0000", "--oformat", "binary", "-o", payload, obj])
    if p.returncode:
        failures.append("7: cannot build the nested firmware: " + (p.stderr or "").strip())
        return
    rounds = 1 if a.smoke else 7
    lib = os.path.join(a.build, "shim", "libvfiocompat.so")
    # the rig of tests/e2e/e2e-run's cpr scenario: a second edu alone behind a PCI bridge, no ACPI or
    # IO-APIC IRQ routing (tests/e2e/README.md, "QEMU 11.1 live update"; guest-lib.sh: cpr_edu)
    argv = [os.path.join(TOP, "tests", "vm", "vm-run"), "--kernel", "7.2", "--root", "sid", "--mem", "1024",
            "--append", "acpi=noirq noapic",
            "--qemu-arg", "-device", "--qemu-arg", "pci-bridge,id=cprbr,chassis_nr=1,bus=pcie.0,addr=0x10",
            "--qemu-arg", "-device", "--qemu-arg", "edu,bus=cprbr,addr=01.0",
            "--out", out, "--timeout", "900", "--", os.path.join(out, "cpr_guest.sh"),
            os.path.join(TOP, "tests", "e2e", "cpr-drive.py"), out, lib, payload, str(rounds)]
    log("guest 7.2 sid (section 7): " + " ".join(argv[:5]) + " ...")
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    log("guest 7.2 sid: exit %d after %.0f s" % (p.returncode, time.monotonic() - t0))
    with open(os.path.join(out, "guest-cpr.log"), "w") as f:
        f.write(p.stdout + "\n--- stderr ---\n" + p.stderr)
    if p.returncode == 125:
        failures.append("7: the guest rig failed: " + (p.stderr.strip().splitlines() or ["?"])[-1])
        return
    res = {}
    for l in p.stdout.splitlines():
        m = re.match(r"cpr (\w+) (\w+) (\d+) (handover ([0-9.]+)|fail (.*))$", l)
        if m:
            d = res.setdefault(m.group(1), {}).setdefault(m.group(2), {"s": [], "fail": []})
            if m.group(5):
                d["s"].append(float(m.group(5)))
            else:
                d["fail"].append(m.group(6))
    for mode in ("transfer", "exec"):
        cols = res.get(mode, {})
        n = cols.get("native", {"s": [], "fail": ["not run"]})
        v = cols.get("vfiocompat", {"s": [], "fail": ["not run"]})
        t, x = best(n["s"]), best(v["s"])
        # a column that never completed shows why (the first reason; all are in the detail)
        cells = {"a": fmt_num(t, 3) if t is not None else "failed: " + n["fail"][0],
                 "vfiocompat": fmt_num(x, 3) if x is not None else "failed: " + v["fail"][0]}
        for name, d in (("iommufd backend", n), ("vfiocompat", v)):
            if d["fail"]:
                failures.append("7 cpr-%s %s: %d of %d attempts failed: %s" % (
                    mode, name, len(d["fail"]), len(d["fail"]) + len(d["s"]), d["fail"][0]))
        r = ratio(x, t)
        add(7, "cpr-%s handover" % mode, "s", t, None, x, r, "≤ 1.1×",
            None if r is None else r <= 1.1, cells=cells,
            detail={"samples_s": {"native": n["s"], "vfiocompat": v["s"]},
                    "failures": {"native": n["fail"], "vfiocompat": v["fail"]},
                    "figure": "minimum over rounds"})
    notes.append("7: the edu behind a bridge, without a legacy IRQ, vfio-pci x-no-mmap=on: the rig in which "
                 "QEMU 11.1.3's live update completes (tests/e2e/README.md); a failed column names why")


# ------------------------------------------------------------------ output

def machine():
    m = {}
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name"):
                    m["cpu"] = l.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    m["cores"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            m["mem_gib"] = round(int(f.readline().split()[1]) / 1048576.0, 1)
    except OSError:
        pass
    m["kernel"] = platform.release()
    try:
        with open("/etc/os-release") as f:
            for l in f:
                if l.startswith("PRETTY_NAME="):
                    m["os"] = l.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    for pkg in ("valgrind", "umockdev", "qemu-system-x86", "strace"):
        p = run(["dpkg-query", "-W", "-f=${Version}", pkg])
        if p.returncode == 0:
            m[pkg] = p.stdout.strip().split(":", 1)[-1]
    p = run(["git", "-C", TOP, "describe", "--always", "--dirty"])
    if p.returncode == 0:
        m["commit"] = p.stdout.strip()
    return m


def cell_of(r, key):
    c = r["cells"].get(key)
    if c is not None:
        return c
    x = r["vfiocompat" if key == "vfiocompat" else key]
    return fmt_num(x, 0 if r["section"] in (1, 3) else 2)


def table_md():
    out = ["| # | row | unit | A | B | vfiocompat | ratio | target | met |",
           "|---|---|---|---|---|---|---|---|---|"]
    last = None
    for r in rows:
        s = r["section"]
        if s != last:
            title, an, bn, rn = SECTIONS[s]
            out.append("| **%d** | **%s** | | *%s* | *%s* | | *%s* | | |" %
                       (s, title, an, bn or "—", rn))
            last = s
        rr = "—" if r["ratio"] is None else ("%.2f×" % r["ratio"] if r["ratio"] < 100
                                            else "%.0f×" % r["ratio"])
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            s, r["row"], r["unit"], cell_of(r, "a"), cell_of(r, "b"), cell_of(r, "vfiocompat"),
            rr, r["target"], met))
    return "\n".join(out)


def write_outputs(a, meta):
    with open(os.path.join(a.out, "bench.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["section", "row", "unit", "a_label", "a", "b_label", "b", "vfiocompat",
                    "ratio", "ratio_of", "target", "met"])
        for r in rows:
            _, an, bn, rn = SECTIONS[r["section"]]
            w.writerow([r["section"], r["row"], r["unit"], an, "" if r["a"] is None else r["a"],
                        bn, "" if r["b"] is None else r["b"],
                        "" if r["vfiocompat"] is None else r["vfiocompat"],
                        "" if r["ratio"] is None else "%.4f" % r["ratio"], rn, r["target"],
                        "" if r["met"] is None else ("yes" if r["met"] else "no")])
    doc = dict(meta)
    doc["sections"] = {str(k): {"title": v[0], "a": v[1], "b": v[2], "ratio": v[3]}
                       for k, v in SECTIONS.items()}
    doc["rows"] = rows
    doc["failures"] = failures
    doc["notes"] = notes
    with open(os.path.join(a.out, "bench.json"), "w") as f:
        json.dump(doc, f, indent=1, default=str)


def main():
    ap = argparse.ArgumentParser(description="vfiocompat benchmarks (use scripts/bench)")
    ap.add_argument("--build", required=True, help="build tree with bench/ and shim/")
    ap.add_argument("--out", help="output directory (default BUILD/bench-out)")
    ap.add_argument("--smoke", action="store_true", help="small counts: does every row run")
    ap.add_argument("--only", default="1,2,3,4,5,6", help="sections to run, e.g. 1,3 (7 only when named)")
    ap.add_argument("--host-only", action="store_true", help="skip the guest sections (2, 4, 5, 6, 7)")
    ap.add_argument("--nogroup-kernel", default="7.2",
                    help="section 6: this kernel and its -nogroup build (tests/vm/vm-run --kernel)")
    ap.add_argument("--kernels", default="6.12,7.2",
                    help="guest kernels (tests/vm/vm-run --kernel): section 2 runs in each, "
                         "sections 4 and 5 in the first")
    ap.add_argument("--command", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.out = os.path.abspath(a.out or os.path.join(a.build, "bench-out"))
    os.makedirs(a.out, exist_ok=True)
    a.tmp = tempfile.mkdtemp(prefix="vfiocompat-bench-")
    a.guest_info = {}
    a.kernels = [k.strip() for k in a.kernels.split(",") if k.strip()]
    want = {int(x) for x in a.only.split(",") if x.strip()}
    if a.host_only:
        want -= {2, 4, 5, 6, 7}
    t0 = time.monotonic()
    try:
        if 1 in want:
            log("1 pass-through (callgrind)")
            section_passthru(a)
            section_trapcost(a)
        if 3 in want:
            log("3 scaling (callgrind)")
            section_scale(a)
        if want & {2, 4, 5}:
            log("2, 4, 5 in the guest")
            section_guest(a, want)
        if 6 in want:
            log("6 group-less kernel, in two guests")
            section_groups(a)
        if 7 in want:
            log("7 cpr handover, in the 7.2 guest with the sid root")
            section_cpr(a)
    finally:
        shutil.rmtree(a.tmp, ignore_errors=True)
    rows.sort(key=lambda r: r["section"])
    meta = {"command": a.command or "scripts/bench" + (" --smoke" if a.smoke else ""),
            "smoke": a.smoke, "date": time.strftime("%Y-%m-%d"),
            "elapsed_s": round(time.monotonic() - t0), "machine": machine(),
            "guest": a.guest_info}
    write_outputs(a, meta)
    mach = meta["machine"]
    print("vfiocompat benchmarks%s, %s; %s, %s cores, %s GiB, %s, kernel %s; guest: tests/vm "
          "(QEMU %s TCG, kernel %s)" % (
              " (SMOKE: small counts, figures not meaningful)" if a.smoke else "",
              meta["date"], mach.get("cpu", "?"), mach.get("cores"), mach.get("mem_gib"),
              mach.get("os", "?"), mach.get("kernel"), mach.get("qemu-system-x86", "?"),
              ", ".join(i.get("kernel", k + "?") for k, i in a.guest_info.items()) or "—"))
    print()
    print(table_md())
    print()
    for n in notes:
        print("* " + n)
    if notes:
        print()
    print("A/B/ratio per section are in the section's header row. Also written: %s/bench.csv, "
          "bench.json (%d s)" % (a.out, meta["elapsed_s"]))
    for f in failures:
        log("NOT MEASURED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
