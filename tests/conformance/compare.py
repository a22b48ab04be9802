#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare the conformance columns: (c) the shim against (a) real type1.

usage: compare.py [--differences FILE] [--markdown FILE] [--kernel RELEASE]
                  [--quiet] OUTDIR
       compare.py [options] A.txt B.txt [C.txt]

OUTDIR holds a.txt (type1), b.txt (kernel iommufd compat) and c.txt (shim),
as written by run-columns.sh, and kernel (the guest's uname -r).  Every line
is "<case> <rest>"; (c) must equal (a) line for line, except for cases listed
in differences.txt: one line per case, "<case-or-glob> [KERNELS] <reason>",
'#' starts a comment.  KERNELS says on which kernels the difference holds:
"[all]", "[<6.19]" or "[>=6.19]" (the release of the kernel the columns ran
on; --kernel, else OUTDIR/kernel), or "[nogroup]": only when (c) ran on a
kernel without VFIO groups and (a) on the same release with them (--nogroup,
as run-columns.sh -N does).  An entry that holds on this kernel but
matches no differing case is stale, and that is a failure too: the list
must say exactly what differs on each kernel.

Prints the counts and every unexplained difference (line of a, line of c),
and writes a markdown table of every case where a, b and c are not all
equal (--markdown, default OUTDIR/differences.md).

Exit status: 0 if (c) == (a) up to the allowed differences; 1 if not;
2 on usage errors or when c.txt is missing (then only a vs b is reported).
"""
import argparse
import fnmatch
import os
import sys


def load(path):
    """Ordered {case: rest-of-line}; a repeated case name is a suite bug."""
    cases = {}
    dups = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            name, _, rest = line.partition(" ")
            if name in cases:
                dups.append(name)
                name = "%s#%d" % (name, len(dups))
            cases[name] = rest
    return cases, dups


def kernel_version(release):
    """(major, minor) of "7.2.13+deb14-amd64", or None."""
    parts = (release or "").split(".")
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or "x")
    except (IndexError, ValueError):
        return None


def holds_on(kernels, version, nogroup=False):
    """Does a "[KERNELS]" qualifier include this kernel version (and run)?"""
    if kernels == "all":
        return True
    if kernels == "nogroup":
        return nogroup
    for op in (">=", "<"):
        if kernels.startswith(op):
            bound = kernel_version(kernels[len(op):])
            if bound is None or version is None:
                raise ValueError("differences.txt: bad kernels [%s] or unknown kernel" % kernels)
            return version >= bound if op == ">=" else version < bound
    raise ValueError("differences.txt: bad kernels [%s]" % kernels)


def load_allowed(path, version, nogroup=False):
    """[(glob, reason)] from differences.txt: the entries that hold on this kernel."""
    allowed = []
    if not path or not os.path.exists(path):
        return allowed
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            pat, _, reason = line.partition(" ")
            reason = reason.strip()
            kernels = "all"
            if reason.startswith("["):
                kernels, _, reason = reason[1:].partition("]")
                reason = reason.strip()
            if holds_on(kernels, version, nogroup):
                allowed.append((pat, reason))
    return allowed


def allowed_reason(allowed, case):
    for pat, reason in allowed:
        if fnmatch.fnmatchcase(case, pat):
            return pat, reason
    return None


def result_part(rest):
    """The part after the call, for the table: '= rc ERRNO fields'."""
    if rest is None:
        return "(missing)"
    i = rest.find(" = ")
    return rest[i + 1:] if i >= 0 else rest


def md_escape(s, limit=160):
    s = s.replace("|", "\\|")
    return s if len(s) <= limit else s[:limit - 1] + "…"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--differences", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "differences.txt"))
    ap.add_argument("--markdown")
    ap.add_argument("--kernel", help="release the columns ran on (default: OUTDIR/kernel)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--nogroup", action="store_true",
                    help="(c) ran on a group-less kernel: the [nogroup] entries hold too")
    args = ap.parse_args()

    if len(args.paths) == 1 and os.path.isdir(args.paths[0]):
        d = args.paths[0]
        pa, pb, pc = (os.path.join(d, n) for n in ("a.txt", "b.txt", "c.txt"))
        md = args.markdown or os.path.join(d, "differences.md")
    elif len(args.paths) in (2, 3):
        pa, pb = args.paths[0], args.paths[1]
        pc = args.paths[2] if len(args.paths) == 3 else None
        md = args.markdown
    else:
        ap.error("give OUTDIR or A.txt B.txt [C.txt]")
        return 2

    for p in (pa, pb):
        if not os.path.exists(p):
            print("compare: missing %s" % p, file=sys.stderr)
            return 2
    a, da = load(pa)
    b, db = load(pb)
    have_c = bool(pc) and os.path.exists(pc)
    c, dc = load(pc) if have_c else ({}, [])
    release = args.kernel
    kfile = os.path.join(os.path.dirname(pa), "kernel")
    if not release and os.path.exists(kfile):
        with open(kfile, encoding="utf-8") as f:
            release = f.read().strip()
    version = kernel_version(release)
    try:
        allowed = load_allowed(args.differences, version, args.nogroup)
    except ValueError as e:
        print("compare: %s (kernel %s)" % (e, release or "unknown"), file=sys.stderr)
        return 2

    for name, dups in (("a", da), ("b", db), ("c", dc)):
        if dups:
            print("compare: %s has repeated case names: %s" % (name, ", ".join(sorted(set(dups)))))

    order = list(a)
    order += [k for k in b if k not in a]
    order += [k for k in c if k not in a and k not in b]

    n = len(a)
    eq_ba = sum(1 for k in a if b.get(k) == a[k])
    eq_ca = sum(1 for k in a if c.get(k) == a[k])
    unexplained, explained, missing, extra = [], [], [], []
    used = set()
    if have_c:
        for k in a:
            if c.get(k) == a[k]:
                continue
            why = allowed_reason(allowed, k)
            if k not in c:
                (explained if why else missing).append(k)
            elif why:
                explained.append(k)
            else:
                unexplained.append(k)
            if why:
                used.add(why[0])
        extra = [k for k in c if k not in a]
    stale = [p for p, _ in allowed if p not in used]

    # markdown: every case where the three columns are not all equal
    rows = []
    for k in order:
        va, vb, vc = a.get(k), b.get(k), c.get(k) if have_c else None
        if va == vb and (not have_c or va == vc):
            continue
        ra = result_part(va)
        rb = "= a" if vb == va else result_part(vb)
        rc = "—" if not have_c else ("= a" if vc == va else result_part(vc))
        note = ""
        why = allowed_reason(allowed, k)
        if have_c and vc != va:
            note = ("allowed: " + why[1]) if why else "**unexplained**"
        rows.append("| `%s` | %s | %s | %s | %s |" % (
            k, md_escape(ra), md_escape(rb), md_escape(rc), md_escape(note, 200)))
    summary = [
        "Kernel %s%s. Cases: %d; (b) kernel compat == (a) type1: %d; (c) shim == (a) type1: %s." % (
            release or "unknown",
            " ((a), (b) with groups; (c) group-less)" if args.nogroup else "", n, eq_ba, eq_ca if have_c else "not run"),
    ]
    if have_c:
        summary.append("(c) differs from (a): %d allowed by differences.txt, %d unexplained, "
                       "%d missing in (c), %d extra in (c); %d stale entries." % (
                           len(explained), len(unexplained), len(missing), len(extra),
                           len(stale)))
    table = ["| case | (a) type1 | (b) kernel compat | (c) shim | note |",
             "|---|---|---|---|---|"] + rows
    if md:
        with open(md, "w", encoding="utf-8") as f:
            f.write("\n".join(summary) + "\n\n" + "\n".join(table) + "\n")

    print("compare: " + " ".join(summary))
    if not have_c:
        print("compare: no column (c) (%s): only a vs b reported" % (pc or "not given"))
        return 2
    if not args.quiet:
        for k in unexplained:
            print("DIFF %s\n  a: %s %s\n  c: %s %s" % (k, k, a[k], k, c[k]))
        for k in missing:
            print("MISSING in c: %s %s" % (k, a[k]))
        for k in extra:
            print("EXTRA in c: %s %s" % (k, c[k]))
        for p in stale:
            print("STALE entry in differences.txt (holds on this kernel by its [KERNELS], "
                  "but nothing differs): %s" % p)
    ok = not unexplained and not missing and not extra and not stale
    print("compare: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
