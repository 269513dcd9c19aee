#!/usr/bin/env bash
# The distributed schemes under real MPI: builds the tool with the MPI trait (in .build-mpi)
# and runs, under mpirun on 2 and 3 local ranks,
#   - softmax-distributed-check: the vocabulary-parallel cross-entropy and linear
#     cross-entropy against the single-process calls (exit 1 on a difference beyond rounding);
#   - data-parallel training on the embedded digits against the one-process run (same
#     accuracy), and -np 1 against a run without MPI (the same model bits).
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
