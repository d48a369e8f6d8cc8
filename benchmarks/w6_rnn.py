"""W6: RNN ``h_t = tanh(W h_{t-1} + U x_t + b)``, hidden 128, input 32, T = 10, 100.

Loss ``sum(h_T)``; BPTT gradient wrt W, U, b. symgrad unrolls the loop into
one graph (its grad + compile time is reported; with ``backend="jax"``,
``benchmarks.jax_backend``, the recurrences become ``lax.scan`` loops again); JAX uses ``lax.scan``;
PyTorch and autograd run the Python loop eagerly; PyTensor uses ``scan``.
Run alone: ``python -m benchmarks.w6_rnn [--quick]``.
"""
from __future__ import annotations

from . import common

import numpy as np  # noqa: E402

HIDDEN, INPUT = 128, 32
STEPS = (10, 100)


def data(T: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((T, INPUT)), rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),
            rng.standard_normal((HIDDEN, INPUT)) / np.sqrt(INPUT), rng.standard_normal(HIDDEN) * 0.1,
            np.zeros(HIDDEN)]


def hand(X, W, U, b, h0):
    """Forward keeping every state; backward through time with one GEMM per gradient."""
    T = len(X)
    H = np.empty((T + 1, HIDDEN))
    H[0] = h0
    A = np.dot(X, U.T)
    A += b
    for t in range(T):
        H[t + 1] = np.tanh(np.dot(W, H[t]) + A[t])
    D = np.empty((T, HIDDEN))
    g = np.ones(HIDDEN)
    for t in reversed(range(T)):
        D[t] = g * (1.0 - H[t + 1] * H[t + 1])
        g = np.dot(D[t], W)
    return [H[T].sum(), np.dot(D.T, H[:T]), np.dot(D.T, X), D.sum(0)]


def symgrad_column(values, variants=common.SYMGRAD_VARIANTS) -> list:
    import symgrad as sg
    T = len(values[0])

    def make():
        X, W = sg.matrix("X", (T, INPUT)), sg.matrix("W", (HIDDEN, HIDDEN))
        U, b, h = sg.matrix("U", (HIDDEN, INPUT)), sg.vector("b", HIDDEN), sg.vector("h0", HIDDEN)
        inputs = [X, W, U, b, h]
        for t in range(T):
            h = sg.tanh(W @ h + U @ X[t] + b)
        loss = sg.sum(h)
        return inputs, [loss] + sg.grad(loss, [W, U, b])
    return common.symgrad_columns(make, lambda f: f(*values), variants, note="unrolled")


def jax_column(values) -> list:
    jax = common.peer("jax")
    if jax is None:
        return []
    jnp = jax.numpy

    def loss(W, U, b, X, h0):
        step = lambda h, x: (jnp.tanh(W @ h + U @ x + b), None)  # noqa: E731
        return jnp.sum(jax.lax.scan(step, h0, X)[0])

    fn = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
    X, W, U, b, h0 = (jnp.asarray(v) for v in values)
    _, seconds = common.timed(lambda: jax.block_until_ready(fn(W, U, b, X, h0)))
    call = lambda: jax.block_until_ready(fn(W, U, b, X, h0))  # noqa: E731
    return [common.Column("jax", call, lambda r: [r[0]] + [np.asarray(g) for g in r[1]],
                          compile_s=seconds, note="lax.scan")]


def torch_column(values) -> list:
    torch = common.peer("torch")
    if torch is None:
        return []
    X, h0 = torch.from_numpy(values[0]), torch.from_numpy(values[4])
    params = [torch.tensor(v, requires_grad=True) for v in values[1:4]]

    def call():
        W, U, b = params
        h = h0
        for t in range(X.shape[0]):
            h = torch.tanh(W @ h + U @ X[t] + b)
        loss = h.sum()
        return [loss.detach()] + list(torch.autograd.grad(loss, params))
    return [common.Column("torch", call, lambda r: [t.numpy() for t in r])]


def autograd_column(values) -> list:
    ag = common.peer("autograd")
    if ag is None:
        return []
    anp = ag.numpy

    def loss(params, X, h):
        W, U, b = params
        for t in range(X.shape[0]):
            h = anp.tanh(anp.dot(W, h) + anp.dot(U, X[t]) + b)
        return anp.sum(h)

    vg = ag.value_and_grad(loss)
    params = list(values[1:4])
    return [common.Column("autograd", lambda: vg(params, values[0], values[4]),
                          lambda r: [r[0]] + [np.asarray(g) for g in r[1]])]


def pytensor_column(values) -> list:
    pytensor = common.peer("pytensor")
    if pytensor is None:
        return []
    pt = pytensor.tensor
    X, W, U, b, h0 = pt.dmatrix("X"), pt.dmatrix("W"), pt.dmatrix("U"), pt.dvector("b"), pt.dvector("h0")
    states = pytensor.scan(lambda x, h: pt.tanh(pt.dot(W, h) + pt.dot(U, x) + b),
                           sequences=[X], outputs_info=[h0], return_updates=False)
    loss = pt.sum(states[-1])
    outputs = [loss] + pytensor.grad(loss, [W, U, b])
    try:
        fn, seconds = common.timed(lambda: pytensor.function([X, W, U, b, h0], outputs))
    except Exception as err:
        print(f"# pytensor: cannot compile ({type(err).__name__}: {str(err)[:80]})")
        return []
    fn.trust_input = True
    return [common.Column("pytensor", lambda: fn(*values), compile_s=seconds, note="scan")]


BUILDERS = (symgrad_column, jax_column, torch_column, autograd_column, pytensor_column)


FRESH_CASES = tuple(f"T {T}" for T in STEPS)


def fresh_column(case: str, name: str):
    """The column ``name`` of ``case`` alone (see ``benchmarks.fresh``)."""
    values = data(int(case.split()[1]))
    return common.only_column(name, BUILDERS, [lambda: common.Column(
        "hand", lambda: hand(*values))], values)


def run(settings: dict, peers=common.PEERS) -> list:
    results = []
    for T in STEPS:
        values = data(T)
        columns = [common.Column("hand", lambda: hand(*values))]
        for build in BUILDERS:
            name = build.__name__.split("_")[0]
            if name == "symgrad" or name in peers:
                columns += build(values)
        results += common.compare("W6", f"T {T}", columns, settings, rtol=1e-7)
    return results


if __name__ == "__main__":
    from .run import main_single
    main_single(run)
