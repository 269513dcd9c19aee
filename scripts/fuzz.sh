#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (with -sanitize=fuzzer,address) and runs each for a
# bounded time on a scratch copy of its kept corpus.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     # default: 60 s, every target; exits
#                                                        # non-zero when any target crashed
#   scripts/fuzz.sh --minimize [TARGET...]               # merge the last run's new inputs into
#                                                        # Tests/SoftmaxFuzzingTests/Corpus/<target>/
#
# TARGET is npy, loss, csv, idx, model or linear-loss.  Working corpora live in Fuzz/.build-fuzz/corpus/<target>/
# (git-ignored); crash artifacts go to Fuzz/crashes/<target>/.  Environment: JOBS (default 1)
# runs that many fuzzing processes per target (-fork); KEEP_GOING=1 goes on after crashes;
# SOFTMAX_ISA=portable|avx2|avx512 picks the kernels; SWIFT_BUILD_FLAGS adds build flags.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scratch="Fuzz/.build-fuzz"
kept="Tests/SoftmaxFuzzingTests/Corpus"
all_targets=(npy loss csv idx model linear-loss)

product() {
    case "$1" in
        npy) echo FuzzNPY ;; loss) echo FuzzLoss ;; csv) echo FuzzCSV ;; idx) echo FuzzIDX ;; model) echo FuzzModel ;;
        linear-loss) echo FuzzLinearLoss ;;
        *) echo "unknown fuzz target '$1' (expected: ${all_targets[*]})" >&2; exit 2 ;;
    esac
}

# -max_len per target: .npy headers are ≥ 128 bytes with padding; the loss decoder reads at most
# ~4200 bytes (4096 scores + labels) but small problems cover it; the linear-loss decoder at most
# ~800 (8·8 hidden + 70·8 weight + 70 bias + 8 labels + about 100 option bytes).
max_len() {
    case "$1" in
        npy) echo 4096 ;; loss) echo 1024 ;; csv) echo 2048 ;; idx) echo 2048 ;; model) echo 4096 ;;
        linear-loss) echo 1024 ;;
    esac
}

build() {
    echo "== building ${*} (release, -sanitize=fuzzer,address)" >&2
    # SwiftPM does not notice source files added to the library (a path dependency here) and
    # keeps compiling the old file list; dropping its build manifest makes it list them again
    # (compiled objects stay cached).
    rm -f "$scratch/release.yaml" "$scratch/release/description.json"
    local t
    for t in "$@"; do
        # shellcheck disable=SC2086
        swift build -c release --package-path Fuzz --scratch-path "$scratch" \
            -Xswiftc -sanitize=fuzzer,address ${SWIFT_BUILD_FLAGS:-} --product "$(product "$t")" >&2
    done
}

binary() { echo "$scratch/release/$(product "$1")"; }

minimize() {
    local targets=("$@")
    [[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
    build "${targets[@]}"
    for t in "${targets[@]}"; do
        local work="$scratch/corpus/$t" dest="$kept/$t" merged="$scratch/merged/$t"
        [[ -d "$work" ]] || { echo "$t: no working corpus in $work; run the fuzzer first" >&2; continue; }
        rm -rf "$merged" && mkdir -p "$merged"
        # Start from the kept files (seeds, reproducers), then let libFuzzer's merge copy in only
        # the inputs of the working corpus that add coverage over them (named by their SHA-1).
        # -set_cover_merge=1 (a greedy set cover rather than -merge=1's "any new feature") with
        # -use_counters=0 (edges, not hit counts) keeps the committed corpus to a few dozen files.
        find "$dest" -type f ! -name '.keep' -exec cp {} "$merged/" \;
        SWIFT_BACKTRACE=enable=no "$(binary "$t")" -set_cover_merge=1 -use_counters=0 \
            -max_len="$(max_len "$t")" -rss_limit_mb=2048 -timeout=10 \
            "$merged" "$work" >"$scratch/merge-$t.log" 2>&1 || {
            echo "$t: merge failed, see $scratch/merge-$t.log" >&2; continue; }
        local added=0 f
        for f in "$merged"/*; do
            [[ -e "$dest/$(basename "$f")" ]] && continue
            cp "$f" "$dest/fuzz-$(basename "$f" | cut -c1-16)"
            added=$((added + 1))
        done
        local files size
        files=$(find "$dest" -type f ! -name '.keep' | wc -l)
        size=$(( $(find "$dest" -type f -exec cat {} + | wc -c) / 1024 ))
        echo "$t: added $added inputs; $dest now holds $files files, ${size} KB"
    done
}

if [[ "${1:-}" == "--minimize" ]]; then
    shift
    minimize "$@"
    exit 0
fi

seconds="${1:-60}"
[[ $# -gt 0 ]] && shift
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do product "$t" >/dev/null; done
build "${targets[@]}"

summary=()
failed=0
for t in "${targets[@]}"; do
    work="$scratch/corpus/$t"
    crashes="Fuzz/crashes/$t"
    log="$scratch/fuzz-$t.log"
    mkdir -p "$work" "$crashes"
    # Seed the working corpus with the kept one (new files only; earlier runs' finds stay).
    find "$kept/$t" -type f ! -name '.keep' -exec cp -n {} "$work/" \;
    before=$(find "$crashes" -type f | wc -l)
    echo "== fuzzing $t for ${seconds} s (log: $log)"
    extra=()
    # KEEP_GOING=1: run in libFuzzer's fork mode and go on after a crash (while a known bug is
    # not fixed yet); every crashing input is still written to $crashes.
    if [[ "${KEEP_GOING:-0}" == 1 || "${JOBS:-1}" -gt 1 ]]; then
        extra+=(-fork="${JOBS:-1}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    start=$(date +%s)
    set +e
    SWIFT_BACKTRACE=enable=no "$(binary "$t")" "$work" -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" "${extra[@]}" >"$log" 2>&1
    status=$?
    set -e
    elapsed=$(($(date +%s) - start))
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    [[ -n "$runs" ]] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    # Executions over wall time (in fork mode libFuzzer's own exec/s is the last job's).
    rate=$(( ${runs:-0} / (elapsed > 0 ? elapsed : 1) ))
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -o '[0-9]*' || true)
    files=$(find "$work" -type f | wc -l)
    size=$(( $(find "$work" -type f -exec cat {} + | wc -c) / 1024 ))
    after=$(find "$crashes" -type f | wc -l)
    new=$((after - before))
    line="$t: ${runs:-?} executions in ${elapsed} s (${rate:-?} exec/s), coverage ${cov:-?}, corpus $files files / ${size} KB, $new new crash artifacts (exit $status)"
    echo "$line"
    if [[ $new -gt 0 || $status -ne 0 ]]; then
        failed=1
        grep -m1 -E 'ERROR: |Fatal error|fuzz invariant' "$log" || true
        find "$crashes" -type f -newermt "@$start" | head -5
    fi
    summary+=("$line")
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "Merge new coverage into the kept corpus with: scripts/fuzz.sh --minimize ${targets[*]}"
echo "Keep a fixed crash as a regression test: cp Fuzz/crashes/<target>/crash-… $kept/<target>/crash-<what>"
# Non-zero when any target crashed (a new artifact or libFuzzer's own failure status), so CI
# fails the change that brought the crash.
exit "$failed"
