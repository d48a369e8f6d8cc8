"""Graph size and build cost of the gradient of a deep scalar chain.

    u_0 = x,   u_i = sigmoid(w_i u_{i-1} + b_i),   cost = u_d

For each depth d: op nodes of the forward graph, op nodes of forward plus
all 2d + 1 gradients, their ratio (target: at most ~4, i.e. linear growth,
where SymPy's ``diff`` grows quadratically), and the time of ``sg.grad`` and
``sg.function`` (median of a few runs; every run uses fresh input names so
no interned node is reused). Finally one compiled call is checked against a
hand-written backward pass.

Run: ``python benchmarks/chain_graph_size.py [depth ...]`` (default 300 1000 10000).
"""
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import symgrad as sg  # noqa: E402
from benchmarks.w4_chain import chain, hand_gradient  # noqa: E402  (one chain, one reference)


def timed_run(depth: int):
    inputs, cost = chain(sg, depth)
    start = time.perf_counter()
    grads = sg.grad(cost, inputs)
    middle = time.perf_counter()
    f = sg.function(inputs, [cost] + grads)
    end = time.perf_counter()
    return inputs, cost, grads, f, middle - start, end - middle


def measure(depth: int, repeats: int):
    runs = [timed_run(depth) for _ in range(repeats)]
    inputs, cost, grads, f, _, _ = runs[-1]
    forward, total = sg.op_count(cost), sg.op_count([cost] + grads)
    t_grad = statistics.median(r[4] for r in runs)
    t_func = statistics.median(r[5] for r in runs)
    values = list(np.random.default_rng(0).uniform(-1, 1, len(inputs)))
    value, *got = f(*values)
    want_value, gx, gw, gb = hand_gradient(values[0], values[1:depth + 1], values[depth + 1:])
    want = [gx, *gw, *gb]
    error = max(abs(value - want_value), max(abs(a - b) for a, b in zip(got, want)))
    print(f"{depth:6d} {forward:8d} {total:10d} {total / forward:6.2f} "
          f"{t_grad * 1e3:9.1f} {t_func * 1e3:10.1f} {(t_grad + t_func) * 1e3:12.1f} {error:9.1e}")


def main(depths):
    print(f"{'depth':>6} {'forward':>8} {'with grads':>10} {'ratio':>6} "
          f"{'grad ms':>9} {'function ms':>10} {'grad+func ms':>12} {'max err':>9}")
    for depth in depths:
        measure(depth, repeats=5 if depth <= 1000 else 1)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [300, 1000, 10000])
