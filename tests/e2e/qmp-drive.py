#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drive an unmodified qemu-system-x86_64 with a vfio-pci device over QMP (in the e2e guest).

qmp-drive.py --mode basic|hotplug|dma|p2p --bdf BDF [--bdf2 BDF2 --group2 N2] --group N --json OUT.json [--tag T]
             [--payload nested-dma.bin --console FILE] [--] [LAUNCHER...]

LAUNCHER (e.g. "scripts/vfiocompat-run --lib ... --") is put in front of QEMU's command line;
without it QEMU uses the real type1 container. QEMU runs under TCG with -S: no guest code runs,
QEMU itself realizes the device and maps guest RAM for DMA.

  basic    -device vfio-pci,host=BDF on pcie.0: query-pci must list the edu (1234:11e8);
           memory hotplug (memory-backend-ram + pc-dimm) must be accepted and listed; quit.
  hotplug  native PCIe hotplug on a root port that is empty at start (the only setup in which
           QEMU completes device_del without a guest OS acking the eject): device_add vfio-pci,
           device_del (DEVICE_DELETED), device_add again; quit.
  dma      -bios PAYLOAD (nested-dma.S): the nested firmware drives the edu's DMA engine.
  p2p      dma with BDF2 (the e1000e) passed through too: the firmware has edu DMA into and
           out of the e1000e's BAR (peer-to-peer through the IOMMU).

Every step writes "E2E <tag> <step>" to the ftrace marker so the kernel trace can be cut into
phases, snapshots QEMU's open fds from /proc/PID/fd, and is timed. After QEMU exits, no
process may hold /dev/iommu, /dev/vfio/vfio or the group. OUT.json holds what was
observed; check.py (host) judges it. Exit status 0 iff QEMU did every step and exited 0."""
import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time

MARKER = "/sys/kernel/tracing/trace_marker"
EDU = (0x1234, 0x11e8)

ap = argparse.ArgumentParser()
ap.add_argument("--mode", required=True, choices=("basic", "hotplug", "dma", "p2p"))
ap.add_argument("--bdf2")
ap.add_argument("--group2")
ap.add_argument("--payload")
ap.add_argument("--console")
ap.add_argument("--bdf", required=True)
ap.add_argument("--group", required=True)
ap.add_argument("--json", required=True)
ap.add_argument("--tag", default="")
ap.add_argument("--stderr", default=os.devnull)
ap.add_argument("launcher", nargs="*")
opt = ap.parse_args()
tag = opt.tag or opt.mode
T0 = time.monotonic()
obs = {"mode": opt.mode, "tag": tag, "steps": [], "fds": {}, "status": {}, "ok": False}


def el():
    return round(time.monotonic() - T0, 3)


def say(msg):
    print("e2e-guest: [%s %6.2fs] %s" % (tag, el(), msg), flush=True)


def mark(step):
    try:
        with open(MARKER, "w") as f:
            f.write("E2E %s %s\n" % (tag, step))
    except OSError:
        pass


sock_path = "/tmp/e2e-qmp-%s-%d.sock" % (tag, os.getpid())
qemu = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-nodefaults", "-nographic",
        "-S", "-qmp", "unix:%s,server=on,wait=off" % sock_path]
if opt.mode == "basic":
    qemu += ["-m", "128,slots=2,maxmem=512M", "-device", "vfio-pci,host=%s,id=hv" % opt.bdf]
elif opt.mode in ("dma", "p2p"):
    qemu += ["-m", "128", "-bios", opt.payload,
             "-chardev", "file,id=dbg,path=%s" % opt.console, "-device", "isa-debugcon,chardev=dbg,iobase=0xe9",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-device", "vfio-pci,host=%s,id=hv" % opt.bdf]
    if opt.mode == "p2p":
        qemu += ["-device", "vfio-pci,host=%s,id=hv2" % opt.bdf2]
else:
    qemu += ["-m", "128", "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
             "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1"]
argv = list(opt.launcher) + qemu
obs["argv"] = argv
mark("exec")
say("exec " + " ".join(argv))
errf = open(opt.stderr, "w")
proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)


def snapshot(name):
    """QEMU's fds (as the kernel sees them) and pinned/locked memory, at step NAME"""
    fds = {}
    try:
        d = "/proc/%d/fd" % proc.pid
        for n in os.listdir(d):
            try:
                fds[n] = os.readlink(os.path.join(d, n))
            except OSError:
                pass
        st = {}
        with open("/proc/%d/status" % proc.pid) as f:
            for line in f:
                if line.startswith(("VmPin:", "VmLck:")):
                    k, v = line.split(":", 1)
                    st[k] = int(v.split()[0])
    except OSError:
        return
    obs["fds"][name] = sorted(set(v for v in fds.values()
                                  if v.startswith(("/dev/vfio", "/dev/iommu", "anon_inode:[vfio",
                                                   "/sys/kernel/iommu_groups/"))))
    obs["status"][name] = st


def vfio_fds():
    return [p for p in obs["fds"].get("_probe", []) if p.startswith(("/dev/vfio", "/dev/iommu"))]


def holders(paths, prefixes=()):
    """pids of the processes that have one of PATHS (or a path under PREFIXES) open"""
    pids = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for n in os.listdir("/proc/%s/fd" % pid):
                link = os.readlink("/proc/%s/fd/%s" % (pid, n))
                if link in paths or link.startswith(tuple(prefixes)):
                    pids.add(int(pid))
        except OSError:
            pass
    return sorted(pids)


def finish(code):
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    obs["exit"] = proc.returncode
    obs["exit_ok"] = proc.returncode == (33 if opt.mode in ("dma", "p2p") else 0)
    # what QEMU held must be free again once it is gone
    time.sleep(0.2)
    nums = [opt.group] + ([opt.group2] if opt.mode == "p2p" else [])
    # on a kernel without groups the shim's group is a directory of /sys/kernel/iommu_groups
    # and its devices are the cdevs
    groups = {"/dev/vfio/" + n for n in nums} | {"/sys/kernel/iommu_groups/" + n for n in nums}
    obs["holders_after_exit"] = holders({"/dev/iommu", "/dev/vfio/vfio"} | groups, ("/dev/vfio/devices/",))
    mark("after-exit holders=%s" % json.dumps(obs["holders_after_exit"]).replace(" ", ""))
    obs["elapsed"] = el()
    with open(opt.json, "w") as f:
        json.dump(obs, f, indent=1)
    sys.exit(code)


s = None
while s is None:
    if proc.poll() is not None:
        say("QEMU exited before QMP was up (rc %s)" % proc.returncode)
        obs["steps"].append({"step": "start", "ok": False, "t": el()})
        finish(1)
    c = socket.socket(socket.AF_UNIX)
    try:
        c.connect(sock_path)
        s = c
    except OSError:
        c.close()
        time.sleep(0.02)
buf = b""
events = []


def readmsg(timeout):
    global buf
    end = time.monotonic() + timeout
    while b"\n" not in buf:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    line, buf = buf.split(b"\n", 1)
    return json.loads(line)


def qmp(name, args=None, timeout=60):
    m = {"execute": name}
    if args:
        m["arguments"] = args
    s.sendall((json.dumps(m) + "\n").encode())
    while True:
        r = readmsg(timeout)
        if r is None:
            return {"error": {"class": "e2e-timeout", "desc": "no answer in %ds" % timeout}}
        if "event" in r:
            events.append(r)
            continue
        return r


def wait_event(name, timeout):
    end = time.monotonic() + timeout
    while True:
        for e in events:
            if e["event"] == name:
                return e
        left = end - time.monotonic()
        if left <= 0:
            return None
        r = readmsg(left)
        if r is not None and "event" in r:
            events.append(r)


def step(name, ok, t0, **kw):
    d = {"step": name, "ok": bool(ok), "t": round(el() - t0, 3)}
    d.update(kw)
    obs["steps"].append(d)
    mark("done " + name)
    snapshot(name)
    say("%-22s %-4s %5.2fs %s" % (name, "ok" if ok else "FAIL", d["t"],
                                  " ".join("%s=%s" % kv for kv in kw.items())))
    return ok


def pci_list():
    out = []

    def walk(devs, bus):
        for d in devs:
            out.append({"bus": bus, "slot": d["slot"], "fn": d["function"], "vendor": d["id"]["vendor"],
                        "device": d["id"]["device"], "qdev_id": d.get("qdev_id", "")})
            br = d.get("pci_bridge")
            if br:
                walk(br.get("devices", []), br["bus"]["secondary"])
    for b in qmp("query-pci").get("return", []):
        walk(b["devices"], b["bus"])
    return out


def qom_vfio_ids():
    """ids of vfio-pci devices in QOM (query-pci cannot see behind a root port under -S:
    no firmware has numbered the bridge's secondary bus)"""
    ids = []
    for p in qmp("qom-list", {"path": "/machine/peripheral"}).get("return", []):
        if p["type"] == "child<vfio-pci>":
            ids.append(p["name"])
    return ids


def wait_fds(pred, timeout=5.0):
    """QEMU closes a device's fds from its RCU thread after DEVICE_DELETED: poll"""
    end = time.monotonic() + timeout
    while True:
        snapshot("_probe")
        if pred(vfio_fds()) or time.monotonic() > end:
            return vfio_fds()
        time.sleep(0.05)


ok = True
t = el()
greet = readmsg(60)
r = qmp("qmp_capabilities", timeout=120)
# machine init (vfio realize + pinning guest RAM for DMA) happens before QMP answers
ok &= step("qmp_ready", greet is not None and "return" in r, 0,
           qemu=greet["QMP"]["version"]["package"] if greet else None)

if opt.mode == "basic":
    t = el()
    devs = pci_list()
    edu = [d for d in devs if (d["vendor"], d["device"]) == EDU]
    ok &= step("query_pci", len(edu) == 1 and edu[0]["qdev_id"] == "hv", t,
               edu=("%02x:%02x.%x id=%s" % (edu[0]["bus"], edu[0]["slot"], edu[0]["fn"], edu[0]["qdev_id"])
                    if edu else "missing"))
    t = el()
    r1 = qmp("object-add", {"qom-type": "memory-backend-ram", "id": "mem1", "size": 128 << 20})
    r2 = qmp("device_add", {"driver": "pc-dimm", "id": "dimm1", "memdev": "mem1"})
    md = qmp("query-memory-devices").get("return", [])
    addr = md[0]["data"]["addr"] if md else None
    ok &= step("dimm_hotplug", "return" in r1 and "return" in r2 and len(md) == 1, t,
               addr=hex(addr) if addr is not None else None, size=md[0]["data"]["size"] if md else None,
               error=(r1.get("error") or r2.get("error") or {}).get("desc"))
elif opt.mode == "hotplug":
    snapshot("before_plug")
    t = el()
    r = qmp("device_add", {"driver": "vfio-pci", "host": opt.bdf, "id": "hv", "bus": "rp1"})
    ids = qom_vfio_ids()
    ok &= step("plug", "return" in r and ids == ["hv"], t, qom=",".join(ids),
               error=r.get("error", {}).get("desc"))
    t = el()
    r = qmp("device_del", {"id": "hv"})
    e = wait_event("DEVICE_DELETED", 10)
    ids = qom_vfio_ids()
    left = wait_fds(lambda f: not f)
    ok &= step("unplug", "return" in r and e is not None and not ids and not left, t,
               event="DEVICE_DELETED" if e else "none", qom=",".join(ids) or "-",
               vfio_fds_left=",".join(left) or "-")
    t = el()
    r = qmp("device_add", {"driver": "vfio-pci", "host": opt.bdf, "id": "hv2", "bus": "rp1"})
    ids = qom_vfio_ids()
    ok &= step("replug", "return" in r and ids == ["hv2"], t, qom=",".join(ids),
               error=r.get("error", {}).get("desc"))

if opt.mode in ("dma", "p2p"):
    # the firmware runs at once; isa-debug-exit ends QEMU with 33 if the DMA came back intact
    t = el()
    mark("cont")
    qmp("cont")
    try:
        rc = proc.wait(60)
    except subprocess.TimeoutExpired:
        rc = None
    try:
        con = open(opt.console, errors="replace").read()
    except OSError:
        con = ""
    last = [l for l in con.splitlines() if l.startswith("nested:")][-1:] or ["no output"]
    ok &= step("nested_dma", rc == 33 and (opt.mode == "dma" or last[0].startswith("nested: P2P")), t,
               exit=rc, console=last[0])
else:
    t = el()
    mark("quit")
    r = qmp("quit")
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        rc = None
    ok &= step("quit", "return" in r and rc == 0, t, rc=rc)
obs["events"] = [e["event"] for e in events]
obs["ok"] = bool(ok)
finish(0 if ok else 1)
