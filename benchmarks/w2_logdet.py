"""W2: value and gradient of ``-(γ/2) logdet(A Aᵀ)`` wrt A, A of shape (n, 2n).

The gradient is ``-γ (A Aᵀ)⁻¹ A``. Columns: hand NumPy (slogdet + solve, the
LU route), a hand Cholesky closed form (a reference, not a peer), symgrad
(the graph as a user writes it, through ``sg.function``'s default path), JAX, PyTorch,
autograd, PyTensor. n = 50, 200, 800.
Run alone: ``python -m benchmarks.w2_logdet [--quick]``.
"""
from __future__ import annotations

from . import common

import numpy as np  # noqa: E402

GAMMA = 0.7
SIZES = (50, 200, 800)


def data(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 2 * n)) / np.sqrt(2 * n)


def hand(A):
    """slogdet and solve: the LU route most users would write."""
    M = np.dot(A, A.T)
    _, logabs = np.linalg.slogdet(M)
    return [-0.5 * GAMMA * logabs, -GAMMA * np.linalg.solve(M, A)]


def hand_cholesky(A):
    """The closed form through Cholesky: log det = 2 Σ log diag L, (LLᵀ)⁻¹A by two solves."""
    M = np.dot(A, A.T)
    L = np.linalg.cholesky(M)
    value = -GAMMA * np.sum(np.log(np.diagonal(L)))
    Linv = np.linalg.inv(L)
    return [value, -GAMMA * np.dot(Linv.T, np.dot(Linv, A))]


def symgrad_columns(A, variants=common.SYMGRAD_VARIANTS) -> list:
    import symgrad as sg

    def make():
        a = sg.matrix("A", A.shape)
        cost = -(GAMMA / 2) * sg.logdet(a @ a.T)
        return [a], [cost, sg.grad(cost, a)]
    return common.symgrad_columns(make, lambda f: f(A), variants)


def jax_columns(A) -> list:
    jax = common.peer("jax")
    if jax is None:
        return []
    jnp = jax.numpy
    fn = jax.jit(jax.value_and_grad(lambda a: -(GAMMA / 2) * jnp.linalg.slogdet(a @ a.T)[1]))
    a = jnp.asarray(A)
    _, seconds = common.timed(lambda: jax.block_until_ready(fn(a)))
    return [common.Column("jax", lambda: jax.block_until_ready(fn(a)), compile_s=seconds)]


def torch_columns(A) -> list:
    torch = common.peer("torch")
    if torch is None:
        return []
    a = torch.tensor(A, requires_grad=True)

    def call():
        value = -(GAMMA / 2) * torch.logdet(a @ a.T)
        return [value.detach(), torch.autograd.grad(value, a)[0]]
    return [common.Column("torch", call, lambda r: [t.numpy() for t in r])]


def autograd_columns(A) -> list:
    ag = common.peer("autograd")
    if ag is None:
        return []
    anp = ag.numpy
    vg = ag.value_and_grad(lambda a: -(GAMMA / 2) * anp.linalg.slogdet(anp.dot(a, a.T))[1])
    return [common.Column("autograd", lambda: vg(A))]


def pytensor_columns(A) -> list:
    pytensor = common.peer("pytensor")
    if pytensor is None:
        return []
    pt = pytensor.tensor
    a = pt.dmatrix("A")
    cost = -(GAMMA / 2) * pt.linalg.slogdet(a @ a.T)[1]
    outputs = [cost, pytensor.grad(cost, a)]
    columns = []
    for label, mode in (("pytensor", None), ("pytensor-c", pytensor.compile.mode.Mode(linker="cvm"))):
        try:
            fn, seconds = common.timed(lambda: pytensor.function([a], outputs, mode=mode))
        except Exception as err:
            print(f"# {label}: cannot compile ({type(err).__name__}: {str(err)[:80]})")
            continue
        fn.trust_input = True
        columns.append(common.Column(label, lambda fn=fn: fn(A), compile_s=seconds))
    return columns


BUILDERS = (symgrad_columns, jax_columns, torch_columns, autograd_columns, pytensor_columns)


def hand_columns(A) -> list:
    return [common.Column("hand", lambda: hand(A)),
            common.Column("hand-cholesky", lambda: hand_cholesky(A), note="reference")]


FRESH_CASES = tuple(f"n {n}" for n in SIZES)


def fresh_column(case: str, name: str):
    """The column ``name`` of ``case`` alone (see ``benchmarks.fresh``)."""
    A = data(int(case.split()[1]))
    return common.only_column(name, BUILDERS, [lambda: hand_columns(A)[0],
                                               lambda: hand_columns(A)[1]], A)


def run(settings: dict, peers=common.PEERS) -> list:
    results = []
    for n in SIZES:
        A = data(n)
        columns = hand_columns(A)
        for build in BUILDERS:
            name = build.__name__.split("_")[0]
            if name == "symgrad" or name in peers:
                columns += build(A)
        results += common.compare("W2", f"n {n}", columns, settings, rtol=1e-6)
    return results


if __name__ == "__main__":
    from .run import main_single
    main_single(run)
