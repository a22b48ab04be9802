#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate README.md's conformance summary and table from a run.

usage: update-readme.py OUTDIR [README.md]

OUTDIR is run-columns.sh's output (differences.md from compare.py). The text
between the markers <!-- conformance:begin --> and <!-- conformance:end --> is
replaced: the counts, and one row per case (t1/t2 folded into t?) where the
shim's column differs from type1's, with the reason from differences.txt.
docs/conformance-table.md receives the full table."""
import os
import re
import shutil
import sys


def main():
    out = sys.argv[1]
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    md = os.path.join(out, "differences.md")
    lines = open(md, encoding="utf-8").read().splitlines()
    m = re.search(r"Cases: (\d+); \(b\) kernel compat == \(a\) type1: (\d+); "
                  r"\(c\) shim == \(a\) type1: (\d+)\.", lines[0])
    m2 = re.search(r"(\d+) allowed by differences.txt, (\d+) unexplained", lines[1])
    if not m or not m2:
        sys.exit("update-readme: unexpected summary in " + md)
    cases, b_eq, c_eq = m.groups()
    allowed, unexplained = m2.groups()
    rows, seen = [], set()
    for line in lines:
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        case, a, b, c = cells[:4]
        note = cells[4] if len(cells) > 4 else ""
        if c == "= a":
            continue
        key = re.sub(r"`t[12]\.", "`t?.", case)
        if key in seen:
            continue
        seen.add(key)
        note = note.replace("allowed: ", "")
        if len(note) > 110:
            note = note[:107] + "..."
        rows.append("| %s | %s | %s | %s | %s |" % (key, a[:60], b[:60], c[:60], note))
    body = ("Last run: **%s cases; (c) vfiocompat == (a) type1 on %s; (b) kernel compat == (a) "
            "on %s**; %s listed differences, %s unexplained. Full table: "
            "`docs/conformance-table.md`. Where (c) differs from (a) (t? = both TYPE1 and "
            "TYPE1v2):\n\n| case | (a) type1 | (b) kernel compat | (c) vfiocompat | reason |\n"
            "|---|---|---|---|---|\n" % (cases, c_eq, b_eq, allowed, unexplained)
            + "\n".join(rows) + "\n")
    text = open(readme, encoding="utf-8").read()
    begin, end = "<!-- conformance:begin -->\n", "<!-- conformance:end -->"
    if begin not in text or end not in text:
        sys.exit("update-readme: markers not found in " + readme)
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(readme, "w", encoding="utf-8").write(head + begin + body + end + tail)
    text = open(readme, encoding="utf-8").read()
    text = re.sub(r"\(\d+ of \d+ conformance lines; the rest are below\)",
                  "(%s of %s conformance lines; the rest are below)" % (c_eq, cases), text)
    open(readme, "w", encoding="utf-8").write(text)
    docs = os.path.join(os.path.dirname(os.path.abspath(readme)), "docs")
    os.makedirs(docs, exist_ok=True)
    shutil.copy(md, os.path.join(docs, "conformance-table.md"))


if __name__ == "__main__":
    main()
