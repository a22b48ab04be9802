#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Judge an e2e scenario from what its guest part left in OUTDIR (run on the host by e2e-run).

check.py qemu|dpdk|secondary|cpr OUTDIR

Prints "e2e: ok   ..." / "e2e: FAIL ..." lines and a short report (calls seen, IOMMU page
sizes, packets counted); exit status 0 iff every check passed ("cpr": 77 if nothing failed but
QEMU's own crash kept some column from being judged, see check_cpr.py).

Evidence, all read from files (nothing here talks to the guest):
  ktrace-*.txt  the guest's ftrace buffer (see guest-lib.sh): container ioctls on the real
                /dev/vfio/vfio (vopen, vioctl), /dev/iommu ioctls (fdioctl), the IOMMU driver's
                page sizes (imap), the IOMMU core's map/unmap tracepoints, phase markers
  *.json        what qmp-drive.py observed over QMP and in /proc/PID/fd
  shim-*.log    the shim's own trace (VFIOCOMPAT_LOG=trace,iommufd)
  nic.pcap      the e1000e's traffic, written by the outer QEMU on the host (filter-dump)
  vtd.log       the outer QEMU's vtd_iotlb_page_update events: the vIOMMU's own page walks
                for the NIC's DMA, with the leaf entry it found (bit 7 = a superpage leaf)
"""
import collections
import json
import os
import re
import struct
import sys

FAILS = []


def ok(cond, msg):
    print("e2e: %s %s" % ("ok  " if cond else "FAIL", msg))
    if not cond:
        FAILS.append(msg)
    return cond


def info(msg):
    print("e2e:      " + msg)


def size(n):
    for u, s in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= u and n % u == 0:
            return "%d %s" % (n // u, s)
    return "%d B" % n


# ------------------------------------------------------------------ kernel trace
LINE = re.compile(r"^\s*(?P<comm>.+?)-(?P<pid>\d+)\s+(?:\(\s*(?P<tgid>\d+|-+)\)\s+)?\[\d+\]\s+\S+\s+"
                  r"(?P<ts>[\d.]+): (?P<ev>\w+): (?P<rest>.*)$")
KV = re.compile(r"(\w+)=(\S+)")
VFIO = {0x3b64: "GET_API_VERSION", 0x3b65: "CHECK_EXTENSION", 0x3b66: "SET_IOMMU",
        0x3b70: "IOMMU_GET_INFO", 0x3b71: "MAP_DMA", 0x3b72: "UNMAP_DMA", 0x3b75: "DIRTY_PAGES"}
IOMMUFD = {0x3b80: "DESTROY", 0x3b81: "IOAS_ALLOC", 0x3b82: "IOAS_ALLOW_IOVAS", 0x3b83: "IOAS_COPY",
           0x3b84: "IOAS_IOVA_RANGES", 0x3b85: "IOAS_MAP", 0x3b86: "IOAS_UNMAP", 0x3b87: "OPTION",
           0x3b88: "VFIO_IOAS", 0x3b89: "HWPT_ALLOC", 0x3b8a: "GET_HW_INFO", 0x3b8f: "IOAS_MAP_FILE"}


class Ev:
    __slots__ = ("comm", "pid", "tgid", "ts", "ev", "f", "text")


def read_trace(path):
    evs = []
    if not os.path.exists(path):
        return evs
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        e = Ev()
        e.comm, e.pid, e.ts, e.ev = m["comm"].strip(), int(m["pid"]), float(m["ts"]), m["ev"]
        e.tgid = int(m["tgid"]) if m["tgid"] and m["tgid"].isdigit() else e.pid
        e.text = m["rest"]
        e.f = {}
        for k, v in KV.findall(m["rest"]):
            try:
                e.f[k] = int(v, 0)
            except ValueError:
                e.f[k] = v
        if e.ev == "tracing_mark_write":
            e.text = m["rest"].strip()
        evs.append(e)
    return evs


def between(evs, start, end=None):
    """the events after the marker START up to the marker END (marker texts, prefix match)"""
    out, on = [], False
    for e in evs:
        if e.ev == "tracing_mark_write":
            if not on and e.text.startswith(start):
                on = True
                continue
            if on and end and e.text.startswith(end):
                break
        elif on:
            out.append(e)
    return out


def container_ops(evs):
    """DMA map/unmap calls as the kernel received them: type1 MAP/UNMAP_DMA on /dev/vfio/vfio,
    IOAS_MAP/UNMAP on /dev/iommu (the shim's), and VFIO MAP/UNMAP on /dev/iommu (kernel compat).
    Each: (op, iova, size, prot)."""
    ops = []
    for e in evs:
        f, cmd = e.f, e.f.get("cmd")
        if e.ev in ("vioctl", "fdioctl") and cmd == 0x3b71 and isinstance(f.get("w3"), int):
            fl = f["w0"] >> 32
            ops.append(("map", f["w2"], f["w3"], ("R" if fl & 1 else "") + ("W" if fl & 2 else "")))
        elif e.ev in ("vioctl", "fdioctl") and cmd == 0x3b72 and isinstance(f.get("w2"), int):
            ops.append(("unmap", f["w1"], f["w2"], ""))
        elif e.ev == "fdioctl" and cmd == 0x3b85 and isinstance(f.get("w4"), int):
            fl = f["w0"] >> 32
            ops.append(("map", f["w4"], f["w3"], ("R" if fl & 4 else "") + ("W" if fl & 2 else "")))
        elif e.ev == "fdioctl" and cmd == 0x3b86 and isinstance(f.get("w2"), int):
            ops.append(("unmap", f["w1"], f["w2"], ""))
    return ops


def ioctl_names(evs, kind):
    names = VFIO if kind == "vioctl" else {**VFIO, **IOMMUFD}
    return collections.Counter(names.get(e.f.get("cmd"), "%#x" % e.f.get("cmd", 0))
                               for e in evs if e.ev == kind)


def iommu_bytes(evs):
    """(bytes mapped, bytes really unmapped) by the IOMMU core"""
    m = sum(e.f.get("size", 0) for e in evs if e.ev == "map")
    u = sum(e.f.get("unmapped_size", 0) for e in evs if e.ev == "unmap")
    return m, u


def page_sizes(evs):
    """bytes mapped per IOMMU page size (intel_iommu_map_pages), counting only the IOVAs of the
    program's own maps (type1 also maps and unmaps 2 pages at IOVA 0 when it attaches a domain,
    to test for fine-grained superpages)"""
    maps = [(i, i + n) for op, i, n, _ in container_ops(evs) if op == "map"]
    c = collections.Counter()
    for e in evs:
        if e.ev == "imap" and any(a <= e.f["iova"] < b for a, b in maps):
            c[e.f["pgsize"]] += e.f["pgsize"] * e.f["pgcount"]
    return c


def kprobes(out):
    """the kprobes the guest could define on its kernel (guest-lib.sh writes kprobes.txt)"""
    p = os.path.join(out, "kprobes.txt")
    return {l.strip().split("/")[-1] for l in open(p)} if os.path.exists(p) else set()


def guest_kernel(out):
    p = os.path.join(out, "guest.env")
    env = dict(l.strip().split("=", 1) for l in open(p) if "=" in l) if os.path.exists(p) else {}
    return env.get("VM_KERNEL", "?")


def nogroup(out):
    """the (shim's) guest kernel had no VFIO groups (vm-run's VM_NOGROUP)"""
    p = os.path.join(out, "guest.env")
    env = dict(l.strip().split("=", 1) for l in open(p) if "=" in l) if os.path.exists(p) else {}
    return env.get("VM_NOGROUP") == "1"


def fmt_pages(c):
    return ", ".join("%s in %s pages" % (size(b), size(p)) for p, b in sorted(c.items(), reverse=True)) or "none"


def fmt_ops(ops, limit=8):
    s = ["%s %#x+%s%s" % (o, i, size(n), " " + p if p else "") for o, i, n, p in ops[:limit]]
    if len(ops) > limit:
        s.append("... %d more" % (len(ops) - limit))
    return "; ".join(s) or "none"


def shim_log(path):
    """the shim's trace: container calls and the iommufd calls they became.
    Returns (lines, MAP_DMA served by one kernel MAP (the compat MAP_DMA on the shim's own IOAS),
    MAP_DMA answered with an error, MAP_DMA of a device BAR served as a dma-buf: the compat
    MAP_DMA said EFAULT and one IOAS_MAP_FILE mapped it)."""
    if not os.path.exists(path):
        return [], 0, [], 0
    lines = open(path, errors="replace").read().splitlines()
    served, failed, bars = 0, [], 0
    for i, l in enumerate(lines):
        if "IOMMU_MAP_DMA(" in l:
            prev = lines[i - 1] if i else ""
            prev2 = lines[i - 2] if i > 1 else ""
            if l.endswith(") = 0") and "iommufd compat MAP_DMA(" in prev and prev.endswith(") = 0"):
                served += 1
            elif l.endswith(") = 0") and "iommufd IOAS_MAP_FILE(" in prev and prev.endswith(") = 0") \
                    and "iommufd compat MAP_DMA(" in prev2 and prev2.endswith("= EFAULT"):
                bars += 1
            elif not l.endswith(") = 0"):
                failed.append(l.rsplit("= ", 1)[-1])
    return lines, served, failed, bars


# QEMU's own words when a MAP_DMA fails: vfio_dma_map(container, iova, size, vaddr) = -errno
# (QEMU 7.2: vfio_dma_map(...); QEMU 10+: a warning "vfio_container_dma_map(...)", once per process)
QEMU_MAPFAIL = re.compile(r"vfio(?:_container)?_dma_map\(0x[0-9a-f]+, (0x[0-9a-f]+), (0x[0-9a-f]+), 0x[0-9a-f]+\) = (-\d+)")
# VFIO_CHECK_EXTENSION numbers QEMU 10.1+ asks besides the IOMMU types
EXT = {9: "VFIO_UNMAP_ALL", 10: "VFIO_UPDATE_VADDR"}


def type1_check_extension(evs):
    """[(extension, type1's answer)] in call order, from the vioctl kprobe and its kretprobe
    (an ioctl's return follows its entry on the same thread)"""
    pend, out = {}, []
    for e in evs:
        if e.ev == "vioctl":
            pend[e.pid] = e
        elif e.ev == "vioctlret" and e.pid in pend:
            c = pend.pop(e.pid)
            if c.f.get("cmd") == 0x3b65:
                out.append((c.f.get("arg"), e.f.get("ret")))
    return out


def shim_check_extension(lines):
    """[(extension, the shim's answer)] from its trace"""
    out = []
    for l in lines:
        m = re.search(r"VFIO_CHECK_EXTENSION\((\d+)\) = (\S+)", l)
        if m:
            out.append((int(m[1]), int(m[2]) if m[2].lstrip("-").isdigit() else m[2]))
    return out


def unmap_flags(evs, kind):
    """flags of every UNMAP_DMA the kernel received on KIND (vioctl: type1, fdioctl: /dev/iommu)"""
    return [e.f["w0"] >> 32 for e in evs if e.ev == kind and e.f.get("cmd") == 0x3b72 and isinstance(e.f.get("w0"), int)]


# ------------------------------------------------------------------ scenario: qemu
def check_qemu(out):
    evs = read_trace(os.path.join(out, "ktrace-qemu.txt"))
    ok(len(evs) > 0, "kernel trace present (%d events)" % len(evs))
    res = {}
    modes = [m for m in ("basic", "hotplug", "dma", "p2p") if os.path.exists(os.path.join(out, "type1-%s.json" % m))
             or os.path.exists(os.path.join(out, "shim-%s.json" % m))]
    ok("basic" in modes and "hotplug" in modes, "scenarios run: %s" % ", ".join(modes))
    if nogroup(out):
        info("group-less kernel %s: the shim's column ran there, serving the groups over the device "
             "cdevs; no VFIO container exists on it (no vfio_fops_open to probe); type1's column ran on %s"
             % (guest_kernel(out), open(os.path.join(out, "type1-kernel.txt")).read().strip().split("kernel ", 1)[-1]
                if os.path.exists(os.path.join(out, "type1-kernel.txt")) else "?"))
    for col in ("type1", "shim"):
        for mode in modes:
            tag = "%s-%s" % (col, mode)
            p = os.path.join(out, tag + ".json")
            if not ok(os.path.exists(p), "%s: qmp-drive.py result present" % tag):
                continue
            o = json.load(open(p))
            seg = between(evs, "E2E %s exec" % tag, "E2E %s after-exit" % tag)
            after = [e.text for e in evs if e.ev == "tracing_mark_write" and e.text.startswith("E2E %s after-exit" % tag)]
            res[tag] = (o, seg, after[0] if after else "")
    what = {"basic": "realize, query-pci, pc-dimm hotplug, quit",
            "hotplug": "vfio-pci plug, unplug, re-plug on an empty root port, quit",
            "dma": "the nested machine's firmware drives the passed-through edu's DMA engine",
            "p2p": "the same with an e1000e passed through too: edu DMA into and out of its BAR (P2P)"}
    # vfio-pci exports BARs as dma-bufs from 6.19: before, the shim answers a BAR map EFAULT
    kv = re.match(r"(\d+)\.(\d+)", guest_kernel(out))
    dmabuf = bool(kv) and (int(kv.group(1)), int(kv.group(2))) >= (6, 19)
    for mode in modes:
        print("e2e: --- QEMU %s: %s" % (mode, what[mode]))
        ops = {}
        for col in ("type1", "shim"):
            tag = "%s-%s" % (col, mode)
            if tag not in res:
                continue
            o, seg, after = res[tag]
            steps = " ".join("%s:%s(%.1fs)" % (s["step"], "ok" if s["ok"] else "FAIL", s["t"]) for s in o["steps"])
            ok(o["ok"] and o.get("exit_ok"), "%s: every step ok and QEMU exited %s: %s" % (tag, o.get("exit"), steps))
            allfds = set(p for v in o["fds"].values() for p in v)
            vopen = [e for e in seg if e.ev == "vopen"]
            if col == "shim":
                ok("/dev/vfio/vfio" not in allfds and any("/dev/iommu" in v for v in o["fds"].values()),
                   "%s: /proc/PID/fd shows /dev/iommu, never /dev/vfio/vfio (%s)" % (tag, ", ".join(sorted(allfds))))
                lines, served, failed, bars_p2p = shim_log(os.path.join(out, "shim-%s.log" % mode))
                fdio = [e for e in seg if e.ev == "fdioctl"]
                ok(not vopen and fdio and lines and o["steps"] and o["steps"][0]["ok"],
                   "%s: the real container /dev/vfio/vfio was opened %s while QEMU ran: "
                   "QMP answered, %d /dev/iommu ioctls reached the kernel, %d shim trace lines"
                   % (tag, "%d times (kernel probe)" % len(vopen) if "vopen" in kprobes(out)
                      else "never (this kernel has no container)", len(fdio), len(lines)))
                ops[col] = container_ops(seg)
                nmap = sum(1 for x in ops[col] if x[0] == "map")
                # a BAR map (dma-buf) is one compat MAP_DMA that says EFAULT, then one IOAS_MAP_FILE
                nfile = sum(1 for e in seg if e.ev == "fdioctl" and e.f.get("cmd") == 0x3b8f)
                ok(served > 0 and served + len(failed) + bars_p2p == nmap and nfile == bars_p2p,
                   "%s: shim trace: %d MAP_DMA served by one kernel MAP_DMA on the shim's IOAS%s%s; the kernel saw %d "
                   "maps and %d IOAS_MAP_FILE" % (
                       tag, served, " (+%d failed: %s)" % (len(failed), ", ".join(failed)) if failed else "",
                       ", %d of a device BAR (P2P) served as a dma-buf with IOAS_MAP_FILE" % bars_p2p if bars_p2p else "",
                       nmap, nfile))
                # once the nested firmware enables a passed-through BAR, QEMU maps the BAR's mmap (a
                # VM_PFNMAP range) for P2P DMA; type1 maps it; before 6.19 the shim cannot (listed
                # difference, README "Differences from type1"), from 6.19 it maps it as a dma-buf
                qe = os.path.join(out, "qemu-%s.stderr" % tag)
                qtext = open(qe, errors="replace").read() if os.path.exists(qe) else ""
                qerr = QEMU_MAPFAIL.findall(qtext)
                bars = [(int(i, 16), int(n, 16)) for i, n, e in qerr if e == "-14" and int(i, 16) == 0xfe000000]
                want_bars = mode in ("dma", "p2p") and not dmabuf
                # QEMU 10+ adds "PCI peer-to-peer transactions on BARs are not supported"
                ok(len(qerr) == len(failed) == len(bars) and want_bars == bool(bars)
                   and (want_bars or "peer-to-peer" not in qtext)
                   and (bars_p2p > 0) == (mode in ("dma", "p2p") and dmabuf),
                   "%s: MAP_DMA errors: %s" % (tag, "; ".join(
                       "iova %#x size %s (the edu's BAR0 mmap, P2P): EFAULT, type1 maps it (listed difference: "
                       "MMIO/P2P before 6.19), QEMU logs it and goes on" % (i, size(n)) for i, n in bars) or
                       ("none: QEMU logged no P2P warning" if mode in ("dma", "p2p") else "none")))
                info("%s: /dev/iommu ioctls: %s" % (tag, ", ".join("%s %d" % kv for kv in sorted(ioctl_names(seg, "fdioctl").items()))))
            else:
                ok("/dev/vfio/vfio" in allfds and "/dev/iommu" not in allfds,
                   "%s: /proc/PID/fd shows /dev/vfio/vfio (%s)" % (tag, ", ".join(sorted(allfds))))
                qe = os.path.join(out, "qemu-%s.stderr" % tag)
                qerr = QEMU_MAPFAIL.findall(open(qe, errors="replace").read()) if os.path.exists(qe) else []
                vmaps = [e for e in seg if e.ev == "vioctl" and e.f.get("cmd") == 0x3b71]
                ok(not qerr and vmaps and os.path.exists(qe),
                   "%s: no MAP_DMA failed (%s; type1 got %d MAP_DMA)" % (tag, qerr or "QEMU logged none", len(vmaps)))
                ok(len(vopen) >= 1, "%s: the real container was opened %d times" % (tag, len(vopen)))
                ops[col] = container_ops(seg)
                info("%s: container ioctls: %s" % (tag, ", ".join("%s %d" % kv for kv in sorted(ioctl_names(seg, "vioctl").items()))))
            m, u = iommu_bytes(seg)
            ok(m > 0 and m == u, "%s: IOMMU mapped %s, unmapped %s: no mapping left after quit" % (tag, size(m), size(u)))
            ok(after.endswith("holders=[]"), "%s: after exit no process holds /dev/iommu, /dev/vfio/vfio or the group (%s)"
               % (tag, after.split("after-exit ", 1)[-1]))
            info("%s: DMA maps/unmaps: %s" % (tag, fmt_ops(ops[col])))
            info("%s: IOMMU pages: %s" % (tag, fmt_pages(page_sizes(seg))))
            # per-step evidence
            if mode in ("dma", "p2p"):
                d = [x for x in o["steps"] if x["step"] == "nested_dma"]
                ok(d and d[0]["ok"], "%s: %s (QEMU exit %s)" % (tag, d[0]["console"] if d else "no result",
                                                               d[0]["exit"] if d else "-"))
            elif mode == "basic":
                dimm = [s for s in o["steps"] if s["step"] == "dimm_hotplug"]
                seg_d = between(evs, "E2E %s done query_pci" % tag, "E2E %s done dimm_hotplug" % tag)
                dops = container_ops(seg_d)
                want = ("map", int(dimm[0]["addr"], 16), dimm[0]["size"], "RW") if dimm and dimm[0].get("addr") else None
                ok(want is not None and dops == [want],
                   "%s: pc-dimm hotplug mapped the new RAM: %s" % (tag, fmt_ops(dops)))
            else:
                seg_u = between(evs, "E2E %s done plug" % tag, "E2E %s done unplug" % tag)
                seg_p = between(evs, "E2E %s exec" % tag, "E2E %s done plug" % tag)
                seg_r = between(evs, "E2E %s done unplug" % tag, "E2E %s done replug" % tag)
                # net bytes: type1 maps and unmaps 2 test pages when it attaches a domain
                # (vfio_test_domain_fgsp), so count what stayed mapped
                pm = (lambda m_u: m_u[0] - m_u[1])(iommu_bytes(seg_p))
                um_ops = [x for x in container_ops(seg_u) if x[0] == "unmap"]
                um, uu = iommu_bytes(seg_u)
                rm = (lambda m_u: m_u[0] - m_u[1])(iommu_bytes(seg_r))
                ok(pm > 0 and um == 0 and uu == pm, "%s: unplug unmapped all that plug left mapped (%s; %d unmaps)"
                   % (tag, size(pm), len(um_ops)))
                ok(rm == pm, "%s: re-plug mapped it again (%s)" % (tag, size(rm)))
        if "type1" in ops and "shim" in ops:
            ok(ops["type1"] == ops["shim"], "%s: the shim's DMA map/unmap sequence equals type1's (%d calls)"
               % (mode, len(ops["type1"])))
            # CHECK_EXTENSION: each extension's first answer, type1 (kernel) vs the shim (its trace);
            # 10 (VFIO_UPDATE_VADDR) is the listed difference: the shim says 0
            t1 = type1_check_extension(res["type1-" + mode][1])
            sh = shim_check_extension(shim_log(os.path.join(out, "shim-%s.log" % mode))[0])
            first = lambda xs: {n: r for n, r in reversed(xs)}
            f1, fs = first(t1), first(sh)
            diff = {n for n in fs if f1.get(n) != fs[n]}
            listed = {10} if f1.get(10) == 1 and fs.get(10) == 0 else set()
            ok(t1 and sh and set(fs) <= set(f1) and diff <= listed,
               "%s: CHECK_EXTENSION answered as type1 on %s: type1 %s; shim %s%s" % (
                   mode, guest_kernel(out), " ".join("%d=%s" % x for x in t1) or "none seen",
                   " ".join("%d=%s" % x for x in sh) or "none seen",
                   "; differs in %s%s" % (",".join(map(str, sorted(diff))),
                                          " (the listed VFIO_UPDATE_VADDR: type1 1, shim 0)" if diff == listed else "")
                   if diff else ""))
            for n, name in sorted(EXT.items()):
                if n in f1 or n in fs:
                    info("%s: QEMU asked CHECK_EXTENSION(%d) %s: type1 %d times (answer %s), shim %d times (answer %s)" % (
                        mode, n, name, sum(1 for x, _ in t1 if x == n), f1.get(n), sum(1 for x, _ in sh if x == n), fs.get(n)))
            u1 = unmap_flags(res["type1-" + mode][1], "vioctl")
            us = [int(m[1], 16) for m in (re.search(r"VFIO_IOMMU_UNMAP_DMA\(.*flags=(0x[0-9a-f]+|0)", l)
                                            for l in shim_log(os.path.join(out, "shim-%s.log" % mode))[0]) if m]
            a1, as_ = sum(1 for f in u1 if f & 2), sum(1 for f in us if f & 2)
            ok(len(u1) == len(us) and a1 == as_, "%s: UNMAP_DMA calls type1 %d, shim %d; with VFIO_DMA_UNMAP_FLAG_ALL: "
               "type1 %d, shim %d" % (mode, len(u1), len(us), a1, as_))
            a, b = res["type1-" + mode][0], res["shim-" + mode][0]
            strip = lambda o: [{k: v for k, v in s.items() if k != "t"} for s in o["steps"]]
            ok(strip(a) == strip(b), "%s: QMP observations equal in both columns: %s" %
               (mode, "; ".join("%s %s" % (s["step"], " ".join("%s=%s" % (k, v) for k, v in s.items()
                                                              if k not in ("step", "ok", "t") and v is not None))
                                for s in strip(b)).strip()))


# ------------------------------------------------------------------ scenario: dpdk
def tp_log(out, name):
    p = os.path.join(out, "testpmd-%s.log" % name)
    t = open(p, errors="replace").read() if os.path.exists(p) else ""
    tx = re.findall(r"TX-total:\s*(\d+)", t)
    drop = re.findall(r"TX-dropped:\s*(\d+)", t)
    return t, (int(tx[-1]) if tx else None), (int(drop[-1]) if drop else None)


def pcap_frames(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        return None, []
    magic = struct.unpack_from("<I", data)[0]
    en = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, frames = 24, collections.Counter()
    while off + 16 <= len(data):
        incl = struct.unpack_from(en + "I", data, off + 8)[0]
        frames[data[off + 16:off + 16 + incl]] += 1
        off += 16 + incl
    return struct.unpack_from(en + "I", data, 20)[0], frames


def ip_csum(h):
    s = sum(struct.unpack("!10H", h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def txonly_frame(log):
    """the frame testpmd's txonly engine sends, from its log (port MAC, peer MAC, packet
    length) and its fixed defaults: IPv4 198.18.0.1 -> 198.18.0.2, TTL 64, UDP 9 -> 9; the
    payload is the untouched (zeroed hugepage) mbuf data"""
    src = re.search(r"Port 0: ([0-9A-Fa-f:]{17})", log)
    dst = re.search(r"peer=([0-9A-Fa-f:]{17})", log)
    ln = re.search(r"packet len=(\d+)", log)
    if not (src and dst and ln):
        return None
    n = int(ln.group(1))
    mac = lambda s: bytes(int(x, 16) for x in s.split(":"))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, n - 14, 0, 0, 64, 17, 0, bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    ip = ip[:10] + struct.pack("!H", ip_csum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", 9, 9, n - 34, 0)
    return mac(dst.group(1)) + mac(src.group(1)) + b"\x08\x00" + ip + udp + bytes(n - 42)


def sid_of(bdf):
    m = re.match(r"(?:[0-9a-f]{4}:)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])", bdf or "")
    return (int(m[1], 16) << 8 | int(m[2], 16) << 3 | int(m[3])) if m else None


def check_dpdk(out):
    env = dict(l.strip().split("=", 1) for l in open(os.path.join(out, "guest.env")) if "=" in l) \
        if os.path.exists(os.path.join(out, "guest.env")) else {}
    log, tx, drop = tp_log(out, "shim")
    print("e2e: --- DPDK testpmd txonly on the e1000e under vfiocompat")
    for want in ("EAL: Using IOMMU type 1 (Type 1)", "Probe PCI driver: net_e1000_em"):
        ok(want in log, "testpmd: '%s'" % want)
    ok(tx is not None and tx > 0 and drop == 0, "testpmd reports TX-total %s, TX-dropped %s" % (tx, drop))
    fds = open(os.path.join(out, "testpmd-shim.fds")).read() if os.path.exists(os.path.join(out, "testpmd-shim.fds")) else ""
    ok("/dev/iommu" in fds and "/dev/vfio/vfio" not in fds, "testpmd's fds: /dev/iommu, no /dev/vfio/vfio (%s)" %
       ", ".join(sorted(set(l.split(" -> ")[1] for l in fds.splitlines() if " -> /dev/vfio" in l or " -> /dev/iommu" in l))))
    pin = re.search(r"VmPin:\s*(\d+)", fds)
    evs = read_trace(os.path.join(out, "ktrace-dpdk-shim.txt"))
    seg = between(evs, "E2E dpdk-shim start", "E2E dpdk-shim stopped")
    lines, served, _, _ = shim_log(os.path.join(out, "shim-shim.log"))
    ops = container_ops(seg)
    maps = [x for x in ops if x[0] == "map"]
    ok(not [e for e in seg if e.ev == "vopen"] and maps and served,
       "the real container /dev/vfio/vfio was never opened (%s) while testpmd mapped %d times through /dev/iommu"
       % ("kernel probe" if "vopen" in kprobes(out) else "this kernel has no container", len(maps)))
    setiommu = [l for l in lines if "SET_IOMMU(" in l]
    ok(setiommu and "SET_IOMMU(1)" in setiommu[0], "DPDK chose VFIO_TYPE1_IOMMU (v1): %s" % (setiommu[0].split(": ", 1)[-1] if setiommu else "no SET_IOMMU"))
    ok(served == len(maps) and maps, "shim trace: %d MAP_DMA served by one kernel MAP_DMA on the shim's IOAS (kernel saw %d maps: %s)"
       % (served, len(maps), ", ".join("%s x%d" % (size(s), n) for s, n in sorted(collections.Counter(x[2] for x in maps).items()))))
    info("/dev/iommu ioctls: %s" % ", ".join("%s %d" % kv for kv in sorted(ioctl_names(seg, "fdioctl").items())))
    if pin:
        info("testpmd VmPin (iommufd's pinned pages) while forwarding: %s" % size(int(pin.group(1)) * 1024))
    huge = [x for x in maps if x[2] % (2 << 20) == 0 and x[1] % (2 << 20) == 0]
    # one MAP_DMA per 2 MiB hugepage since DPDK 23.07 (22.11 coalesced contiguous memsegs)
    ok(huge and len(huge) == len(maps), "vfiocompat: %d of %d v1 maps are whole 2 MiB hugepages (sizes: %s)"
       % (len(huge), len(maps), ", ".join(sorted(set(size(x[2]) for x in maps)))))
    imap = "imap" in kprobes(out)
    if imap:
        ps_shim = page_sizes(seg)
        ok(set(ps_shim) == {2 << 20}, "vfiocompat: the IOMMU driver mapped them in: %s" % fmt_pages(ps_shim))
    else:
        info("the guest's IOMMU page sizes are not observable on %s (no intel_iommu_map_pages: the generic page "
             "table picks them inside vtdss_map_range); judged on the host from the vIOMMU's page walks below"
             % guest_kernel(out))
    m, u = iommu_bytes(seg)
    ok(m > 0 and m == u, "IOMMU mapped %s, unmapped %s after testpmd exited" % (size(m), size(u)))

    # the same v1 maps on the real type1 and on the kernel's iommufd compat
    ng = nogroup(out)
    cols = () if ng else (("type1", 2 << 20, "type1"), ("compat", 4 << 10, "kernel compat"))
    sent = {"shim": tx}
    if ng:
        info("group-less kernel %s: the shim served the group over the device cdevs; type1 and the kernel "
             "compat cannot run here (both need groups): only the shim's column" % guest_kernel(out))
    else:
        print("e2e: --- the same v1 maps elsewhere (testpmd io --tx-first: one burst of 32 frames)")
    cevs = read_trace(os.path.join(out, "ktrace-dpdk-cols.txt")) if cols else []
    for col, want_ps, what in cols:
        clog, sent[col], _ = tp_log(out, col)
        cseg = between(cevs, "E2E dpdk-%s start" % col, "E2E dpdk-%s stopped" % col)
        cmaps = [x for x in container_ops(cseg) if x[0] == "map"]
        ps = page_sizes(cseg)
        ok("EAL: Using IOMMU type 1 (Type 1)" in clog and "Probe PCI driver: net_e1000_em" in clog and sent[col],
           "%s: testpmd started on the e1000e with v1, sent %s" % (what, sent[col]))
        if imap:
            ok(cmaps and set(ps) == {want_ps}, "%s: %d v1 maps -> IOMMU pages: %s" % (what, len(cmaps), fmt_pages(ps)))
        else:
            ok(cmaps, "%s: %d v1 maps (IOMMU pages: on the host, below)" % (what, len(cmaps)))
        if col == "compat":
            opened = [e for e in cseg if e.ev == "vopen"]
            ok(not opened and any(e.ev == "fdioctl" and e.f.get("cmd") == 0x3b71 for e in cseg),
               "kernel compat: MAP_DMA went to /dev/iommu (bind-mounted on /dev/vfio/vfio), type1 never opened")

    # the host's view: the pcap of the NIC and the vIOMMU's page walks
    print("e2e: --- on the host: the NIC's traffic (pcap) and the vIOMMU's page walks (QEMU trace)")
    want = txonly_frame(log)
    pcap = os.path.join(out, "nic.pcap")
    if ok(os.path.exists(pcap) and want is not None, "pcap %s present (%s bytes)" % (pcap, os.path.getsize(pcap) if os.path.exists(pcap) else "-")):
        lt, frames = pcap_frames(pcap)
        total = sum(frames.values())
        same = frames.get(want, 0)
        nsent = sum(v or 0 for v in sent.values())
        ok(total == same == nsent,
           "pcap holds %d frames, %d byte-identical to testpmd's txonly frame; testpmd sent %d (%s)"
           % (total, same, nsent, " + ".join("%s %s" % (k, v) for k, v in sent.items())))
        info("testpmd's frame (%d bytes): %s" % (len(want), want.hex()))
        for fr, n in frames.most_common(3):
            if fr != want:
                info("other frame x%d: %s" % (n, fr[:64].hex()))
    sid = sid_of(env.get("VM_NIC_BDF"))
    vtd = os.path.join(out, "vtd.log")
    if ok(os.path.exists(vtd) and sid is not None, "vIOMMU trace %s present (NIC source id %s)" % (vtd, hex(sid) if sid is not None else "?")):
        # the NIC's context entry is re-read once per testpmd run (a new domain each time):
        # vtd_iotlb_cc_update for its devfn starts a run; vtd_iotlb_page_update is a page walk
        # that ended in a leaf entry (bit 7 set: a superpage leaf, here 2 MiB)
        runs = []
        for l in open(vtd, errors="replace"):
            m = re.search(r"vtd_iotlb_cc_update .*bus 0x([0-9a-f]+) devfn 0x([0-9a-f]+)", l)
            if m and (int(m[1], 16) << 8 | int(m[2], 16)) == sid:
                runs.append([])
                continue
            m = re.search(r"vtd_iotlb_page_update .*sid 0x([0-9a-f]+) \w+ 0x([0-9a-f]+) slpte 0x([0-9a-f]+)", l)
            if m and int(m[1], 16) == sid and runs:
                runs[-1].append((int(m[2], 16), int(m[3], 16)))
        ok(len(runs) == 1 + len(cols), "the NIC's DMA ran in %d IOMMU domains (one per testpmd run)" % len(runs))
        for (col, want_leaf), fills in zip((("vfiocompat", "2 MiB"), ("type1", "2 MiB"), ("kernel compat", "4 KiB")), runs):
            kinds = collections.Counter("2 MiB" if pte & 0x80 else "4 KiB" for _, pte in fills)
            ok(fills and set(kinds) == {want_leaf}, "%s: the vIOMMU walked the NIC's DMA to %s leaf entries: %s"
               % (col, want_leaf, "; ".join(["%#x -> %#x" % f for f in fills[:3]] + (["... %d more" % (len(fills) - 3)] if len(fills) > 3 else []))))


# ------------------------------------------------------------------ scenario: secondary
def check_secondary(out):
    print("e2e: --- DPDK secondary process (dpdk-proc-info) beside a primary under vfiocompat")
    log, tx, drop = tp_log(out, "primary")
    ok("Probe PCI driver: net_e1000_em" in log and tx is not None and tx > 0,
       "primary testpmd txonly under the shim: TX-total %s" % tx)
    p = os.path.join(out, "procinfo.log")
    pi = open(p, errors="replace").read() if os.path.exists(p) else ""
    m = re.search(r"TX-packets:\s*(\d+)", pi)
    ok(m and int(m.group(1)) > 0, "dpdk-proc-info (a secondary) read the port's stats: TX-packets %s"
       % (m.group(1) if m else "none"))
    sfd = open(os.path.join(out, "secondary.fds")).read() if os.path.exists(os.path.join(out, "secondary.fds")) else ""
    held = sorted(set(l.split(" -> ")[1] for l in sfd.splitlines() if " -> /dev/" in l and ("vfio" in l or "iommu" in l)))
    evs = read_trace(os.path.join(out, "ktrace-secondary.txt"))
    seg = between(evs, "E2E dpdk-secondary start", "E2E dpdk-secondary exited")
    pidf = os.path.join(out, "secondary.pid")
    spid = {int(open(pidf).read())} if os.path.exists(pidf) else set()
    opened = [e for e in seg if e.ev == "fdopen" and e.tgid in spid]
    got = [e.text.split("fop=", 1)[-1].split("+")[0] for e in seg if e.ev == "rfd" and e.tgid in spid]
    ok(spid and "iommufd_fops" in got and not opened,
       "the secondary received the primary's container over DPDK's mp socket: a /dev/iommu fd "
       "(received: %s; /dev/iommu opened by it: %d)" % (", ".join(got) or "none", len(opened)))
    info("vfio fds seen in the secondary's /proc/PID/fd while it ran: %s" % (", ".join(held) or "none sampled"))
    # a fd of the real container could only come in by open (vopen) or over the socket (rfd:
    # vfio_fops); the kernel probes see both, the 0.1 s fd samples may miss a short run
    vopen_s = [e for e in seg if e.ev == "vopen" and e.tgid in spid]
    probed = "vopen" in kprobes(out)
    ok(spid and "iommufd_fops" in got and "vfio_fops" not in got and not vopen_s,
       "the secondary never held /dev/vfio/vfio: received %s, opened /dev/vfio/vfio %s"
       % (", ".join(got) or "none", "%d times (kernel probes)" % len(vopen_s) if probed
          else "never (this kernel has no container)"))
    if nogroup(out):
        # the cdev admits one bind per device: the secondary's GET_DEVICE_FD is the primary's
        # device file, duplicated with pidfd_getfd (which the receive_fd probe sees as well)
        ok("vfio_device_fops" in got and "kernfs_dir_fops" in got,
           "group-less kernel: the secondary got the shim's group over the mp socket (kernfs_dir_fops) and "
           "its device fd from the primary (vfio_device_fops, pidfd_getfd): received %s" % ", ".join(got))
    if held:
        ok("/dev/vfio/vfio" not in held, "the secondary's fd samples show no /dev/vfio/vfio (%s)" % ", ".join(held))
    popen = [e for e in evs if e.ev == "fdopen"]
    ok(popen and not [e for e in evs if e.ev == "vopen"],
       "nobody opened the real /dev/vfio/vfio (%s; /dev/iommu was opened %d times)"
       % ("kernel probe" if probed else "this kernel has no container", len(popen)))
    sec_fd = ioctl_names([e for e in seg if e.tgid in spid], "fdioctl")
    lines, _, _, _ = shim_log(os.path.join(out, "shim-secondary.log"))
    calls = [l for l in lines if re.search(r": fd \d+ [A-Z_]+\(", l)]
    bad = [l for l in calls if re.search(r"= E[A-Z0-9]+$", l)]
    if calls:
        ok(not bad, "secondary's container calls through the shim: %d (%s)" % (len(calls), "; ".join(bad[:3]) or "all ok"))
    else:
        info("the secondary made no container call through the shim (nothing to judge there)")
    info("secondary's /dev/iommu ioctls (kernel probe): %s" %
         (", ".join("%s %d" % kv for kv in sorted(sec_fd.items())) or "none (DPDK's secondary makes no container call: "
          "the received fd is adopted lazily, only if used)"))
    psegs = between(evs, "E2E dpdk-primary start", "E2E dpdk-primary stopped")
    m, u = iommu_bytes(psegs)
    ok(m > 0 and m == u, "IOMMU mapped %s, unmapped %s after both exited" % (size(m), size(u)))


def check_cpr(out):
    import check_cpr as c
    return c.check(out, ok, info, between, read_trace, iommu_bytes, size)


def main():
    what, out = sys.argv[1], sys.argv[2]
    rc = {"qemu": check_qemu, "dpdk": check_dpdk, "secondary": check_secondary, "cpr": check_cpr}[what](out)
    if not FAILS and rc == 77:
        print("e2e: %s: NOT PASSING: every check that ran passed, but QEMU's own crash kept some columns from "
              "being judged (exit 77)" % what)
        sys.exit(77)
    print("e2e: %s: %s" % (what, "PASS" if not FAILS else "FAIL (%d checks)" % len(FAILS)))
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
