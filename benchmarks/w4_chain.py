"""W4: the depth-d scalar chain ``u_i = sigmoid(w_i u_{i-1} + b_i)``, cost ``u_d``.

Per depth: op-node counts (forward, forward + all 2d + 1 gradients, after
``sg.simplify`` when it exists), the time of ``sg.grad`` plus ``sg.function``
(fresh input names every run, so nothing interned is reused), one compiled
call checked against a hand-written backward pass; then, for comparison,
SymPy ``diff`` + ``cse`` + ``lambdify`` and JAX / PyTensor compile times,
each dropped for larger depths once it exceeds ``LIMIT`` seconds.
Run alone: ``python -m benchmarks.w4_chain [--quick]``.
"""
from __future__ import annotations

from . import common

import itertools  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

DEPTHS = (10, 100, 1000, 10000)
SYMPY_DEPTHS = (10, 20, 40)
#: JAX and PyTensor stop at d = 100: at d = 1000 JAX's compile outlives the limit and
#: PyTensor recurses; their C/XLA compilers do not see the alarm and grew past 13 GB.
PEER_DEPTHS = (10, 100)
LIMIT = 30.0
_TAGS = itertools.count()


def chain(sg, d: int):
    tag = next(_TAGS)
    x = sg.scalar(f"x_{tag}")
    ws = [sg.scalar(f"w{i}_{tag}") for i in range(d)]
    bs = [sg.scalar(f"b{i}_{tag}") for i in range(d)]
    u = x
    for w, b in zip(ws, bs):
        u = sg.sigmoid(w * u + b)
    return [x] + ws + bs, u


def hand_gradient(x, ws, bs):
    """[u_d, du/dx, du/dw_i..., du/db_i...] by a hand-written backward pass."""
    us = [x]
    for w, b in zip(ws, bs):
        us.append(1.0 / (1.0 + np.exp(-(w * us[-1] + b))))
    ubar, gw, gb = 1.0, np.zeros(len(ws)), np.zeros(len(ws))
    for i in reversed(range(len(ws))):
        zbar = ubar * us[i + 1] * (1.0 - us[i + 1])
        gw[i], gb[i] = zbar * us[i], zbar
        ubar = zbar * ws[i]
    return us[-1], ubar, gw, gb


def symgrad_row(d: int, settings: dict) -> common.Result:
    import symgrad as sg
    seconds = []
    for _ in range(3 if settings is common.FULL else 1):
        inputs, cost = chain(sg, d)
        start = time.perf_counter()
        grads = sg.grad(cost, inputs)
        f = sg.function(inputs, [cost] + grads)
        seconds.append(time.perf_counter() - start)
    forward, full = sg.op_count(cost), sg.op_count([cost] + grads)
    extra = {"forward_ops": forward, "with_grad_ops": full, "ratio": round(full / forward, 2)}
    if hasattr(sg, "simplify"):
        extra["simplified_ops"] = sg.op_count(sg.simplify([cost] + grads))
    rng = np.random.default_rng(d)
    x, ws, bs = 0.3, rng.standard_normal(d), rng.standard_normal(d)
    got = f(x, *ws, *bs)
    value, gx, gw, gb = hand_gradient(x, ws, bs)
    ok = np.allclose(np.array(got, dtype=float), np.concatenate([[value, gx], gw, gb]), rtol=1e-9)
    return common.Result("W4", f"d {d}", "symgrad", compile_s=float(np.median(seconds)),
                         error=None if ok else "gradient differs from the hand-written one",
                         extra=extra, note="grad + compile")


class _Timeout(Exception):
    pass


def _with_limit(fn, limit: float):
    """fn() or _Timeout after ``limit`` seconds (SIGALRM; main thread only)."""
    def alarm(*_):
        raise _Timeout()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sympy_build(d: int):
    import sympy
    x = sympy.Symbol("x")
    ws, bs = sympy.symbols(f"w0:{d}"), sympy.symbols(f"b0:{d}")
    u = x
    for w, b in zip(ws, bs):
        u = 1 / (1 + sympy.exp(-(w * u + b)))
    grads = [sympy.diff(u, v) for v in (x,) + ws + bs]
    size = sum(sympy.count_ops(g) for g in grads)
    replacements, reduced = sympy.cse([u] + grads)
    sympy.lambdify((x,) + ws + bs, [replacements, reduced], "numpy")
    return {"tree_ops": size, "cse_ops": sum(sympy.count_ops(e) for _, e in replacements)
            + sum(sympy.count_ops(e) for e in reduced)}


def jax_build(d: int):
    jax = common.peer("jax")
    jnp = jax.numpy

    def loss(params):
        u = params[0]
        for i in range(d):
            u = jax.nn.sigmoid(params[1 + i] * u + params[1 + d + i])
        return u
    params = jnp.asarray(np.random.default_rng(0).standard_normal(2 * d + 1))
    jax.block_until_ready(jax.jit(jax.value_and_grad(loss))(params))
    return {}


def pytensor_build(d: int):
    pytensor = common.peer("pytensor")
    pt = pytensor.tensor
    scalars = [pt.dscalar(f"s{i}") for i in range(2 * d + 1)]
    u = scalars[0]
    for i in range(d):
        u = pt.sigmoid(scalars[1 + i] * u + scalars[1 + d + i])
    pytensor.function(scalars, [u] + pytensor.grad(u, scalars))
    return {}


def peer_rows(name: str, build, depths) -> list:
    rows = []
    for d in depths:
        start = time.perf_counter()
        try:
            extra = _with_limit(lambda: build(d), LIMIT)
        except (_Timeout, RecursionError) as err:
            rows.append(common.Result("W4", f"d {d}", name, note=f"gave up: {type(err).__name__}"
                                      f" after {time.perf_counter() - start:.1f} s"))
            break
        rows.append(common.Result("W4", f"d {d}", name, compile_s=time.perf_counter() - start,
                                  extra=extra, note="build + compile"))
    return rows


def run(settings: dict, peers=common.PEERS) -> list:
    rows = [symgrad_row(d, settings) for d in DEPTHS]
    rows += peer_rows("sympy", sympy_build, SYMPY_DEPTHS)
    for name, build in (("jax", jax_build), ("pytensor", pytensor_build)):
        if name in peers and common.peer(name) is not None:
            rows += peer_rows(name, build, PEER_DEPTHS)
    return rows


if __name__ == "__main__":
    from .run import main_single
    main_single(run)
