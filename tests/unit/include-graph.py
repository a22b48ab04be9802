#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The #include graph of shim/, one node per module: x.c, x.h and the
x_*.c files and x_priv.h a module is split into are one node; any other
header (an interface such as container_group.h) is a node of its own. Prints the edges, one
"from -> to" per line, and fails if the graph has a cycle: the layers only
ever point one way (interpose -> fdtable -> container/group -> iommufd ->
libc). A cycle that is meant must be named in ALLOWED below with its reason.

  include-graph.py SHIM_DIR [--dot]
"""
import os
import re
import sys

# (from, to) edges that close a cycle on purpose: none.
ALLOWED = {}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module(shim, name):
    stem = name[:-2]
    if name.endswith(".h") and not stem.endswith("_priv"):
        if not os.path.exists(os.path.join(shim, stem + ".c")):
            return stem  # an interface of its own
    head = stem.split("_")[0]
    if head != stem and (os.path.exists(os.path.join(shim, head + ".c")) or
                         os.path.exists(os.path.join(shim, head + ".h"))):
        return head
    return stem


def graph(shim):
    edges = {}
    for f in sorted(os.listdir(shim)):
        if not f.endswith((".c", ".h")):
            continue
        node = module(shim, f)
        with open(os.path.join(shim, f)) as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            if not os.path.exists(os.path.join(shim, inc)):
                continue  # the public include/ headers are no layer of ours
            to = module(shim, inc)
            if to != node:
                edges.setdefault(node, set()).add(to)
        edges.setdefault(node, set())
    return edges


def find_cycle(edges):
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if (n, m) in ALLOWED:
                continue
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if not state.get(n):
            c = visit(n)
            if c:
                return c
    return None


def main():
    shim = sys.argv[1]
    edges = graph(shim)
    if "--dot" in sys.argv:
        print("digraph shim {")
        for n in sorted(edges):
            for m in sorted(edges[n]):
                print('\t"%s" -> "%s";' % (n, m))
        print("}")
    else:
        for n in sorted(edges):
            for m in sorted(edges[n]):
                note = "  (allowed: %s)" % ALLOWED[(n, m)] if (n, m) in ALLOWED else ""
                print("%s -> %s%s" % (n, m, note))
    cycle = find_cycle(edges)
    if cycle:
        print("include cycle: " + " -> ".join(cycle), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
