#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare the kernel's VFIO selftests run plainly and under the shim.

usage: compare.py [--differences FILE] [--require TEST,...] OUT TEST...

(--require: those of TEST... that must run at least one case both ways.)

OUT is what guest.sh wrote: OUT/kernel, OUT/{plain,shim}/TEST.{tap,rc,secs}
and OUT/shim/TEST.shimlog.  Each binary's kselftest TAP output becomes one
line per case, "<binary>/<fixture>.<variant>.<test> <iommu mode> <result>",
written to OUT/plain.txt and OUT/shim.txt.  Every case must have the same
result under the shim as without it (a skip: for the same reason), except
the differences listed in FILE: one line per entry, "<case-glob> <kernels>
<reason>", where kernels is "all" or a comma list of "6.12", "<6.19",
">=6.19" (the guest kernel's major.minor must match one).

Exit status: 0 when both runs are complete and every difference is listed;
1 on an unlisted difference; 2 when something did not run (a binary missing
or cut short, no case parsed, a required binary with no case, the shim not
loaded or not serving the type1 variants).
"""
import argparse
import fnmatch
import os
import re
import sys

# libvfio's iommu modes; a variant names one, possibly with a suffix
# (vfio_type1_iommu_anonymous_hugetlb_2mb).  Longest first.
MODES = ["vfio_type1v2_iommu", "vfio_type1_iommu", "iommufd_compat_type1v2",
         "iommufd_compat_type1", "iommufd"]
# cases without an iommu-mode variant use libvfio's default mode
DEFAULT_MODE = "iommufd"
RUNS = ("plain", "shim")
RESULT_RE = re.compile(r"^(ok|not ok) (\d+) (\S+)(?: # (\S+)\s*(.*))?$")
PLAN_RE = re.compile(r"^1\.\.(\d+)(?: # SKIP\s*(.*))?$")
# the lines of a failing or skipped case worth repeating in the summary
WHY_RE = re.compile(r"Expected|Expression|Observed|errno|Assertion|SKIP|terminated|"
                    r"timed out|Test failed|signal", re.I)
# the build directory in assertion messages ("/.../libvfio/iommu.h:42: ...")
SRC_DIR_RE = re.compile(r"^/\S*/(?=[^/\s]+:\d+:)")
# a failed call in the shim's trace: "vfiocompat[PID]: fd N REQUEST(ARGS) = EXXX"
TRACE_ERR_RE = re.compile(r"^vfiocompat\[\d+\]: fd \d+ (\S+\(.*\) = E[A-Z0-9]+)$")


def mode_of(name):
    parts = name.split(".")
    if len(parts) == 3:
        for m in MODES:
            if parts[1] == m or parts[1].startswith(m + "_"):
                return m
    return DEFAULT_MODE


class Run:
    """One binary in one mode."""

    def __init__(self, out, run, test):
        self.test = test
        self.cases = {}  # name -> (mode, result, [why lines])
        self.problem = None
        self.secs = None
        base = os.path.join(out, run, test)
        try:
            with open(base + ".rc") as f:
                self.rc = int(f.read().strip())
        except (OSError, ValueError):
            self.rc = None
            self.problem = "did not run"
            return
        try:
            with open(base + ".secs") as f:
                self.secs = float(f.read().strip())
        except (OSError, ValueError):
            pass
        with open(base + ".tap", encoding="utf-8", errors="replace") as f:
            lines = [l.rstrip("\n") for l in f]
        self.parse(lines)

    def parse(self, lines):
        plan = None
        plan_skip = None
        block = []
        first = next((l for l in lines if l.strip()), "")
        for line in lines:
            m = PLAN_RE.match(line)
            if m and plan is None:
                plan = int(m.group(1))
                plan_skip = m.group(2)
                continue
            m = RESULT_RE.match(line)
            if not m:
                block.append(line)
                continue
            ok, _, name, directive, reason = m.groups()
            directive = (directive or "").upper()
            if directive == "SKIP":
                result = "skip"
            elif directive == "XFAIL":
                result = "xfail"
            elif directive == "XPASS":
                result = "xpass"
            else:
                result = "pass" if ok == "ok" else "fail"
            why = [SRC_DIR_RE.sub("", l.strip(" #\t")) for l in block
                   if WHY_RE.search(l) and "RUN " not in l]
            if directive == "SKIP" and reason:
                why = [reason]
            key = name
            n = 1
            while key in self.cases:
                n += 1
                key = "%s#%d" % (name, n)
            self.cases[key] = (mode_of(name), result, why)
            block = []
        if self.rc == 124 or self.rc == 137:
            self.problem = "timed out (status %d) after %d case(s)" % (self.rc, len(self.cases))
        elif self.rc == 4 and not self.cases:
            # the whole binary skipped (no device it can drive, no SR-IOV...)
            self.cases[self.test] = ("-", "skip", [plan_skip or first])
        elif plan is None:
            self.problem = "no TAP plan (status %d): %s" % (self.rc, first[:100])
        elif plan != len(self.cases):
            self.problem = "%d of %d planned cases reported (status %d)" % (
                len(self.cases), plan, self.rc)
        else:
            failed = any(r in ("fail", "xpass") for _, r, _ in self.cases.values())
            if self.rc != (1 if failed else 0):
                self.problem = "exit status %d does not match the results" % self.rc


def load_allowed(path):
    allowed = []
    if not path:
        return allowed
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(None, 2)
            if len(fields) < 3:
                sys.exit("compare.py: %s: '%s': want '<case-glob> <kernels> <reason>'" % (path, line))
            allowed.append(fields)
    return allowed


def version_of(spec):
    a, b = spec.split(".")[:2]
    return (int(a), int(b))


NOGROUP = False


def kernel_matches(specs, kv):
    for s in specs.split(","):
        if s == "all":
            return True
        if s == "nogroup":
            # the shim's column on a kernel without VFIO groups (run --kernel 7.2-nogroup)
            if NOGROUP:
                return True
            continue
        if s.startswith(">="):
            if kv >= version_of(s[2:]):
                return True
        elif s.startswith("<"):
            if kv < version_of(s[1:]):
                return True
        elif kv == version_of(s):
            return True
    return False


def listed(allowed, case, kv):
    """The differences.txt entry that covers case on this kernel, or None."""
    for entry in allowed:
        if fnmatch.fnmatchcase(case, entry[0]) and kernel_matches(entry[1], kv):
            return tuple(entry)
    return None


def counts(run, mode):
    c = {"pass": 0, "fail": 0, "skip": 0, "xfail": 0, "xpass": 0}
    for m, r, _ in run.cases.values():
        if m == mode:
            c[r] += 1
    return c


def fmt(c):
    s = "%d/%d/%d" % (c["pass"], c["fail"], c["skip"])
    if c["xfail"] or c["xpass"]:
        s += " +%dxf/%dxp" % (c["xfail"], c["xpass"])
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--differences")
    ap.add_argument("--require", default="")
    ap.add_argument("--nogroup", action="store_true",
                    help="the shim's column ran on a group-less kernel, the plain one with groups")
    ap.add_argument("out")
    ap.add_argument("tests", nargs="+")
    a = ap.parse_args()
    global NOGROUP
    NOGROUP = a.nogroup

    problems = []
    try:
        with open(os.path.join(a.out, "kernel")) as f:
            kernel = f.read().strip()
        kv = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", kernel).groups())
    except (OSError, AttributeError):
        print("selftests: FAIL: the guest wrote no kernel version: nothing ran")
        return 2
    allowed = load_allowed(a.differences)
    print("selftests: guest kernel %s%s" % (kernel, " (plain: with groups; shim: group-less)" if NOGROUP else ""))

    runs = {r: {t: Run(a.out, r, t) for t in a.tests} for r in RUNS}
    if os.path.exists(os.path.join(a.out, "shim", "preload.err")):
        problems.append("the shim was not loaded in the guest (shim/preload.err)")

    for r in RUNS:
        with open(os.path.join(a.out, r + ".txt"), "w") as f:
            for t in a.tests:
                for name, (mode, result, _) in runs[r][t].cases.items():
                    f.write("%s/%s %s %s\n" % (t, name, mode, result))
        for t in a.tests:
            if runs[r][t].problem:
                problems.append("%s, %s: %s" % (t, r, runs[r][t].problem))
    total = sum(len(runs[r][t].cases) for r in RUNS for t in a.tests)
    if total == 0:
        problems.append("no case was parsed from any binary")
    for t in [t for t in a.require.split(",") if t in a.tests]:
        for r in RUNS:
            run = runs[r][t]
            if list(run.cases) in ([], [t]):
                problems.append("%s, %s: no case ran (the suite needs it)" % (t, r))

    # The type1 variants must have gone through the shim: its trace names every container call.
    for t in a.tests:
        ran_type1 = any(m.startswith("vfio_type1") and res != "skip"
                        for m, res, _ in runs["shim"][t].cases.values())
        log = os.path.join(a.out, "shim", t + ".shimlog")
        if ran_type1 and not (os.path.exists(log) and os.path.getsize(log) > 0):
            problems.append("%s: type1 cases ran under the shim but it traced no container call" % t)

    # summary table
    print("\n%-32s %-24s %12s %12s %8s %8s" % ("binary", "iommu mode", "plain p/f/s",
                                                 "shim p/f/s", "plain s", "shim s"))
    for t in a.tests:
        modes = []
        for r in RUNS:
            for m, _, _ in runs[r][t].cases.values():
                if m not in modes:
                    modes.append(m)
        first = True
        for m in modes or ["-"]:
            secs = ["%.2f" % runs[r][t].secs if first and runs[r][t].secs is not None else ""
                    for r in RUNS]
            print("%-32s %-24s %12s %12s %8s %8s" % (t if first else "", m,
                  fmt(counts(runs["plain"][t], m)), fmt(counts(runs["shim"][t], m)), *secs))
            first = False

    unlisted, seen_listed = [], []
    for t in a.tests:
        p, s = runs["plain"][t].cases, runs["shim"][t].cases
        for name in list(p) + [n for n in s if n not in p]:
            rp = p[name][1] if name in p else "missing"
            rs = s[name][1] if name in s else "missing"
            if rp == rs == "skip" and p[name][2] != s[name][2]:
                # skipped both ways, but for another reason under the shim
                rp, rs = "skip (%s)" % "; ".join(p[name][2]), "skip (%s)" % "; ".join(s[name][2])
            elif rp == rs:
                continue
            case = "%s/%s" % (t, name)
            reason = listed(allowed, case, kv)
            why = {"plain": p.get(name, (0, 0, []))[2], "shim": s.get(name, (0, 0, []))[2]}
            if reason:
                seen_listed.append((case, rp, rs, reason))
            else:
                unlisted.append((case, rp, rs, why))

    if seen_listed:
        print("\nlisted differences (differences.txt):")
        for entry in dict.fromkeys(e for _, _, _, e in seen_listed):
            print("  %s [%s]: %s" % entry)
            for case, rp, rs, e in seen_listed:
                if e == entry:
                    print("      %s: plain %s, shim %s" % (case, rp, rs))
    ran = ["%s/%s" % (t, n) for r in RUNS for t in a.tests for n in runs[r][t].cases]
    stale = [e for e in allowed if kernel_matches(e[1], kv)
             and tuple(e) not in {x[3] for x in seen_listed}
             and fnmatch.filter(ran, e[0])]
    for e in stale:
        print("  note: listed for this kernel but no longer different: %s [%s]" % (e[0], e[1]))
    plain_fail = [(t, n, c[2]) for t in a.tests for n, c in runs["plain"][t].cases.items()
                  if c[1] == "fail"]
    if plain_fail:
        print("\nfailing without the shim (the kernel disagrees with the test; not a shim matter):")
        for t, n, why in plain_fail:
            print("  %s/%s: %s" % (t, n, "; ".join(why[:3])))
    if unlisted:
        print("\nUNLISTED DIFFERENCES (shim result != plain result):")
        for case, rp, rs, why in unlisted:
            print("  %s: plain %s, shim %s" % (case, rp, rs))
            for r in RUNS:
                for w in why[r][:4]:
                    print("      %s: %s" % (r, w))
    # what the shim itself answered with an error, for the binaries that differ
    for t in sorted({c.split("/")[0] for c, _, _, _ in unlisted}):
        errs = {}
        try:
            with open(os.path.join(a.out, "shim", t + ".shimlog"), errors="replace") as f:
                for line in f:
                    m = TRACE_ERR_RE.match(line.strip())
                    if m:
                        errs[m.group(1)] = errs.get(m.group(1), 0) + 1
        except OSError:
            continue
        if errs:
            print("  the shim's failed container calls in %s (trace):" % t)
            for e, n in errs.items():
                print("      %dx %s" % (n, e))
    if problems:
        print("\nINCOMPLETE RUN:")
        for pr in problems:
            print("  " + pr)

    n = sum(len(runs["plain"][t].cases) for t in a.tests)
    if problems:
        print("\nselftests: FAIL on %s: the run is incomplete (%d problem(s))" % (kernel, len(problems)))
        return 2
    if unlisted:
        print("\nselftests: FAIL on %s: %d case(s), %d unlisted difference(s), %d listed" % (
            kernel, n, len(unlisted), len(seen_listed)))
        return 1
    print("\nselftests: OK on %s: %d case(s), the same results under the shim except %d listed" % (
        kernel, n, len(seen_listed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
