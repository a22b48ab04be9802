# SPDX-License-Identifier: MIT
"""Judge the e2e "cpr" scenario (QEMU live update with a vfio-pci device), for check.py.

Columns (guest-cpr.sh): type1, iommufd (QEMU's own backend: the reference), kcompat (the
kernel's iommufd compat as /dev/vfio/vfio) and shim; modes transfer (cpr-transfer) and exec
(cpr-exec). Each run ends in one of:
  done     the new QEMU ran, the nested machine kept counting matched DMA round trips, ...
  blocked  QEMU refused migrate with its cpr blocker for a container without VFIO_UPDATE_VADDR
  qemubug  QEMU 11.1 itself killed the old process (tests/e2e/README.md), in one of two ways:
           segv   vfio_cpr_set_msi_virq() hands the NULL kvm_state of a TCG machine to
                  kvm_irqchip_remove_irqfd_notifier_gsi(), whose KVM_IRQFD ioctl reads
                  s->vmfd at offset 0x38: the old QEMU dies of SIGSEGV and the kernel's
                  "segfault at 38" line has its offset in kvm_vm_ioctl
           reset  cpr-transfer: the new QEMU, after loading the cpr state, resets the device
                  through the hot-reset path (edu has no reset of its own), whose pre-reset
                  clears the command register's memory and bus-master bits; the old QEMU,
                  still running the guest, dies of SIGBUS on its mmap of the BAR. Recognized by
                  the new QEMU's own trace: cpr_state_load, vfio_device_reset_handler,
                  vfio_pci_hot_reset of the device, then vfio_pci_write_config of offset 4 with
                  memory and bus master off; and the old QEMU's status -7
  other    anything else
kcompat must end "blocked"; every other column "done". A run that ends "qemubug" cannot show
anything about the container: the scenario then exits 77 (not passing, for that reason only)
unless some check failed, which is always exit 1."""
import json
import os
import re

BLOCKER = "VFIO container does not support VFIO_UPDATE_VADDR"
SEGV = re.compile(r"^(?P<tag>\S+): .*qemu-system-x86.*segfault at (?P<addr>[0-9a-f]+) ip .* "
                  r"in qemu-system-x86_64\[(?P<off>[0-9a-f]+),")


def dynsym(out):
    syms = []
    p = os.path.join(out, "qemu-dynsym.txt")
    if os.path.exists(p):
        for line in open(p):
            f = line.split()
            if len(f) == 3 and f[1] in "TtWw":
                syms.append((int(f[0], 16), f[2]))
    return sorted(syms)


def symbolize(syms, off):
    best = None
    for a, n in syms:
        if a <= off:
            best = (a, n)
        else:
            break
    return "%s+%#x" % (best[1], off - best[0]) if best else "?"


def segfaults(out):
    """tag -> [(fault address, 'function+offset')] from the kernel's lines"""
    syms, res = dynsym(out), {}
    p = os.path.join(out, "segfaults.txt")
    for line in open(p) if os.path.exists(p) else []:
        m = SEGV.match(line.strip())
        if m:
            res.setdefault(m["tag"], []).append((int(m["addr"], 16), symbolize(syms, int(m["off"], 16))))
    return res


def step(o, name):
    for s in o.get("steps", []):
        if s["step"] == name:
            return s
    return None


def new_reset_the_device(out, tag, bdf):
    """the new QEMU's trace line where it turned the device's memory and bus master off
    after it had loaded the cpr state (None if it did not)"""
    p = os.path.join(out, tag + "-qemu-new.stderr")
    seen = []
    for line in open(p, errors="replace") if os.path.exists(p) else []:
        if "cpr_state_load" in line:
            seen = ["cpr_state_load"]
        elif seen and "vfio_device_reset_handler" in line:
            seen.append("vfio_device_reset_handler")
        elif seen and re.search(r"vfio_pci_hot_reset +\(%s\)" % re.escape(bdf), line):
            seen.append("vfio_pci_hot_reset")
        m = re.search(r"vfio_pci_write_config +\((\S+), @0x4, 0x([0-9a-f]+), len=0x2\)", line)
        if len(seen) == 3 and m and m.group(1) == bdf and not int(m.group(2), 16) & 0x6:
            return " -> ".join(seen) + " -> " + line.strip()
    return None


def outcome(o, segv, reset=None):
    """(kind, text) for one run"""
    mig = step(o, "migrate")
    if mig is None:
        last = o["steps"][-1] if o.get("steps") else {"step": "start"}
        return "other", "stopped at %s before migrate: %s" % (last["step"], last)
    if not mig["ok"]:
        err = mig.get("error") or ""
        return ("blocked" if BLOCKER in err else "other"), "migrate refused: %s" % err
    if all(s["ok"] for s in o["steps"]) and step(o, "new_quit"):
        return "done", "handover in %.3f s" % o["handover_s"]
    crash = [s for s in segv if s[0] == 0x38 and s[1].startswith("kvm_vm_ioctl+")]
    rc = (o.get("old") or {}).get("rc")
    if reset and rc == -7 and o["mode"] == "transfer":
        return "qemubug", ("the old QEMU died of SIGBUS after migrate, once the new QEMU had turned the "
                           "device's memory off: %s" % reset)
    if crash and rc == -11:
        return "qemubug", ("the old QEMU died of SIGSEGV after migrate: kernel: segfault at 0x38 in %s "
                           "(QEMU under TCG: vfio_cpr_set_msi_virq with a NULL kvm_state)" % crash[0][1])
    bad = [s for s in o["steps"] if not s["ok"]]
    return "other", "failed at %s (old QEMU rc %s; segfaults: %s)" % (bad[0] if bad else "?", rc, segv or "none")


def check(out, ok, info, between, read_trace, iommu_bytes, size):
    """returns 77 if the only obstacle was QEMU's own crash, else None (ok() counts failures)"""
    segv = segfaults(out)
    evs = read_trace(os.path.join(out, "ktrace-cpr.txt"))
    blocked_by_qemu, times, ref_lock = [], {}, {}
    runs = sorted(f[4:-5] for f in os.listdir(out) if f.startswith("cpr-") and f.endswith(".json"))
    ok(runs, "cpr runs found: %s" % (", ".join(runs) or "none"))
    for run in runs:
        col, mode = run.split("-", 1)
        tag = "cpr-" + run
        o = json.load(open(os.path.join(out, tag + ".json")))
        bdf = (o.get("argv_old") and [w for w in o["argv_old"] if w.startswith("vfio-pci,host=")] or [""])[0]
        bdf = bdf.split("host=", 1)[-1].split(",")[0]
        kind, text = outcome(o, segv.get(tag, []), new_reset_the_device(out, tag, bdf))
        info("%s %s: %s, %s" % (col, mode, o.get("qemu"), text))
        if col == "kcompat":
            ok(kind == "blocked", "%s %s: the kernel compat is refused with QEMU's cpr blocker (%s)" % (col, mode, text))
            continue
        if kind == "qemubug":
            blocked_by_qemu.append("%s %s" % (col, mode))
            info("%s %s: NOT JUDGED: %s" % (col, mode, text))
            continue
        if not ok(kind == "done", "%s %s: live update completed (%s)" % (col, mode, text)):
            continue
        times["%s %s" % (col, mode)] = o["handover_s"]
        old, new = o["old"], o["new"]
        c = new.get("counter") or [None, None]
        ok(c[1] is not None and c[1] > c[0] >= old["counter"],
           "%s %s: the nested machine kept doing matched edu DMA over the handover (rounds %s -> %s -> %s)"
           % (col, mode, old["counter"], c[0], c[1]))
        if mode == "transfer":
            ok(new["pid"] != old["pid"] and old.get("rc") == 0,
               "%s %s: a new process (pid %s -> %s) and the old one quit with 0 (rc %s)"
               % (col, mode, old["pid"], new["pid"], old.get("rc")))
        lo = old["status"].get("VmLck", 0) + old["status"].get("VmPin", 0)
        ln = new["status"].get("VmLck", 0) + new["status"].get("VmPin", 0)
        if col == "iommufd":
            # the kernel's own account after IOMMU_IOAS_CHANGE_PROCESS is the reference for the shim
            ref_lock[mode] = (lo, ln)
            ok(lo > 0, "iommufd %s: QEMU's pinned memory charged to the old process (VmLck+VmPin %d kB; "
               "the new one: %d kB)" % (mode, lo, ln))
        elif col == "shim" and mode in ref_lock:
            ok((lo, ln) == ref_lock[mode], "shim %s: memlock as with QEMU's iommufd backend on this kernel "
               "(VmLck+VmPin %d kB -> %d kB; iommufd backend %d kB -> %d kB)" % ((mode, lo, ln) + ref_lock[mode]))
        else:
            ok(lo > 0 and ln == lo, "%s %s: memlock charged to the new process as to the old (VmLck+VmPin %d kB -> %d kB)"
               % (col, mode, lo, ln))
        seg = between(evs, "E2E %s migrate" % tag, "E2E %s new running" % tag)
        m, u = iommu_bytes(seg)
        ok(u == 0, "%s %s: no IOMMU mapping lost during the handover (unmapped %s, mapped %s)" % (col, mode, size(u), size(m)))
        ok(not o.get("holders_after_exit"), "%s %s: nobody holds the group or a container after the end (%s)"
           % (col, mode, o.get("holders_after_exit") or "none"))
        if col == "shim":
            ok(new["fds"] and "/dev/vfio/vfio" not in new["fds"],
               "shim %s: the new QEMU holds %s, never /dev/vfio/vfio" % (mode, ", ".join(new["fds"]) or "nothing"))
    for k, v in sorted(times.items()):
        info("handover %s: %.3f s (migrate -> new QEMU running)" % (k, v))
    if blocked_by_qemu:
        info("not judged because QEMU killed its own old process (tests/e2e/README.md): %s" % ", ".join(blocked_by_qemu))
        return 77
    return None
