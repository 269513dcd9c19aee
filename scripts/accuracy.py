#!/usr/bin/env python3
"""Measure the float32 error of the `softmax` tool against float64 NumPy references.

    python3 scripts/accuracy.py [--cli .build/release/softmax]

Runs apply (softmax, log-softmax, logsumexp) and loss (mean cross-entropy + gradient) on
random float32 arrays of several shapes, and prints the largest relative error (where the
absolute error exceeds SPEC's 1e-6) and the largest absolute error, and whether every value is
within SPEC's bar (2e-5 relative or 1e-6 absolute).  Needs numpy; not part of the test suite.
"""
import argparse, os, subprocess, tempfile
import numpy as np


def lse(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=".build/release/softmax")
    cli = ap.parse_args().cli
    rng = np.random.default_rng(0)
    worst = {}

    def record(key, got, want):
        err = np.abs(got - want)
        rel = np.where(err > 1e-6, err / np.maximum(np.abs(want), 1e-300), 0)
        w = worst.setdefault(key, [0.0, 0.0, True])
        w[0] = max(w[0], float(rel.max()))
        w[1] = max(w[1], float(err.max()))
        w[2] &= bool(((err <= 1e-6) | (rel <= 2e-5)).all())

    with tempfile.TemporaryDirectory() as tmp:
        x_path, y_path = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        t_path, g_path, l_path = (os.path.join(tmp, n) for n in ("t.npy", "g.npy", "l.npy"))
        for shape, std in [((256, 1000), 3), ((64, 32000), 3), ((4, 21, 64, 64), 3), ((1024, 10), 10), ((32, 5000), 30)]:
            x = (rng.standard_normal(shape) * std).astype(np.float32)
            np.save(x_path, x)
            xd = x.astype(np.float64)
            l = lse(xd, 1)
            refs = {"softmax": np.exp(xd - l), "log-softmax": xd - l, "logsumexp": l.squeeze(1)}
            for op, want in refs.items():
                subprocess.run([cli, "apply", op, x_path, "-o", y_path, "--axis", "1"], check=True)
                record(op, np.load(y_path).astype(np.float64), want)
            t = rng.integers(0, shape[1], size=shape[:1] + shape[2:])
            np.save(t_path, t)
            subprocess.run([cli, "loss", x_path, t_path, "--grad-output", g_path, "--loss-output", l_path],
                           check=True, capture_output=True)
            logp = xd - l
            ti = np.expand_dims(t, 1)
            record("cross-entropy loss", np.load(l_path).astype(np.float64), -np.take_along_axis(logp, ti, 1).mean())
            g = np.exp(logp)
            np.put_along_axis(g, ti, np.take_along_axis(g, ti, 1) - 1, 1)
            record("cross-entropy gradient", np.load(g_path).astype(np.float64), g / t.size)
    for key, (rel, absolute, ok) in worst.items():
        print(f"{key:24s} max rel err {rel:.2e}  max abs err {absolute:.2e}  within SPEC bar: {ok}")


if __name__ == "__main__":
    main()
