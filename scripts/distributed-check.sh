#!/usr/bin/env bash
# The distributed schemes under real MPI: builds the tool with the MPI trait (in .build-mpi)
# and runs, under mpirun on 2 and 3 local ranks,
#   - softmax-distributed-check: the vocabulary-parallel cross-entropy and linear
#     cross-entropy against the single-process calls (exit 1 on a difference beyond rounding);
#   - data-parallel training (the embedded digits; the generated segmentation shapes) against
#     the one-process run (same test figures, weights and epoch losses to rounding), and
#     -np 1 against a run without MPI (the same model bits).
# Needs Open MPI (Debian: libopenmpi-dev openmpi-bin); run as root it passes
# --allow-run-as-root.  Usage: scripts/distributed-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --traits MPI --build-path .build-mpi
bin=.build-mpi/release
mpi=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)

for ranks in 2 3; do
    "${mpi[@]}" -np "$ranks" "$bin/softmax-distributed-check"
done

# Data-parallel training: the same seed on 1 process (no MPI), mpirun -np 1, 2 and 3.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -c release --product softmax
for task in classification segmentation; do
    train=(train --task "$task" --seed 1 --epochs "$([ "$task" = classification ] && echo 10 || echo 3)" --no-progress)
    .build/release/softmax "${train[@]}" -o "$work/$task-one.json" >"$work/$task-one.txt"
    for ranks in 1 2 3; do
        "${mpi[@]}" -np "$ranks" "$bin/softmax" "${train[@]}" -o "$work/$task-np$ranks.json" >"$work/$task-np$ranks.txt"
    done
done
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]

def model(name):
    def strip(o):  # the training record's timings differ from run to run
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k != "seconds"}
        return [strip(v) for v in o] if isinstance(o, list) else o
    return strip(json.load(open(f"{work}/{name}.json")))

def result(name):  # the last line: "test accuracy …" or "test pixel accuracy …, mean IoU …"
    return [line for line in open(f"{work}/{name}.txt") if line.startswith("test ")][-1].split(" after ")[0]

for task in ("classification", "segmentation"):
    one = model(f"{task}-one")
    assert model(f"{task}-np1") == one, f"{task}: mpirun -np 1 did not write the one-process model bit for bit"
    for ranks in (2, 3):
        name = f"{task}-np{ranks}"
        other = model(name)
        worst = max(abs(a - b) for la, lb in zip(one["layers"], other["layers"])
                    for a, b in zip(la["weights"] + la["bias"], lb["weights"] + lb["bias"]))
        losses = [abs(a["trainLoss"] - b["trainLoss"]) / a["trainLoss"]
                  for a, b in zip(one["training"]["history"], other["training"]["history"])]
        assert result(name) == result(f"{task}-one"), f"{name}: '{result(name)}' vs '{result(task + '-one')}'"
        assert worst <= 1e-4 and max(losses) <= 1e-5, f"{name}: weights off by {worst}, losses by {max(losses)}"
        print(f"ok   data-parallel {task}, {ranks} ranks: '{result(name)}' as one process; "
              f"weights within {worst:.2g}, epoch losses within {max(losses):.2g} (relative)")
    print(f"ok   data-parallel {task}, mpirun -np 1: the one-process model, bit for bit")
PY
