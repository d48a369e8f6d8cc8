"""Issue 12 items 5, 6 and the compile-time goal: three measurements.

1. The readable module (``sg.codegen``, exec'd) against ``sg.function`` (which runs
   the executed source, with buffer reuse) on the W1 MLP loss + gradients, batch 64.
   Goal: within 10 %.
2. Call overhead with 161 scalar inputs (the depth-80 chain of ``w4_chain``): the
   whole call against the bare generated function, with NumPy float64 and with
   Python float arguments. Goal: within 1.3x of the bare function.
3. ``sg.grad`` + ``sg.function`` of depth-10^4 scalar chains (``x -> sin(x) * 1.0001``
   and ``w4_chain``'s sigmoid chain). Goal: at most 1 s.

Run: ``python benchmarks/codegen_readable.py`` (minimum of several repeats; on a
shared machine compare ratios, not absolute times).
"""
import os
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import symgrad as sg  # noqa: E402
from benchmarks import w1_mlp  # noqa: E402
from benchmarks.w4_chain import chain  # noqa: E402


def best_us(call, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e6


def readable_against_function(batch: int = 64) -> None:
    inputs, loss, params = w1_mlp.symgrad_graph(sg)
    outputs = [loss] + sg.grad(loss, params)
    f = sg.function(inputs, outputs)
    namespace: dict = {}
    exec(compile(sg.codegen(inputs, outputs), "<readable>", "exec"), namespace)
    readable = namespace["f"]
    values = w1_mlp.data(batch)
    for a, b in zip(f(*values), readable(*values)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    number = 50 if batch <= 64 else 5
    t_function = best_us(lambda: f(*values), number)
    t_readable = best_us(lambda: readable(*values), number)
    print(f"W1 batch {batch}: sg.function {t_function:8.1f} us   readable module "
          f"{t_readable:8.1f} us   ratio {t_readable / t_function:.3f}")


def call_overhead(depth: int = 80) -> None:
    inputs, cost = chain(sg, depth)
    f = sg.function(inputs, [cost] + sg.grad(cost, inputs))
    floats = [0.3] * len(inputs)
    scalars = [np.float64(v) for v in floats]
    bare = best_us(lambda: f._fn(scalars) if f._scalar else f._fn(*scalars), 300)
    whole = best_us(lambda: f(*scalars), 300)
    python = best_us(lambda: f(*floats), 300)
    print(f"{len(inputs)} scalar inputs: bare {bare:6.1f} us   call (np.float64) {whole:6.1f} us "
          f"({whole / bare:.2f}x)   call (Python float) {python:6.1f} us ({python / bare:.2f}x)")


def sin_chain(depth: int):
    x = sg.scalar(f"x_sin{depth}_{time.perf_counter_ns()}")
    u = x
    for _ in range(depth):
        u = sg.sin(u) * 1.0001
    return [x], u


def compile_time(depth: int = 10_000, repeats: int = 3) -> None:
    for label, build in (("sin chain", sin_chain), ("w4 sigmoid chain", lambda d: chain(sg, d))):
        runs = []
        for _ in range(repeats):
            inputs, cost = build(depth)
            start = time.perf_counter()
            grads = sg.grad(cost, inputs)
            middle = time.perf_counter()
            sg.function(inputs, [cost] + grads)
            runs.append((middle - start, time.perf_counter() - middle))
        g, c = min(runs, key=sum)
        print(f"{label} depth {depth}: grad {g:.3f} s + function {c:.3f} s = {g + c:.3f} s")


if __name__ == "__main__":
    readable_against_function()
    call_overhead()
    compile_time()
