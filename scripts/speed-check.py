#!/usr/bin/env python3
"""A coarse speed check for CI: catches a change that makes the kernels run unspecialised.

Every test still passes when the instruction-set modules stop specialising the `@inlinable`
kernels (as happened when they were made `package`): the kernels then run through witness
tables, about a thousand times slower.  This runs `softmax bench` on a cache-resident shape
and requires each op to move at least 1/50 of what a plain copy of the same bytes moves in the
same run (a healthy build moves a third to all of it; an unspecialised one a thousandth).
Not a benchmark: docs/performance.md has the method and the figures.

Usage: scripts/speed-check.py .build/release/softmax
"""
import json
import os
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/softmax"
failures = []
for isa in ["", "portable"]:
    for op in ["softmax", "cross-entropy"]:
        env = dict(os.environ)
        if isa:
            env["SOFTMAX_ISA"] = isa
        result = subprocess.run(
            [binary, "bench", "--op", op, "--shape", "4096x1000", "--repeats", "5", "--json"],
            capture_output=True, text=True, env=env, check=True)
        rows = {row["op"]: row for row in map(json.loads, result.stdout.splitlines())}
        ratio = rows[op]["gbps"] / rows["copy"]["gbps"]
        line = f"{op} 4096x1000 {rows[op]['isa']}: {rows[op]['gbps']:.2f} GB/s, {ratio:.2f} of copy"
        print(line)
        if ratio < 1 / 50:
            failures.append(line)
if failures:
    print("speed check failed (below 1/50 of a copy; are the kernels specialised?):", *failures, sep="\n  ")
    sys.exit(1)
