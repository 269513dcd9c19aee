#!/usr/bin/env python3
"""Measure swift-softmax against PyTorch, JAX and onnxruntime side by side on this machine.

    python3 scripts/compare.py                     # install (first time), then measure everything
    python3 scripts/compare.py --repeats 3 --only cross-entropy --shapes 2048x32000
    python3 scripts/compare.py --no-install --isa portable --json out.json
    python3 scripts/compare.py --no-install --linear 4096x1024x32000,2048x1024x128256 --repeats 3

What it does:

1. Environment.  Creates the virtualenv `.venv-compare` at the repository root (if missing),
   installs the exact versions in PINNED_COMMON + PINNED_TORCH_PYPI from PyPI into it with
   `pip install --no-deps` (unless --no-install, or a stamp file says they are already there),
   then re-executes itself under the venv's python.  PyPI's Linux x86-64 torch wheel is the CUDA
   build and cannot even be imported without its nvidia-* libraries (`pip install --no-deps
   torch` plus the pure-Python deps fails with "libcudart.so.13: cannot open shared object
   file"), so those are installed, but not triton, cuSOLVER and the other parts a CPU run never
   loads: ~5 GB instead of ~6.3 GB.  If a CPU-only torch wheel is on disk (this machine image
   ships torch-2.13.0+cpu in /opt/wheels), --torch-wheel FILE installs it instead of PyPI's torch
   and the nvidia-* wheels (~1.3 GB venv in all).

2. Cases.  float32 scores drawn uniformly from [-4, 4), random valid int labels:
   softmax on 4096x1000, 2048x32000, 65536x10 (axis -1) and 8x21x256x256 (axis 1); log-softmax
   on 2048x32000; mean cross-entropy forward + backward (gradient w.r.t. the scores, class axis
   1) on the same four shapes.

3. Implementations, each timed as one warm-up run then --repeats timed runs with
   time.perf_counter_ns; the median (the upper middle sample for an even count, as `softmax bench`
   does) is reported.  Input data is made outside the timed region.
   - swift-softmax: `softmax bench --op OP --shape S --axis A --threads N --repeats R --json`,
     which also times a memcpy of the same byte count ("copy": the bandwidth ceiling).
   - PyTorch: softmax / log_softmax into a preallocated `out=` tensor; cross-entropy exactly as
     users write it (`x.grad = None; loss = F.cross_entropy(x, t); loss.backward()`).
   - JAX: `jax.jit` of `jax.nn.softmax` / `jax.nn.log_softmax`, and `jax.jit(jax.value_and_grad(f))`
     for cross-entropy; `.block_until_ready()` on every output.
   - onnxruntime: models built in memory with onnx.helper (opset 13), run through IOBinding with
     the inputs and preallocated outputs bound as OrtValues over NumPy arrays, so neither input
     copies nor output allocation are timed.  The cross-entropy graph computes the loss with
     SoftmaxCrossEntropyLoss (mean) and the gradient as (Softmax(x) - OneHot(labels)) / N; it is
     checked against NumPy once on small shapes before timing.

   GB/s is computed for everyone as `softmax bench` does: 2 x elements x 4 bytes (one read of the
   scores, one write of the output or gradient) / median seconds.

4. Threads (--threads N, default: all cores).  Before any framework is imported the process's CPU
   affinity is narrowed to N cores when N is below the core count: XLA's CPU client sizes its
   thread pool from the schedulable CPUs and has no thread-count option (measured with jaxlib
   0.10.2: --xla_cpu_multi_thread_eigen=false changes nothing for these kernels, the affinity
   does).  The swift CLI inherits the affinity too.  PyTorch gets torch.set_num_threads(N) (and
   OMP_NUM_THREADS=N), onnxruntime intra_op_num_threads=N and inter_op_num_threads=1, the CLI
   --threads N.

--linear NxDxV,...: the fused linear cross-entropy instead (the language-model head): swift-softmax's
`softmax bench --op linear-cross-entropy` (which also times its BLAS's three bare products, the
floor) against PyTorch's `F.cross_entropy(h @ W.T, y).backward()` with h and W requiring grad, each
PyTorch shape in a fresh subprocess so that its peak memory is its own: the extra peak is the
growth of the peak resident set during the runs beyond the inputs and the gradients.

Output: a Markdown table on stdout; --json FILE also writes every raw median.  A framework that
fails to import or run shows "n/a" and the reason goes to stderr.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-compare"
DEFAULT_CLI = REPO / ".build" / "release" / "softmax"

# Set when this script re-executes itself under the venv's python, so it never loops.
IN_VENV_MARKER = "SOFTMAX_COMPARE_IN_VENV"

# Every package in the venv, pinned, and installed with `pip install --no-deps` so that exactly
# this set arrives (a lock file).  torch 2.15.0 from PyPI is the CUDA 13 build: its libraries
# name the CUDA runtime, cuBLAS, cuFFT, cuSPARSE(Lt), cuDNN, NCCL, NVSHMEM, NVRTC, CUPTI and
# cuFile as load-time dependencies (DT_NEEDED), so `import torch` fails without those wheels even
# on a machine with no GPU.  What torch's metadata also asks for but a CPU run never loads is left
# out: triton (1 GB), cuSOLVER (~265 MB, only dlopen'ed for CUDA linear algebra), cuda-bindings,
# cuda-pathfinder, the CCCL headers and NVTX.  That saves ~1.3 GB of the ~6.3 GB a plain
# `pip install torch` venv takes; `import torch`, softmax with out= and cross-entropy backward
# were checked to work without them.
PINNED_COMMON = [
    "numpy==2.4.6",
    # torch's pure-Python dependencies (also those of a CPU-only torch wheel)
    "filelock==4.2.12",
    "fsspec==2026.9.0",
    "Jinja2==3.1.6",
    "MarkupSafe==3.0.4",
    "mpmath==1.3.0",
    "networkx==3.6.1",
    "setuptools==84.2.1",
    "sympy==1.14.0",
    "typing_extensions==4.16.0",
    # JAX (jaxlib from PyPI is the CPU build)
    "jax==0.10.2",
    "jaxlib==0.10.2",
    "ml_dtypes==0.6.0",
    "opt_einsum==3.4.0",
    "scipy==1.17.1",
    # onnx and onnxruntime
    "onnx==1.23.2",
    "onnxruntime==1.32.0",
    "protobuf==7.36.2",
    "flatbuffers==25.12.19",
    "packaging==26.3",
]
# PyPI's torch and the CUDA libraries it cannot be imported without; --torch-wheel replaces these.
PINNED_TORCH_PYPI = [
    "torch==2.15.0",
    "nvidia-cublas==13.4.1.3",
    "nvidia-cuda-cupti==13.2.86",
    "nvidia-cuda-nvrtc==13.2.86",
    "nvidia-cuda-runtime==13.2.86",
    "nvidia-cudnn-cu13==9.26.0.51",
    "nvidia-cufft==12.2.0.57",
    "nvidia-cufile==1.17.1.22",
    "nvidia-cusparse==12.7.10.12",
    "nvidia-cusparselt-cu13==0.8.1",
    "nvidia-nccl-cu13==2.30.7",
    "nvidia-nvjitlink==13.5.37",
    "nvidia-nvshmem-cu13==3.7.2",
]

OPS = ("softmax", "log-softmax", "cross-entropy")
FRAMEWORKS = ("swift-softmax", "pytorch", "jax", "onnxruntime")
PEERS = ("pytorch", "jax", "onnxruntime")
TITLES = {"swift-softmax": "swift-softmax", "pytorch": "PyTorch", "jax": "JAX", "onnxruntime": "onnxruntime"}


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One operation on one shape along one axis (the class axis for cross-entropy)."""

    op: str
    shape: tuple[int, ...]
    axis: int

    @property
    def shape_text(self) -> str:
        return "x".join(map(str, self.shape))

    @property
    def key(self) -> str:
        return f"{self.op} {self.shape_text} axis {self.axis}"

    @property
    def count(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def bytes_moved(self) -> int:
        """One float32 read of the scores plus one float32 write of the output or gradient."""
        return 2 * self.count * 4

    @property
    def classes(self) -> int:
        return self.shape[self.axis]

    @property
    def label_shape(self) -> tuple[int, ...]:
        """Cross-entropy labels: the scores' shape without the class axis (axis 1)."""
        return self.shape[:1] + self.shape[2:]


SHAPES_2D = [(4096, 1000), (2048, 32000), (65536, 10)]
SHAPE_4D = (8, 21, 256, 256)

CASES = (
    [Case("softmax", s, -1) for s in SHAPES_2D]
    + [Case("softmax", SHAPE_4D, 1), Case("log-softmax", (2048, 32000), -1)]
    + [Case("cross-entropy", s, 1) for s in SHAPES_2D + [SHAPE_4D]]
)


def make_inputs(case: Case, seed: int = 0):
    """float32 scores uniform in [-4, 4) and, for cross-entropy, int64 labels in [0, classes)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random(case.shape, dtype=np.float32)  # made in place to keep peak memory low
    x *= 8
    x -= 4
    labels = None
    if case.op == "cross-entropy":
        labels = rng.integers(0, case.classes, size=case.label_shape, dtype=np.int64)
    return x, labels


def median_ms(run, repeats: int) -> float:
    """One warm-up call, then `repeats` timed calls; the median in milliseconds.

    For an even count this is the upper of the two middle samples, the sample `softmax bench`
    reports, so both sides use the same statistic.
    """
    run()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        run()
        samples.append(time.perf_counter_ns() - start)
    samples.sort()
    return samples[len(samples) // 2] / 1e6


def release():
    """Hand freed tensors back before the next case (the biggest case is 262 MB per array)."""
    gc.collect()


# ---------------------------------------------------------------------------------------------
# swift-softmax (the CLI's own `bench`, run as a subprocess)
# ---------------------------------------------------------------------------------------------


def bench_swift(cases, args, results, notes):
    """Run `softmax bench` per case; record the op's median and the copy baseline's."""
    cli = Path(args.cli)
    if not os.access(cli, os.X_OK):
        reason = f"{cli} not found or not executable (build it: swift build -c release --product softmax)"
        for case in cases:
            fail(results, "swift-softmax", case, reason)
        return
    env = dict(os.environ)
    if args.isa:
        env["SOFTMAX_ISA"] = args.isa
    for case in cases:
        command = [
            str(cli), "bench", "--op", case.op, "--shape", case.shape_text, "--axis", str(case.axis),
            "--threads", str(args.threads), "--repeats", str(args.repeats), "--json",
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip().startswith("{")]
            by_op = {line["op"]: line for line in lines}
            for name, op in (("swift-softmax", case.op), ("copy", "copy")):
                line = by_op[op]
                results[(name, case.key)] = {
                    "median_ms": float(line["median_ms"]), "gbps": float(line["gbps"]),
                    "isa": line.get("isa"), "threads": line.get("threads"),
                }
        except subprocess.CalledProcessError as error:
            fail(results, "swift-softmax", case, f"exit {error.returncode}: {error.stderr.strip()[-300:]}")
        except (KeyError, ValueError) as error:
            fail(results, "swift-softmax", case, f"unexpected bench output ({error!r})")
    isas = {r.get("isa") for k, r in results.items() if k[0] == "swift-softmax" and "isa" in r}
    if isas:
        notes.append(f"swift-softmax instruction set: {', '.join(sorted(i for i in isas if i))}")


# ---------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------


def bench_pytorch(cases, args, results, notes):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)  # only allowed before any inter-op work
    except RuntimeError:
        pass
    out_form_used = set()
    for case in cases:
        try:
            x_np, labels_np = make_inputs(case)
            x = torch.from_numpy(x_np)  # shares the NumPy buffer: no copy
            if case.op in ("softmax", "log-softmax"):
                function = torch.softmax if case.op == "softmax" else torch.log_softmax
                y = torch.empty_like(x)
                run = lambda: function(x, case.axis, out=y)  # noqa: E731
                try:
                    returned = function(x, case.axis, out=y)
                    assert returned.data_ptr() == y.data_ptr()
                    out_form_used.add(f"torch.{function.__name__}(x, dim, out=y)")
                except (TypeError, RuntimeError, AssertionError):
                    run = lambda: function(x, case.axis)  # noqa: E731
                    out_form_used.add(f"torch.{function.__name__}(x, dim) (no out= form)")
            else:
                x.requires_grad_(True)  # a leaf, as a model's logits would be after .detach()
                labels = torch.from_numpy(labels_np)  # int64, as F.cross_entropy requires

                def run():
                    x.grad = None
                    loss = F.cross_entropy(x, labels)
                    loss.backward()

            results[("pytorch", case.key)] = {"median_ms": median_ms(run, args.repeats)}
        except Exception as error:  # noqa: BLE001 - report, go on with the next case
            fail(results, "pytorch", case, f"{type(error).__name__}: {error}")
        finally:
            x = y = labels = x_np = labels_np = run = None
            release()
    if out_form_used:
        notes.append("PyTorch softmax/log-softmax: " + "; ".join(sorted(out_form_used)))
    notes.append(f"PyTorch threads: {torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op")


# ---------------------------------------------------------------------------------------------
# JAX
# ---------------------------------------------------------------------------------------------


def bench_jax(cases, args, results, notes):
    import jax
    import jax.numpy as jnp
    import numpy as np

    def mean_cross_entropy(scores, labels):
        log_probabilities = jax.nn.log_softmax(scores, axis=1)
        picked = jnp.take_along_axis(log_probabilities, jnp.expand_dims(labels, 1), axis=1)
        return -jnp.mean(picked)

    for case in cases:
        try:
            x_np, labels_np = make_inputs(case)
            x = jax.device_put(x_np).block_until_ready()
            if case.op in ("softmax", "log-softmax"):
                function = jax.nn.softmax if case.op == "softmax" else jax.nn.log_softmax
                compiled = jax.jit(lambda s, f=function, a=case.axis: f(s, axis=a))
                run = lambda: compiled(x).block_until_ready()  # noqa: E731
            else:
                labels = jax.device_put(labels_np.astype(np.int32)).block_until_ready()
                compiled = jax.jit(jax.value_and_grad(mean_cross_entropy))

                def run():
                    loss, gradient = compiled(x, labels)
                    loss.block_until_ready()
                    gradient.block_until_ready()

            # The warm-up call inside median_ms also compiles; compilation is never timed.
            results[("jax", case.key)] = {"median_ms": median_ms(run, args.repeats)}
        except Exception as error:  # noqa: BLE001
            fail(results, "jax", case, f"{type(error).__name__}: {error}")
        finally:
            x = labels = x_np = labels_np = run = compiled = None
            jax.clear_caches()
            release()
    notes.append(f"JAX backend: {jax.default_backend()} ({len(jax.devices())} device)")


# ---------------------------------------------------------------------------------------------
# onnxruntime
# ---------------------------------------------------------------------------------------------


def onnx_model(case: Case):
    """An in-memory ONNX model (opset 13) for one case.

    softmax / log-softmax: x -> Softmax|LogSoftmax(axis) -> y.
    cross-entropy: inputs x (scores) and labels (int64); outputs
        loss     = SoftmaxCrossEntropyLoss(x, labels, reduction="mean")
        gradient = (Softmax(x, axis=1) - OneHot(labels, depth=classes, axis=1)) / N
    where N is the number of labels (the mean's divisor).
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    scores = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(case.shape))
    if case.op in ("softmax", "log-softmax"):
        op_type = "Softmax" if case.op == "softmax" else "LogSoftmax"
        nodes = [helper.make_node(op_type, ["x"], ["y"], axis=case.axis)]
        inputs = [scores]
        outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(case.shape))]
        initializers = []
    else:
        positions = case.count // case.classes
        inputs = [scores, helper.make_tensor_value_info("labels", TensorProto.INT64, list(case.label_shape))]
        initializers = [
            numpy_helper.from_array(np.array([case.classes], dtype=np.int64), "depth"),
            numpy_helper.from_array(np.array([0.0, 1.0], dtype=np.float32), "off_on"),
            numpy_helper.from_array(np.array(positions, dtype=np.float32), "positions"),
        ]
        nodes = [
            helper.make_node("SoftmaxCrossEntropyLoss", ["x", "labels"], ["loss"], reduction="mean"),
            helper.make_node("Softmax", ["x"], ["probabilities"], axis=1),
            helper.make_node("OneHot", ["labels", "depth", "off_on"], ["one_hot"], axis=1),
            helper.make_node("Sub", ["probabilities", "one_hot"], ["difference"]),
            helper.make_node("Div", ["difference", "positions"], ["gradient"]),
        ]
        outputs = [
            helper.make_tensor_value_info("loss", TensorProto.FLOAT, []),
            helper.make_tensor_value_info("gradient", TensorProto.FLOAT, list(case.shape)),
        ]
    graph = helper.make_graph(nodes, case.op.replace("-", "_"), inputs, outputs, initializer=initializers)
    # IR version 8 goes with opset 13 and is read by every onnxruntime of the last years.
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def numpy_cross_entropy(x, labels):
    """Reference mean cross-entropy and its gradient, in float64, class axis 1."""
    import numpy as np

    xd = x.astype(np.float64)
    shifted = xd - xd.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    index = np.expand_dims(labels, 1)
    loss = -np.take_along_axis(log_p, index, axis=1).mean()
    gradient = np.exp(log_p)
    np.put_along_axis(gradient, index, np.take_along_axis(gradient, index, axis=1) - 1, axis=1)
    return loss, gradient / labels.size


def bench_onnxruntime(cases, args, results, notes):
    import numpy as np
    import onnxruntime as ort

    def session(case: Case):
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        model = onnx_model(case).SerializeToString()
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def bound_run(sess, case: Case, x, labels):
        """IOBinding over NumPy buffers: inputs and preallocated outputs, no copies, no allocation.

        Returns the run closure and the output arrays it writes into.
        """
        binding = sess.io_binding()
        keep = [ort.OrtValue.ortvalue_from_numpy(x)]  # OrtValues wrap the NumPy memory
        binding.bind_ortvalue_input("x", keep[-1])
        if labels is not None:
            keep.append(ort.OrtValue.ortvalue_from_numpy(labels))
            binding.bind_ortvalue_input("labels", keep[-1])
            out = {"loss": np.full((), np.nan, np.float32), "gradient": np.full(case.shape, np.nan, np.float32)}
        else:
            out = {"y": np.full(case.shape, np.nan, np.float32)}
        for name, array in out.items():
            keep.append(ort.OrtValue.ortvalue_from_numpy(array))
            binding.bind_ortvalue_output(name, keep[-1])

        def run():
            sess.run_with_iobinding(binding)

        run.keep_alive = keep  # the OrtValues must outlive the binding
        return run, out

    # Check the cross-entropy graph once on small shapes against NumPy (float64).
    graph_ok = True
    if any(c.op == "cross-entropy" for c in cases):
        for small in (Case("cross-entropy", (6, 7), 1), Case("cross-entropy", (2, 5, 3, 4), 1)):
            x, labels = make_inputs(small, seed=1)
            run, out = bound_run(session(small), small, x, labels)
            run()
            want_loss, want_gradient = numpy_cross_entropy(x, labels)
            loss_error = abs(float(out["loss"]) - want_loss)
            gradient_error = float(np.abs(out["gradient"] - want_gradient).max())
            if not (loss_error < 1e-5 and gradient_error < 1e-6):
                graph_ok = False
                print(
                    f"onnxruntime: cross-entropy graph check FAILED on {small.shape_text}: "
                    f"loss error {loss_error:.2e}, gradient error {gradient_error:.2e}", file=sys.stderr)
        if graph_ok:
            notes.append("onnxruntime cross-entropy graph checked against NumPy (loss and gradient) on 6x7 and 2x5x3x4")

    for case in cases:
        if case.op == "cross-entropy" and not graph_ok:
            fail(results, "onnxruntime", case, "cross-entropy graph failed its NumPy check")
            continue
        try:
            x, labels = make_inputs(case)
            sess = session(case)
            run, out = bound_run(sess, case, x, labels)
            elapsed = median_ms(run, args.repeats)
            # The preallocated buffers must hold the results, or allocation was timed after all.
            written = all(not np.isnan(a.flat[0]) and not np.isnan(a.flat[-1]) for a in out.values())
            if not written:
                raise RuntimeError("outputs were not written into the preallocated IOBinding buffers")
            results[("onnxruntime", case.key)] = {"median_ms": elapsed}
        except Exception as error:  # noqa: BLE001
            fail(results, "onnxruntime", case, f"{type(error).__name__}: {error}")
        finally:
            x = labels = sess = run = out = None
            release()
    notes.append(
        "onnxruntime: CPUExecutionProvider, IOBinding with inputs and preallocated outputs bound as "
        f"OrtValues over NumPy arrays (checked to be written in place); intra_op_num_threads={args.threads}, "
        "inter_op_num_threads=1")


# ---------------------------------------------------------------------------------------------
# Results, table, JSON
# ---------------------------------------------------------------------------------------------


def fail(results, framework, case, reason):
    results[(framework, case.key)] = {"error": reason}
    print(f"{TITLES.get(framework, framework)} {case.key}: n/a: {reason}", file=sys.stderr)


def gbps_of(results, name, case):
    """GB/s of one implementation on one case, or None; peers' GB/s come from their medians."""
    record = results.get((name, case.key))
    if not record or "median_ms" not in record:
        return None
    if "gbps" in record:
        return record["gbps"]
    return case.bytes_moved / (record["median_ms"] / 1e3) / 1e9


def markdown_table(cases, results) -> str:
    def number(value):
        if value is None:
            return "n/a"
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"

    def ratio(a, b):
        return f"{a / b:.2f}×" if a is not None and b else "n/a"

    header = [
        "op", "shape", "copy GB/s", "swift-softmax GB/s (% of copy)", "PyTorch GB/s", "JAX GB/s",
        "onnxruntime GB/s", "× best peer", "× PyTorch",
    ]
    rows = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    for case in cases:
        copy = gbps_of(results, "copy", case)
        ours = gbps_of(results, "swift-softmax", case)
        peers = {p: gbps_of(results, p, case) for p in PEERS}
        available = [v for v in peers.values() if v is not None]
        best = max(available) if available else None
        ours_text = number(ours)
        if ours is not None and copy:
            ours_text += f" ({100 * ours / copy:.0f}%)"
        shape = case.shape_text + ("" if case.axis == -1 or (case.op == "cross-entropy" and len(case.shape) == 2)
                                   else f", axis {case.axis}")
        op = "cross-entropy fwd+bwd" if case.op == "cross-entropy" else case.op
        cells = [
            op, shape, number(copy), ours_text, number(peers["pytorch"]), number(peers["jax"]),
            number(peers["onnxruntime"]), ratio(ours, best), ratio(ours, peers["pytorch"]),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def package_versions():
    from importlib import metadata

    versions = {}
    for name in ("numpy", "torch", "jax", "jaxlib", "onnxruntime", "onnx"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# ---------------------------------------------------------------------------------------------
# Environment: venv, install, re-exec, threads
# ---------------------------------------------------------------------------------------------


def directory_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def requirements(args) -> list[str]:
    """What pip installs: all pins, or with --torch-wheel the pins less PyPI's torch plus the file."""
    if not args.torch_wheel:
        return PINNED_COMMON + PINNED_TORCH_PYPI
    return PINNED_COMMON + [str(Path(args.torch_wheel).resolve())]


def venv_python() -> Path:
    return VENV / "bin" / "python"


def prepare_venv(args):
    """Create the venv if needed and install the pinned packages unless --no-install.

    A stamp file remembers what was installed, so later runs skip pip entirely.
    """
    if not venv_python().exists():
        print(f"creating virtualenv {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        (VENV / ".gitignore").write_text("# created by scripts/compare.py\n*\n")  # keep it out of git
    if args.no_install:
        return
    wanted = requirements(args)
    stamp = VENV / ".compare-installed.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("requirements") == wanted:
        return
    print(f"installing into {VENV}: {' '.join(wanted)}", file=sys.stderr)
    start = time.monotonic()
    subprocess.run(
        [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "--only-binary=:all:",
         "--no-deps", *wanted],
        check=True,
    )
    seconds = time.monotonic() - start
    size = directory_size(VENV)
    print(f"install took {seconds:.0f} s; {VENV} is now {size / 1e9:.2f} GB", file=sys.stderr)
    # --no-deps trusts the pins: make sure the frameworks really import and run.
    smoke = ("import numpy, torch, jax, onnx, onnxruntime; "
             "assert abs(float(torch.softmax(torch.ones(2, 3), -1).sum()) - 2) < 1e-6")
    if subprocess.run([str(venv_python()), "-c", smoke], env={**os.environ, "JAX_PLATFORMS": "cpu"}).returncode:
        print("warning: the installed frameworks failed a smoke test (see above)", file=sys.stderr)
        return  # no stamp: the next run installs again
    stamp.write_text(json.dumps({"requirements": wanted, "seconds": round(seconds, 1), "bytes": size}, indent=1))


def reexecute_in_venv(args):
    """Replace this process by the same command under the venv's python (when not already there)."""
    if os.environ.get(IN_VENV_MARKER) or Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not venv_python().exists():
        print(f"note: no {VENV}; running under {sys.executable} with whatever it has installed", file=sys.stderr)
        return
    os.environ[IN_VENV_MARKER] = "1"
    script = str(Path(__file__).resolve())
    os.execv(str(venv_python()), [str(venv_python()), script, *sys.argv[1:]])


def limit_threads(threads: int, notes: list[str]):
    """Make every framework use `threads` CPU threads; must run before any of them is imported."""
    allowed = sorted(os.sched_getaffinity(0))
    if threads < len(allowed):
        # XLA's CPU client sizes its thread pool from the schedulable CPUs and has no flag for a
        # count, so narrowing the affinity is what limits JAX; the others are told N as well.
        os.sched_setaffinity(0, allowed[:threads])
        notes.append(f"CPU affinity narrowed to cores {allowed[:threads]} (limits XLA's thread pool)")
    elif threads > len(allowed):
        print(f"warning: --threads {threads} exceeds the {len(allowed)} usable cores", file=sys.stderr)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no probing for GPU / TPU plugins
    notes.append(
        f"threads: {threads} (OMP_NUM_THREADS={threads}, JAX_PLATFORMS={os.environ['JAX_PLATFORMS']}, "
        f"XLA_FLAGS='{os.environ.get('XLA_FLAGS', '')}')")


# ---------------------------------------------------------------------------------------------
# The fused linear cross-entropy (--linear)
# ---------------------------------------------------------------------------------------------

PYTORCH_LINEAR = r"""
import json, resource, sys
import torch, torch.nn.functional as F
n, d, v, repeats, threads = map(int, sys.argv[1:6])
sys.path.insert(0, sys.argv[6])
from compare import median_ms  # the statistic every other case uses
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
h = torch.randn(n, d, generator=g).requires_grad_(True)
w = (torch.randn(v, d, generator=g) * 0.05).requires_grad_(True)
y = torch.randint(0, v, (n,), generator=g)
def run():
    h.grad = None
    w.grad = None
    F.cross_entropy(h @ w.T, y).backward()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
median = median_ms(run, repeats)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
gradients = 4 * (n * d + v * d)
print(json.dumps({"median_ms": median, "extra_peak_mib": max(0, peak - base - gradients) / 2**20}))
"""


def bench_linear(args) -> str:
    """swift-softmax's fused linear cross-entropy and its GEMM floor against PyTorch's."""
    rows = []
    for shape in args.linear:
        n, d, v = map(int, shape.split("x"))
        flops = 6 * n * d * v
        row = {"shape": shape}
        if "swift-softmax" in args.frameworks:
            command = [args.cli, "bench", "--op", "linear-cross-entropy", "--shape", shape, "--threads",
                       str(args.threads), "--repeats", str(args.repeats), "--json"]
            out = subprocess.run(command, capture_output=True, text=True, env=cli_environment(args))
            if out.returncode == 0:
                lines = {o["op"]: o for o in map(json.loads, out.stdout.splitlines())}
                row["swift"] = lines["linear-cross-entropy"]
                row["floor"] = lines["gemm-floor"]
            else:
                print(f"swift-softmax {shape}: {out.stderr.strip()}", file=sys.stderr)
        if "pytorch" in args.frameworks:
            out = subprocess.run([sys.executable, "-c", PYTORCH_LINEAR, str(n), str(d), str(v),
                                  str(args.repeats), str(args.threads), str(Path(__file__).resolve().parent)],
                                 capture_output=True, text=True)
            if out.returncode == 0:
                row["pytorch"] = json.loads(out.stdout.strip().splitlines()[-1])
            else:
                print(f"pytorch {shape}: {out.stderr.strip()[-400:]}", file=sys.stderr)
        row["gflop"] = flops / 1e9
        rows.append(row)
        print(f"{shape}: done", file=sys.stderr)

    def number(entry, key, form):
        return format(entry[key], form) if entry else "n/a"

    lines = ["| N×D×V | swift-softmax ms | extra MiB | BLAS floor ms | of floor | PyTorch ms | extra MiB | × PyTorch |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        swift, floor, torch_ = row.get("swift"), row.get("floor"), row.get("pytorch")
        of_floor = f"{floor['median_ms'] / swift['median_ms']:.2f}" if swift and floor else "n/a"
        speedup = f"{torch_['median_ms'] / swift['median_ms']:.2f}×" if swift and torch_ else "n/a"
        lines.append(
            f"| {row['shape']} | {number(swift, 'median_ms', '.0f')} | {number(swift, 'extra_peak_mib', '.0f')} | "
            f"{number(floor, 'median_ms', '.0f')} | {of_floor} | {number(torch_, 'median_ms', '.0f')} | "
            f"{number(torch_, 'extra_peak_mib', '.0f')} | {speedup} |")
    blas = rows[0].get("swift", {}).get("blas", "n/a") if rows else "n/a"
    if args.json:
        Path(args.json).write_text(json.dumps({"linear": rows, "threads": args.threads,
                                               "repeats": args.repeats}, indent=1) + "\n")
    return "\n".join(lines) + f"\n\nfloat32, threads {args.threads}, median of {args.repeats}; swift-softmax's BLAS: {blas}"


def cli_environment(args) -> dict:
    environment = dict(os.environ)
    if args.isa:
        environment["SOFTMAX_ISA"] = args.isa
    return environment


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_arguments():
    parser = argparse.ArgumentParser(
        description="Measure swift-softmax against PyTorch, JAX and onnxruntime (float32, CPU) side by side.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per case after one warm-up run")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="CPU threads for every implementation (the default is all usable cores)")
    parser.add_argument("--cli", default=str(DEFAULT_CLI), help="the swift-softmax command-line tool")
    parser.add_argument("--isa", choices=("portable", "avx2", "avx512"),
                        help="force swift-softmax's instruction set (SOFTMAX_ISA for the CLI)")
    parser.add_argument("--only", help="comma-separated ops to run: softmax, log-softmax, cross-entropy")
    parser.add_argument("--shapes", help="comma-separated shapes to run, e.g. 2048x32000,8x21x256x256")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help="comma-separated implementations to run: " + ", ".join(FRAMEWORKS))
    parser.add_argument("--json", metavar="FILE", help="also write every raw median (and settings) to FILE")
    parser.add_argument("--no-install", action="store_true",
                        help="do not pip-install anything; use the venv as it is (or this python if there is none)")
    parser.add_argument("--linear", metavar="NxDxV,...",
                        help="measure the fused linear cross-entropy on these shapes instead of the other cases")
    parser.add_argument("--torch-wheel", metavar="FILE",
                        help="install this local torch wheel (e.g. a CPU-only build) instead of PyPI's CUDA build")
    args = parser.parse_args()
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1")

    def split(text):
        return [t.strip() for t in text.split(",") if t.strip()] if text else None

    args.only, args.shapes, args.frameworks = split(args.only), split(args.shapes), split(args.frameworks)
    args.linear = split(args.linear)
    for name, given, known in (("--only", args.only, OPS), ("--frameworks", args.frameworks, FRAMEWORKS)):
        unknown = set(given or ()) - set(known)
        if unknown:
            parser.error(f"{name}: unknown {', '.join(sorted(unknown))} (known: {', '.join(known)})")
    return args


def main():
    args = parse_arguments()
    if not os.environ.get(IN_VENV_MARKER):
        prepare_venv(args)
        reexecute_in_venv(args)  # returns only when no venv is to be used

    if args.linear:
        notes: list[str] = []
        limit_threads(args.threads, notes)
        print(bench_linear(args))
        return

    cases = [c for c in CASES if (not args.only or c.op in args.only)
             and (not args.shapes or c.shape_text in args.shapes)]
    if not cases:
        sys.exit("no case matches --only / --shapes")

    notes: list[str] = []
    limit_threads(args.threads, notes)
    results: dict[tuple[str, str], dict] = {}
    runners = {"swift-softmax": bench_swift, "pytorch": bench_pytorch, "jax": bench_jax,
               "onnxruntime": bench_onnxruntime}
    # One framework at a time over all cases: each is imported once, and its thread pool is idle
    # while the others run.  The CLI goes first, before any Python framework has started threads.
    for framework in FRAMEWORKS:
        if framework not in args.frameworks:
            continue
        started = time.monotonic()
        try:
            runners[framework](cases, args, results, notes)
        except Exception as error:  # noqa: BLE001 - e.g. an import that fails
            for case in cases:
                if (framework, case.key) not in results:
                    fail(results, framework, case, f"{type(error).__name__}: {error}")
        print(f"{TITLES[framework]}: done in {time.monotonic() - started:.0f} s", file=sys.stderr)

    versions = package_versions()
    print(markdown_table(cases, results))
    print()
    print(f"float32, threads: {args.threads}, median of {args.repeats} runs after 1 warm-up; "
          f"GB/s = 2 × elements × 4 B / median. " + ", ".join(f"{k} {v}" for k, v in versions.items() if v))
    for note in notes:
        print(f"- {note}")

    if args.json:
        document = {
            "settings": {"threads": args.threads, "repeats": args.repeats, "isa": args.isa, "cli": args.cli,
                         "statistic": "median (upper middle sample for an even count), 1 warm-up run"},
            "machine": {"platform": platform.platform(), "processor": cpu_model(), "cores": os.cpu_count()},
            "versions": versions,
            "python": sys.version.split()[0],
            "notes": notes,
            "cases": [
                {"op": c.op, "shape": list(c.shape), "axis": c.axis, "elements": c.count, "bytes": c.bytes_moved,
                 "results": {name: {**results.get((name, c.key), {"error": "not run"}),
                                    **({"gbps": gbps_of(results, name, c)} if gbps_of(results, name, c) else {})}
                             for name in ("copy",) + FRAMEWORKS}}
                for c in cases
            ],
        }
        Path(args.json).write_text(json.dumps(document, indent=1) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
