#!/usr/bin/env python3
"""The latency-bandwidth (alpha-beta) model behind docs/scaling.md.

Projects, per training step, what data parallelism and vocabulary parallelism cost on K ranks
from three measured constants: the allreduce latency alpha (s), the inverse bandwidth beta
(s/byte) and the GEMM rate F (FLOP/s per rank).  Allreduce of n bytes on K ranks:
recursive doubling below 64 KiB, log2(K) * (alpha + n*beta); above, Rabenseifner's
reduce-scatter + allgather, 2 log2(K) * alpha + 2 (K-1)/K * n * beta (what MPI libraries
choose between).

Also the data-parallel trainer: per step, its share of the batch (B/K samples at a measured
cost per sample) and one allreduce of the P parameters' gradients (plus two scalars).

Usage: scripts/scaling-model.py [--alpha S] [--beta S_PER_BYTE] [--flops F]
       [--tokens N] [--hidden D] [--vocab V]
       [--parameters P] [--batch B] [--sample-seconds S]
"""
import argparse
import math


def allreduce(n_bytes, k, alpha, beta):
    if k == 1:
        return 0.0
    if n_bytes < 64 * 1024:
        return math.ceil(math.log2(k)) * (alpha + n_bytes * beta)
    return 2 * math.ceil(math.log2(k)) * alpha + 2 * (k - 1) / k * n_bytes * beta


def lm_head_step(k, n, d, v, alpha, beta, flops):
    """Seconds per step of the LM head's loss (forward + backward) on k ranks, both schemes.

    Data-parallel: each rank holds all of W [V, D], takes N/k tokens, and allreduces dW
    (V*D floats).  Vocabulary-parallel: each rank holds V/k rows of W and all N tokens; three
    allreduces of N floats, and one of dHidden (N*D floats)."""
    compute = 6 * n * d * v / k / flops
    dp = compute + allreduce(4 * v * d, k, alpha, beta)
    vp = compute + 3 * allreduce(4 * n, k, alpha, beta) + allreduce(4 * n * d, k, alpha, beta)
    return compute, dp, vp


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alpha", type=float, default=2e-6, help="allreduce latency, s (default 2 us)")
    p.add_argument("--beta", type=float, default=1 / 12.5e9, help="s per byte (default 100 Gb/s)")
    p.add_argument("--flops", type=float, default=250e9, help="GEMM FLOP/s per rank (default 250e9)")
    p.add_argument("--tokens", type=int, default=8192, help="N, tokens per step (global)")
    p.add_argument("--hidden", type=int, default=4096, help="D")
    p.add_argument("--vocab", type=int, default=256000, help="V")
    p.add_argument("--parameters", type=int, default=7850, help="P, the classifier's parameters (784x10 + 10)")
    p.add_argument("--batch", type=int, default=32, help="B, the global batch")
    p.add_argument("--sample-seconds", type=float, default=2e-6,
                   help="training cost per sample on one rank, s (measured: epoch time / samples)")
    a = p.parse_args()
    n, d, v = a.tokens, a.hidden, a.vocab
    print(f"LM head N={n} D={d} V={v}: alpha {a.alpha * 1e6:.3g} us, "
          f"beta {1 / a.beta / 1e9:.3g} GB/s, {a.flops / 1e9:.3g} GFLOP/s per rank")
    print("| ranks | compute | data-parallel step | of which allreduce | vocab-parallel step | of which allreduce "
          "| W per rank (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for k in [1, 2, 3, 8, 64, 256, 1024]:
        compute, dp, vp = lm_head_step(k, n, d, v, a.alpha, a.beta, a.flops)
        print(f"| {k} | {compute * 1e3:.2f} ms | {dp * 1e3:.2f} ms | {(dp - compute) * 1e3:.2f} ms "
              f"| {vp * 1e3:.2f} ms | {(vp - compute) * 1e3:.3f} ms | {4 * v * d / k / 2**20:.0f} |")

    print()
    P, B, t = a.parameters, a.batch, a.sample_seconds
    print(f"data-parallel trainer: P={P} parameters, batch {B}, {t * 1e6:.3g} us per sample on one rank")
    print("| ranks | step compute | step allreduce | step | speed-up over 1 rank |")
    print("|---:|---:|---:|---:|---:|")
    for k in [1, 2, 3, 8, 64, 256, 1024]:
        compute = B * t / k
        comm = allreduce(4 * (P + 2), k, a.alpha, a.beta)
        print(f"| {k} | {compute * 1e6:.2f} us | {comm * 1e6:.2f} us | {(compute + comm) * 1e6:.2f} us "
              f"| {B * t / (compute + comm):.2f}x |")


if __name__ == "__main__":
    main()
