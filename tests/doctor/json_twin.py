# SPDX-License-Identifier: MIT
"""json_twin.py TEXT JSON: the doctor's --check --json output (JSON) says line for line
what its --check output (TEXT) says: one object per line, with exactly the keys check,
item, verdict and message; check is item without a group number; the result's verdict
is ok when ready, FAIL when not. Exit status 1 with the first difference on stdout."""
import json
import re
import sys


def back(j):
    """the text line a JSON line stands for, or raise ValueError"""
    o = json.loads(j)
    if not isinstance(o, dict) or sorted(o) != ["check", "item", "message", "verdict"]:
        raise ValueError("not an object with the keys check, item, message, verdict")
    if not all(isinstance(v, str) for v in o.values()):
        raise ValueError("a value that is not a string")
    if o["item"] == "result":
        want = "ok" if o["message"].startswith("ready:") else "FAIL"
        if o["check"] != "result" or o["verdict"] != want:
            raise ValueError("check %r, verdict %r for the result" % (o["check"], o["verdict"]))
        return "result: " + o["message"]
    if o["check"] != re.sub(r" [0-9]+$", "", o["item"]):
        raise ValueError("check %r for item %r" % (o["check"], o["item"]))
    return "%-5s %s: %s" % (o["verdict"], o["item"], o["message"])


def main():
    with open(sys.argv[1]) as f:
        text = f.read().splitlines()
    with open(sys.argv[2]) as f:
        objs = f.read().splitlines()
    if len(text) != len(objs):
        print("%d text lines, %d JSON lines" % (len(text), len(objs)))
        return 1
    for t, j in zip(text, objs):
        try:
            b = back(j)
        except ValueError as e:
            print("%s: %s" % (e, j))
            return 1
        if b != t:
            print("the JSON says %r, the text %r" % (b, t))
            return 1
    return 0


sys.exit(main())
