#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Live-update (cpr) an unmodified qemu-system-x86_64 with a vfio-pci device, in the e2e guest.

cpr-drive.py --mode transfer|exec --backend legacy|iommufd --bdf BDF --payload nested-loop.bin
             --json OUT.json --dir DIR [--tag T] [--] [LAUNCHER...]

The old QEMU runs a nested machine whose firmware (nested-dma.S built with CPR_LOOP) repeats an
edu DMA round trip (RAM -> edu -> RAM, through the container's mappings of QEMU's guest RAM)
and counts the rounds that matched at guest address 0x300000. Guest RAM is a shared memfd
(memory-backend-memfd,share=on; aux-ram-share=on), as cpr requires. Once the counter moves, the
old QEMU is live-updated to a new QEMU process:

  transfer  cpr-transfer: a new QEMU with the same arguments plus -incoming (main: tcp on
            127.0.0.1, cpr: a unix socket) is started; the old one gets
            migrate-set-parameters mode=cpr-transfer and migrate with both channels; the old
            one is quit once the new one runs.
  exec      cpr-exec: migrate-set-parameters mode=cpr-exec with cpr-exec-command (the same
            arguments plus -incoming file:STATE), migrate uri=file:STATE; the process execs
            the new QEMU in place (same pid).

LAUNCHER (e.g. vfiocompat-run ... --) goes in front of both QEMUs; cpr-exec's new QEMU inherits
its environment. --backend iommufd uses QEMU's own iommufd backend instead of the legacy
container (the reference).

Observed: the answers to migrate (a cpr blocker shows here), when the new QEMU reported
"running" (handover time from the migrate command), the counter before and after, VmLck of the
old and the new process, the old one's exit status (a signal is negative), the vfio fds each
held, and whether anyone still holds the group after the end. OUT.json holds it all; check.py
(host) judges it. Exit status 0 iff the handover completed and the nested machine kept counting."""
import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time

MARKER = "/sys/kernel/tracing/trace_marker"
COUNTER = 0x300000

ap = argparse.ArgumentParser()
ap.add_argument("--mode", required=True, choices=("transfer", "exec"))
ap.add_argument("--backend", default="legacy", choices=("legacy", "iommufd"))
ap.add_argument("--bdf", required=True)
ap.add_argument("--group", required=True)
ap.add_argument("--payload", required=True)
ap.add_argument("--json", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--tag", default="")
ap.add_argument("launcher", nargs="*")
opt = ap.parse_args()
tag = opt.tag or opt.mode
T0 = time.monotonic()
obs = {"mode": opt.mode, "backend": opt.backend, "tag": tag, "steps": [], "ok": False}
D = opt.dir


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


def step(name, ok, **kw):
    d = {"step": name, "ok": bool(ok), "t": el()}
    d.update(kw)
    obs["steps"].append(d)
    mark("done " + name)
    say("%-16s %-4s %s" % (name, "ok" if ok else "FAIL", " ".join("%s=%s" % kv for kv in kw.items())))
    return ok


def status(pid):
    st = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmPin:", "VmLck:")):
                    k, v = line.split(":", 1)
                    st[k] = int(v.split()[0])
    except OSError:
        pass
    return st


def vfio_fds(pid):
    fds = set()
    try:
        for n in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, n))
            except OSError:
                continue
            if t.startswith(("/dev/vfio", "/dev/iommu", "anon_inode:[vfio")):
                fds.add(t)
    except OSError:
        pass
    return sorted(fds)


def holders(paths):
    pids = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for n in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, n)) in paths:
                    pids.add(int(pid))
        except OSError:
            pass
    return sorted(pids)


class Qmp:
    def __init__(self, path, alive, timeout=120):
        self.s, self.buf, self.events = None, b"", []
        end = time.monotonic() + timeout
        while self.s is None:
            if not alive() or time.monotonic() > end:
                raise OSError("no QMP on %s" % path)
            c = socket.socket(socket.AF_UNIX)
            try:
                c.connect(path)
                self.s = c
            except OSError:
                c.close()
                time.sleep(0.02)
        self.greet = self.read(60)
        self.cmd("qmp_capabilities")

    def read(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            try:
                d = self.s.recv(65536)
            except OSError:
                d = b""
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, args=None, timeout=60):
        m = {"execute": name}
        if args:
            m["arguments"] = args
        try:
            self.s.sendall((json.dumps(m) + "\n").encode())
        except OSError as e:
            return {"error": {"class": "e2e-closed", "desc": str(e)}}
        while True:
            r = self.read(timeout)
            if r is None:
                return {"error": {"class": "e2e-closed", "desc": "no answer in %ds (QMP closed?)" % timeout}}
            if "event" in r:
                self.events.append(dict(r, t=el()))
                continue
            return r

    def counter(self):
        r = self.cmd("human-monitor-command", {"command-line": "xp /1wu 0x%x" % COUNTER})
        try:
            return int(r["return"].split(":")[1].split()[0])
        except (KeyError, IndexError, ValueError):
            return None


def base_args(console, qmp_path):
    a = ["qemu-system-x86_64", "-accel", "tcg", "-nodefaults", "-nographic",
         "-machine", "q35,memory-backend=ram0,aux-ram-share=on",
         "-object", "memory-backend-memfd,id=ram0,size=128M,share=on", "-m", "128",
         "-bios", opt.payload, "-chardev", "file,id=dbg,path=%s" % console,
         "-device", "isa-debugcon,chardev=dbg,iobase=0xe9", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    # x-no-mmap: QEMU's iommufd backend also maps the BAR into the IOAS for peer-to-peer DMA, a
    # mapping IOMMU_IOAS_CHANGE_PROCESS refuses (pre-save fails: "some memory regions do not
    # support IOMMU_IOAS_CHANGE_PROCESS"); every column gets the same device
    if opt.backend == "iommufd":
        a += ["-object", "iommufd,id=iommufd0",
              "-device", "vfio-pci,host=%s,id=hv,iommufd=iommufd0,x-no-mmap=on" % opt.bdf]
    else:
        a += ["-device", "vfio-pci,host=%s,id=hv,x-no-mmap=on" % opt.bdf]
    # QEMU's own account of what it did to the device and when (stderr, timestamped): its
    # config writes (the command register), its resets and the cpr state it saved and loaded
    a += ["-msg", "timestamp=on", "-trace", "enable=vfio_pci_write_config", "-trace", "enable=cpr_state_*",
          "-trace", "enable=vfio_device_reset_handler", "-trace", "enable=vfio_pci_reset",
          "-trace", "enable=vfio_pci_hot_reset"]
    # E2E_CPR_QEMU_ARGS: extra words for both QEMUs, for a look inside (e.g. "-trace vfio_*")
    return a + os.environ.get("E2E_CPR_QEMU_ARGS", "").split() + ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]


def finish(code):
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    time.sleep(0.2)
    obs["holders_after_exit"] = holders({"/dev/iommu", "/dev/vfio/vfio", "/dev/vfio/" + opt.group})
    obs["elapsed"] = el()
    obs["ok"] = code == 0
    with open(opt.json, "w") as f:
        json.dump(obs, f, indent=1)
    sys.exit(code)


def wait_counter(q, above, n, timeout):
    """the counter, once it is at least N above ABOVE (None if QMP failed)"""
    end = time.monotonic() + timeout
    c = q.counter()
    while c is not None and c < above + n and time.monotonic() < end:
        time.sleep(0.2)
        c = q.counter()
    return c


procs = []
# sockets and the state file on the guest's tmpfs (DIR is a 9p share)
T = "/tmp/e2e-cpr-%s-%d" % (tag, os.getpid())
os.makedirs(T, exist_ok=True)
old_qmp, new_qmp, cpr_sock, state = (os.path.join(T, n) for n in ("old.qmp", "new.qmp", "cpr.sock", "vm.state"))
for f in (old_qmp, new_qmp, cpr_sock, state):
    if os.path.exists(f):
        os.unlink(f)
old_argv = base_args(os.path.join(D, tag + "-console-old.txt"), old_qmp)
new_argv = base_args(os.path.join(D, tag + "-console-new.txt"), new_qmp)
errs = open(os.path.join(D, tag + "-qemu-old.stderr"), "w")
argv = list(opt.launcher) + old_argv + ["-S"]
obs["argv_old"] = argv
mark("exec old")
say("exec " + " ".join(argv))
old = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errs, stderr=errs)
procs.append(old)
try:
    qo = Qmp(old_qmp, lambda: old.poll() is None)
except OSError as e:
    step("qmp_ready", False, error=str(e), rc=old.poll())
    finish(1)
obs["qemu"] = qo.greet["QMP"]["version"]["package"] if qo.greet else None
step("qmp_ready", True, qemu=obs["qemu"], pid=old.pid)
qo.cmd("cont")
c0 = wait_counter(qo, 0, 3, 60)
obs["old"] = {"pid": old.pid, "status": status(old.pid), "fds": vfio_fds(old.pid), "counter": c0}
if not step("counting", c0 is not None and c0 >= 3, counter=c0, VmLck=obs["old"]["status"].get("VmLck")):
    finish(1)

r = qo.cmd("migrate-set-parameters", {"mode": "cpr-" + opt.mode} if opt.mode == "transfer" else
           {"mode": "cpr-exec", "cpr-exec-command": new_argv + ["-incoming", "file:" + state]})
if not step("set_mode", "return" in r, error=r.get("error", {}).get("desc")):
    finish(1)
new = None
if opt.mode == "transfer":
    nerr = open(os.path.join(D, tag + "-qemu-new.stderr"), "w")
    argv = list(opt.launcher) + new_argv + [
        "-incoming", "tcp:127.0.0.1:44444",
        "-incoming", json.dumps({"channel-type": "cpr", "addr": {"transport": "socket", "type": "unix", "path": cpr_sock}})]
    obs["argv_new"] = argv
    mark("exec new")
    new = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=nerr, stderr=nerr)
    procs.append(new)
    end = time.monotonic() + 60
    while not os.path.exists(cpr_sock) and new.poll() is None and time.monotonic() < end:
        time.sleep(0.02)
    if not step("new_listening", os.path.exists(cpr_sock), rc=new.poll()):
        finish(1)
    chans = [{"channel-type": "main", "addr": {"transport": "socket", "type": "inet",
                                               "host": "127.0.0.1", "port": "44444"}},
             {"channel-type": "cpr", "addr": {"transport": "socket", "type": "unix", "path": cpr_sock}}]
    margs = {"channels": chans}
else:
    margs = {"uri": "file:" + state}

mark("migrate")
tm = time.monotonic()
r = qo.cmd("migrate", margs)
obs["migrate"] = r
# cpr-exec: the process may exec before its answer is out; the new QEMU's QMP tells the rest
closed = opt.mode == "exec" and r.get("error", {}).get("class") == "e2e-closed"
if not step("migrate", "return" in r or closed, error=r.get("error", {}).get("desc")):
    obs["old"]["migration"] = qo.cmd("query-migrate").get("return")
    finish(1)

# the new QEMU: its QMP comes up once it has the cpr state
alive = (lambda: new.poll() is None) if new else (lambda: old.poll() is None)
try:
    qn = Qmp(new_qmp, alive, timeout=120)
except OSError as e:
    time.sleep(0.5)
    obs["new_rc"] = new.poll() if new else old.poll()
    obs["old"]["rc"] = old.poll()
    step("new_qmp", False, error=str(e), old_rc=obs["old"]["rc"], new_rc=obs["new_rc"])
    finish(1)
running = False
end = time.monotonic() + 120
while time.monotonic() < end:
    s = qn.cmd("query-status").get("return", {})
    if s.get("running"):
        running = True
        break
    if any(e["event"] == "RESUME" for e in qn.events):
        running = True
        break
    if new and old.poll() not in (None, 0):
        break  # the old QEMU died: nothing will come
    time.sleep(0.01)
th = time.monotonic() - tm
mark("new running")
obs["handover_s"] = round(th, 3) if running else None
pid_new = new.pid if new else old.pid
obs["new"] = {"pid": pid_new, "status": status(pid_new), "fds": vfio_fds(pid_new)}
if not step("new_running", running, handover_s=obs["handover_s"], pid=pid_new, old_rc=old.poll(),
            new_state=s.get("status")):
    obs["old"]["rc"] = old.poll()
    finish(1)
if new:
    # the old QEMU stays in postmigrate until it is told to go
    obs["old"]["migration"] = qo.cmd("query-migrate").get("return")
    qo.cmd("quit")
    try:
        obs["old"]["rc"] = old.wait(30)
    except subprocess.TimeoutExpired:
        obs["old"]["rc"] = None
    step("old_exited", obs["old"]["rc"] == 0, rc=obs["old"]["rc"])
c1 = qn.counter()
c2 = wait_counter(qn, c1 or 0, 3, 60)
obs["new"]["counter"] = [c1, c2]
obs["new"]["status"] = status(pid_new)
ok = step("still_counting", c1 is not None and c2 is not None and c1 >= c0 and c2 >= c1 + 3,
          before=c0, at_handover=c1, after=c2, VmLck_old=obs["old"]["status"].get("VmLck"),
          VmLck_new=obs["new"]["status"].get("VmLck"))
obs["events_new"] = [e["event"] for e in qn.events]
mark("quit new")
qn.cmd("quit")
p = new or old
try:
    obs["new"]["rc"] = p.wait(30)
except subprocess.TimeoutExpired:
    obs["new"]["rc"] = None
ok &= step("new_quit", obs["new"]["rc"] == 0, rc=obs["new"]["rc"])
finish(0 if ok else 1)
