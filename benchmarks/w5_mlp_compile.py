"""W5: build to callable, for MLPs with L = 2, 8, 32, 128 hidden layers of 64.

Time from the loss graph to a function returning the loss and every gradient:
``sg.grad`` + ``sg.function`` for symgrad (fresh names each run), the first
call of ``jax.jit(value_and_grad)`` for JAX, ``pytensor.function`` for
PyTensor; a peer is dropped for larger L once it exceeds ``LIMIT`` seconds.
The symgrad function is checked against a hand-written backward loop, and one
steady training step of each is timed side by side (the "W5 step" rows).
Run alone: ``python -m benchmarks.w5_mlp_compile [--quick]``.
"""
from __future__ import annotations

from . import common
from .w4_chain import LIMIT, _Timeout, _with_limit

import itertools  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

LAYERS = (2, 8, 32, 128)
WIDTH, INPUT, CLASSES, BATCH = 64, 64, 10, 32
_TAGS = itertools.count()


def data(L: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    sizes = [INPUT] + [WIDTH] * L + [CLASSES]
    values = [rng.standard_normal((BATCH, INPUT)), rng.integers(0, CLASSES, BATCH)]
    for n_in, n_out in zip(sizes, sizes[1:]):
        values += [rng.standard_normal((n_in, n_out)) / np.sqrt(n_in), rng.standard_normal(n_out) * 0.1]
    return values


def mlp(sg, L: int):
    """(x, y, params, loss) of the L-layer MLP, with fresh input names."""
    tag = next(_TAGS)
    x, y = sg.matrix(f"x{tag}", ("b", INPUT)), sg.vector(f"y{tag}", "b", dtype="int64")
    sizes = [INPUT] + [WIDTH] * L + [CLASSES]
    params, h = [], x
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        W, b = sg.matrix(f"W{i}_{tag}", (n_in, n_out)), sg.vector(f"b{i}_{tag}", n_out)
        params += [W, b]
        h = h @ W + b
        h = sg.sigmoid(h) if i < L else h
    loss = -sg.mean(sg.sum(sg.one_hot(y, CLASSES) * sg.log_softmax(h, axis=1), axis=1))
    return x, y, params, loss


def symgrad_build(L: int):
    import symgrad as sg
    x, y, params, loss = mlp(sg, L)
    start = time.perf_counter()
    f = sg.function([x, y] + params, [loss] + sg.grad(loss, params))
    return f, time.perf_counter() - start


def jax_build(L: int):
    jax = common.peer("jax")
    jnp = jax.numpy

    def loss(params, x, y):
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            h = jax.nn.sigmoid(h) if i < len(params) - 2 else h
        return -jnp.mean(jax.nn.log_softmax(h, axis=1)[jnp.arange(x.shape[0]), y])
    values = [jnp.asarray(v) for v in data(L)]
    start = time.perf_counter()
    fn = jax.jit(jax.value_and_grad(loss))
    result = jax.block_until_ready(fn(values[2:], values[0], values[1]))
    return result, time.perf_counter() - start


def pytensor_build(L: int):
    pytensor = common.peer("pytensor")
    pt = pytensor.tensor
    x, y = pt.dmatrix("x"), pt.lvector("y")
    params, h = [], x
    for i in range(L + 1):
        W, b = pt.dmatrix(f"W{i}"), pt.dvector(f"b{i}")
        params += [W, b]
        h = pt.dot(h, W) + b
        h = pt.sigmoid(h) if i < L else h
    loss = -pt.mean(pt.special.log_softmax(h, axis=1)[pt.arange(x.shape[0]), y])
    start = time.perf_counter()
    pytensor.function([x, y] + params, [loss] + pytensor.grad(loss, params),
                      mode=pytensor.compile.mode.Mode(linker="cvm"))
    return None, time.perf_counter() - start


def hand_grad(values) -> list:
    """Loss and gradients by a hand-written backward loop (the check)."""
    x, y, params = values[0], values[1], values[2:]
    hs = [x]
    for i in range(0, len(params), 2):
        z = np.dot(hs[-1], params[i]) + params[i + 1]
        hs.append(1.0 / (1.0 + np.exp(-z)) if i < len(params) - 2 else z)
    z = hs.pop()
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    p[np.arange(n), y] -= 1.0
    d, grads = p / n, []
    for i in reversed(range(0, len(params), 2)):
        h = hs[i // 2]
        grads = [np.dot(h.T, d), d.sum(0)] + grads
        if i:
            d = np.dot(d, params[i].T) * h * (1.0 - h)
    return [loss] + grads


def symgrad_rows(settings: dict) -> list:
    rows = []
    for L in LAYERS:
        runs = [symgrad_build(L) for _ in range(3 if settings is common.FULL else 1)]
        f, seconds = runs[-1][0], float(np.median([s for _, s in runs]))
        values = data(L)
        ok = all(np.allclose(a, b, rtol=1e-8, atol=1e-12) for a, b in zip(f(*values), hand_grad(values)))
        rows.append(common.Result("W5", f"L {L}", "symgrad", compile_s=seconds, note="grad + compile",
                                  error=None if ok else "gradient differs from the hand-written one",
                                  extra={"statements": f.source.count("\n    ")}))
    return rows


def step_rows(settings: dict) -> list:
    """One steady training step (loss and every gradient) at each L: symgrad's compiled
    function against :func:`hand_grad`, timed interleaved in this process."""
    rows = []
    for L in LAYERS:
        f, _ = symgrad_build(L)
        values = data(L)
        seconds = common.interleaved_medians(
            {"hand": lambda: hand_grad(values), "symgrad": lambda: f(*values)},
            settings["repeats"], settings["block"])
        for column in ("hand", "symgrad"):
            rows.append(common.Result("W5 step", f"L {L}", column, seconds=seconds[column],
                                      ratio=seconds[column] / seconds["hand"],
                                      note="loss + gradients, one step"))
    return rows


def peer_rows(name: str, build) -> list:
    rows = []
    for L in LAYERS:
        try:
            _, seconds = _with_limit(lambda: build(L), LIMIT)
        except _Timeout:
            rows.append(common.Result("W5", f"L {L}", name, note=f"gave up after {LIMIT:.0f} s"))
            break
        rows.append(common.Result("W5", f"L {L}", name, compile_s=seconds, note="build to callable"))
    return rows


def run(settings: dict, peers=common.PEERS) -> list:
    rows = symgrad_rows(settings) + step_rows(settings)
    for name, build in (("jax", jax_build), ("pytensor", pytensor_build)):
        if name in peers and common.peer(name) is not None:
            rows += peer_rows("pytensor-c" if name == "pytensor" else name, build)
    return rows


if __name__ == "__main__":
    from .run import main_single
    main_single(run)
