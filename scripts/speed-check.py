#!/usr/bin/env python3
"""A coarse speed check for CI: catches a change that makes the kernels run unspecialised.

Every test still passes when the instruction-set modules stop specialising the `@inlinable`
kernels (as happened when they were made `package`): the kernels then run through witness
tables, about a thousand times slower.  This runs `softmax bench` on a cache-resident shape
and requires each op to move at least 1/50 (1/250 with a softcap's tanh) of what a plain copy
of the same bytes moves in the same run (a healthy build moves a third to all of it; an unspecialised one a thousandth).
Not a benchmark: docs/performance.md has the method and the figures.

Usage: scripts/speed-check.py .build/release/softmax
"""
import json
import os
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/softmax"
failures = []
# The cross-entropy also with a softcap and z-loss (the fused transformed row kernel, with its
# vectorised tanh) and on strided positions (the staged transform).  A tanh per element costs
# several times a plain pass, so those need only 1/250 of a copy (still far above an
# unspecialised build's thousandth).
cases = [
    ("softmax", "4096x1000", [], 50),
    ("cross-entropy", "4096x1000", [], 50),
    ("cross-entropy", "4096x1000", ["--softcap", "30", "--z-loss", "1e-4"], 250),
    ("cross-entropy", "8x21x64x64", ["--softcap", "30"], 250),
]
for isa in ["", "portable"]:
    for op, shape, extra, fraction in cases:
        env = dict(os.environ)
        if isa:
            env["SOFTMAX_ISA"] = isa
        result = subprocess.run(
            [binary, "bench", "--op", op, "--shape", shape, "--repeats", "5", "--json", *extra],
            capture_output=True, text=True, env=env, check=True)
        rows = {row["op"]: row for row in map(json.loads, result.stdout.splitlines())}
        ratio = rows[op]["gbps"] / rows["copy"]["gbps"]
        line = f"{op} {shape} {' '.join(extra)} {rows[op]['isa']}: {rows[op]['gbps']:.2f} GB/s, {ratio:.2f} of copy"
        print(line)
        if ratio < 1 / fraction:
            failures.append(f"{line} (needs 1/{fraction})")
if failures:
    print("speed check failed (below the floor; are the kernels specialised?):", *failures, sep="\n  ")
    sys.exit(1)
