"""W3: Hessian-vector product of the W1 loss (batch 64) wrt W1, direction V.

The hand column is Pearlmutter's R-operator written out in NumPy (forward
tangents R{z}, then the backward pass differentiated along them). Each
column's HVP time is also divided by the same column's gradient time (W1's
loss and all gradients, same batch): the cost of an HVP in gradients.
Run alone: ``python -m benchmarks.w3_hvp [--quick]``.
"""
from __future__ import annotations

from . import common, w1_mlp

import numpy as np  # noqa: E402

BATCH = 64


def hand_hvp(values, V):
    """H V for the W1 block: R-forward, backward, R-backward; returns [H V]."""
    x, y, W1, b1, W2, b2, W3, b3 = values
    _, h1, h2, p = w1_mlp.hand_forward(*values)
    n = len(y)
    s1, s2 = h1 * (1.0 - h1), h2 * (1.0 - h2)
    Rh1 = s1 * np.dot(x, V)
    Rh2 = s2 * np.dot(Rh1, W2)
    Rz3 = np.dot(Rh2, W3)
    Rp = p * (Rz3 - np.sum(p * Rz3, axis=1, keepdims=True))
    p[np.arange(n), y] -= 1.0
    g2 = np.dot(p, W3.T) / n
    Rd2 = np.dot(Rp, W3.T) / n * s2 + g2 * (1.0 - 2.0 * h2) * Rh2
    d2 = g2 * s2
    g1 = np.dot(d2, W2.T)
    Rd1 = np.dot(Rd2, W2.T) * s1 + g1 * (1.0 - 2.0 * h1) * Rh1
    return [np.dot(x.T, Rd1)]


def symgrad_column(values, V, variants=common.SYMGRAD_VARIANTS) -> list:
    import symgrad as sg

    def make():
        inputs, loss, params = w1_mlp.symgrad_graph(sg)
        v = sg.matrix("V", params[0].shape)
        return inputs + [v], [sg.hvp(loss, params[0], v)]
    return common.symgrad_columns(make, lambda f: f(*values, V), variants)


def jax_column(values, V) -> list:
    jax = common.peer("jax")
    if jax is None:
        return []
    jnp = jax.numpy
    x, y, rest = jnp.asarray(values[0]), jnp.asarray(values[1]), [jnp.asarray(a) for a in values[3:]]

    def loss(W1):
        h = jax.nn.sigmoid(x @ W1 + rest[0])
        h = jax.nn.sigmoid(h @ rest[1] + rest[2])
        logp = jax.nn.log_softmax(h @ rest[3] + rest[4], axis=1)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    hvp = jax.jit(lambda w, v: jax.jvp(jax.grad(loss), (w,), (v,))[1])
    w, v = jnp.asarray(values[2]), jnp.asarray(V)
    _, seconds = common.timed(lambda: jax.block_until_ready(hvp(w, v)))
    return [common.Column("jax", lambda: [jax.block_until_ready(hvp(w, v))], compile_s=seconds,
                          note="jvp of grad (forward-over-reverse)")]


def torch_column(values, V) -> list:
    torch = common.peer("torch")
    if torch is None:
        return []
    x, y = torch.from_numpy(values[0]), torch.from_numpy(values[1])
    W1 = torch.tensor(values[2], requires_grad=True)
    rest, v = [torch.from_numpy(a) for a in values[3:]], torch.from_numpy(V)

    def call():
        h = torch.sigmoid(torch.addmm(rest[0], x, W1))
        h = torch.sigmoid(torch.addmm(rest[2], h, rest[1]))
        loss = torch.nn.functional.cross_entropy(torch.addmm(rest[4], h, rest[3]), y)
        (g,) = torch.autograd.grad(loss, W1, create_graph=True)
        return torch.autograd.grad(g, W1, grad_outputs=v)
    return [common.Column("torch", call, lambda r: [r[0].numpy()],
                          note="double backward (reverse-over-reverse)")]


def autograd_column(values, V) -> list:
    ag = common.peer("autograd")
    if ag is None:
        return []
    anp = ag.numpy
    x, y, rest = values[0], values[1], values[3:]

    def loss(W1):
        h = 1.0 / (1.0 + anp.exp(-(anp.dot(x, W1) + rest[0])))
        h = 1.0 / (1.0 + anp.exp(-(anp.dot(h, rest[1]) + rest[2])))
        z = anp.dot(h, rest[3]) + rest[4]
        z = z - anp.max(z, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(logp[anp.arange(x.shape[0]), y])

    hvp = ag.hessian_tensor_product(loss)
    return [common.Column("autograd", lambda: [hvp(values[2], V)])]


def pytensor_column(values, V) -> list:
    pytensor = common.peer("pytensor")
    if pytensor is None:
        return []
    x, y, params, loss = w1_mlp.pytensor_graph(pytensor.tensor)
    v = pytensor.tensor.dmatrix("V")
    hv = pytensor.gradient.hessian_vector_product(loss, params[0], v)
    columns = []
    for label, mode in (("pytensor", None), ("pytensor-c", pytensor.compile.mode.Mode(linker="cvm"))):
        try:
            fn, seconds = common.timed(lambda: pytensor.function([x, y] + params + [v], hv, mode=mode))
        except Exception as err:
            print(f"# {label}: cannot compile ({type(err).__name__}: {str(err)[:80]})")
            continue
        fn.trust_input = True
        columns.append(common.Column(label, lambda fn=fn: [fn(*values, V)], compile_s=seconds))
    return columns


BUILDERS = (symgrad_column, jax_column, torch_column, autograd_column, pytensor_column)


def hvp_data() -> tuple:
    values = w1_mlp.data(BATCH)
    return values, np.random.default_rng(1).standard_normal(values[2].shape)


FRESH_CASES = (f"hvp batch {BATCH}",)


def fresh_column(case: str, name: str):
    """The HVP column ``name`` alone (see ``benchmarks.fresh``)."""
    values, V = hvp_data()
    return common.only_column(name, BUILDERS, [lambda: common.Column(
        "hand", lambda: hand_hvp(values, V))], values, V)


def run(settings: dict, peers=common.PEERS) -> list:
    values, V = hvp_data()
    columns = [common.Column("hand", lambda: hand_hvp(values, V))]
    for build in BUILDERS:
        name = build.__name__.split("_")[0]
        if name == "symgrad" or name in peers:
            columns += build(values, V)
    hvp = common.compare("W3", f"hvp batch {BATCH}", columns, settings, rtol=1e-6, timed=False)
    grads = [common.Column("hand", lambda: w1_mlp.hand_grad(*values))]
    for build in w1_mlp.BUILDERS:
        name = build.__name__.split("_")[0]
        if name == "symgrad" or name in peers:
            grads += build(values, False, common.HEADLINE) if name == "symgrad" else build(values, False)
    grad = common.compare("W3", f"grad batch {BATCH}", grads, settings, rtol=1e-7, timed=False)
    common.time_together([(hvp, columns), (grad, grads)], settings)  # one interleaved set
    grad_times = {r.column: r.seconds for r in grad}
    for result in hvp:
        if result.seconds and grad_times.get(result.column):
            result.extra["hvp_over_grad"] = round(result.seconds / grad_times[result.column], 3)
    return hvp + grad


if __name__ == "__main__":
    from .run import main_single
    main_single(run)
