"""Cost of a Hessian-vector product of the MLP loss, both ways.

Batch 64, 784-256-256-10, sigmoid hidden layers, softmax cross-entropy.
Compares forward-over-reverse (``sg.hvp``) with reverse-over-reverse
(``symgrad.autodiff.sweeps.hvp_reverse``): op counts of the built graphs and median
run time of the compiled functions, each relative to one gradient evaluation.
Run: ``python benchmarks/hvp_cost.py [repeats]``.
"""
from __future__ import annotations

import sys
import time

import numpy as np

import symgrad as sg
from symgrad.autodiff.sweeps import hvp_reverse
from symgrad.compile import chains

SIZES = (784, 256, 256, 10)
BATCH = 64


def mlp_loss(sizes=SIZES, batch=BATCH):
    """(loss, params, data inputs) of a sigmoid MLP with a softmax cross-entropy loss."""
    x = sg.matrix("X", (batch, sizes[0]))
    labels = sg.vector("labels", batch, dtype="int64")
    params, h = [], x
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        w, b = sg.matrix(f"W{i}", (n_in, n_out)), sg.vector(f"b{i}", n_out)
        params += [w, b]
        a = h @ w + b
        h = sg.sigmoid(a) if i < len(sizes) - 1 else a
    loss = -sg.mean(sg.sum(sg.one_hot(labels, sizes[-1]) * sg.log_softmax(h, axis=1), axis=1))
    return loss, params, [x, labels]


def values(nodes, rng):
    """Random arrays for the inputs (labels as ints)."""
    out = {}
    for node in nodes:
        if node.dtype == "int64":
            out[node.name] = rng.integers(0, SIZES[-1], size=node.shape)
        else:
            out[node.name] = rng.standard_normal(node.shape) * 0.05
    return out


def matmul_flops(outputs) -> int:
    """Multiply-adds x 2 of every matmul node: the cost that dominates at these sizes."""
    return chains.matmul_flops(sg.toposort(outputs if isinstance(outputs, list) else [outputs]))


def interleaved_times(calls: dict, repeats: int) -> dict:
    """{label: sorted run times}, the calls taking turns so that load from other
    processes hits all of them alike."""
    times = {label: [] for label in calls}
    for label, call in calls.items():
        call()
    for _ in range(repeats):
        for label, call in calls.items():
            start = time.perf_counter()
            call()
            times[label].append(time.perf_counter() - start)
    return {label: sorted(t) for label, t in times.items()}


def main(repeats: int = 20) -> None:
    rng = np.random.default_rng(0)
    loss, params, data = mlp_loss()
    vs = [sg.tensor(f"v_{p.name}", p.shape) for p in params]
    inputs = params + data
    builds = {"gradient": (sg.grad(loss, params), inputs),
              "hvp forward-over-reverse": (sg.hvp(loss, params, vs), inputs + vs),
              "hvp reverse-over-reverse": (hvp_reverse(loss, params, vs), inputs + vs)}
    arrays = values(inputs + vs, rng)
    calls = {}
    for label, (outputs, used) in builds.items():
        fn, kwargs = sg.function(used, outputs), {n.name: arrays[n.name] for n in used}
        calls[label] = lambda fn=fn, kwargs=kwargs: fn(**kwargs)
    times = interleaved_times(calls, repeats)
    base_flops, base_min, base_median = (matmul_flops(builds["gradient"][0]),
                                         times["gradient"][0], np.median(times["gradient"]))
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, {repeats} interleaved runs; "
          f"ratios are relative to the gradient")
    print(f"{'':28s} {'ops':>4} {'matmul GFLOP':>13} {'min ms':>8} {'median ms':>10}")
    for label, (outputs, _) in builds.items():
        flops, t = matmul_flops(outputs), times[label]
        print(f"{label:28s} {sg.op_count(outputs):4d} {flops / 1e9:7.3f} ({flops / base_flops:4.2f}x)"
              f" {t[0] * 1e3:7.2f} ({t[0] / base_min:4.2f}x)"
              f" {np.median(t) * 1e3:7.2f} ({np.median(t) / base_median:4.2f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
