#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the fuzzer's seed corpus: byte programs for fuzz_container.c that
replay the conformance suite's scenarios (tests/conformance/type1_conf.c
sections) over the fake kernel. Each op is one byte (op % 12) followed by its
operands, as LLVMFuzzerTestOneInput reads them."""
import os
import sys

MAP, UNMAP, INFO, EXT, SET, DIRTY, JOIN, LEAVE, DEV, FAIL, ANY, KNOBS = range(12)
V1, V2 = 1, 3


def op_map(iova, pages, flags_ok=True, ptr=7):
    # argsz byte (<0xf0: right size), flags byte (<0xf0: R|W), iova, size, vaddr page, ptr
    return [MAP, 0, 0 if flags_ok else 0xf0, 3 if flags_ok else 0, iova, pages - 1, 0, ptr]


def op_unmap(iova, pages, flags=0, ptr=7):
    fl = [0] if not flags else [0xf0, flags]
    return [UNMAP, 0] + fl + [iova, pages - 1, 7, ptr]


def setup(t):
    return [JOIN, SET, t]


SCENARIOS = {
    "api": [EXT, 1, EXT, 3, EXT, 6, SET, V2, INFO, 60, 7],
    "map_v2": setup(V2) + op_map(1, 1) + op_map(1, 1) + op_map(2, 4) + op_unmap(2, 1) +
    op_unmap(1, 5) + [INFO, 60, 7],
    "map_v1": setup(V1) + op_map(4, 4) + op_unmap(5, 1) + op_unmap(4, 1) + op_unmap(0, 8),
    "unmap_all": setup(V2) + op_map(1, 1) + op_map(8, 2) + op_unmap(0, 1, 2),
    "dirty": setup(V2) + op_map(0, 4) + op_map(10, 3) +
    [DIRTY, 0, 1, 0, 0, 0, 0, 0, 7, 7] + [DIRTY, 0, 4, 0, 7, 3, 0, 0, 7, 7] +
    op_unmap(10, 3, 1),
    "limit": setup(V2) + sum((op_map(i, 1) for i in range(0, 40, 2)), []),
    "groups": setup(V2) + op_map(3, 1) + [DEV, 1] + [LEAVE, 1] + [LEAVE, 0] + [SET, V2],
    "faults": setup(V2) + [FAIL, 1, 0] + op_map(1, 1) + op_map(2, 1) + [FAIL, 0, 3] +
    op_unmap(0, 8) + [LEAVE, 1],
    "bad_pointers": setup(V2) + op_map(1, 1, ptr=0) + op_map(1, 1, ptr=1) + op_unmap(1, 1, ptr=2) +
    [INFO, 60, 0, ANY, 0x3b, 0x70, 1],
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, prog in SCENARIOS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(bytes([31] + [b & 0xff for b in prog]))


if __name__ == "__main__":
    main()
