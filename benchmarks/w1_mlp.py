"""W1: MLP 784-256-256-10, sigmoid hidden layers, softmax + mean cross-entropy.

Loss and the gradient wrt every W, b at batch 1, 64 and 1024, and the loss
alone (forward). Columns: expert hand-written NumPy, symgrad (as written, then
explicitly simplified, then ``optimize=False``), JAX ``jit``,
PyTorch eager, HIPS autograd, PyTensor (default linker and C backend).
Also the machine's float64 GEMM rate, the GFLOP/s of every column at batch
1024, and the peak memory (tracemalloc) of hand NumPy and symgrad there.
Run alone: ``python -m benchmarks.w1_mlp [--quick]``.
"""
from __future__ import annotations

from . import common

import threading  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

SIZES = (784, 256, 256, 10)
BATCHES = (1, 64, 1024)


def data(batch: int, seed: int = 0) -> list:
    """[x, y, W1, b1, W2, b2, W3, b3] with Glorot-scaled weights."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal((batch, SIZES[0])), rng.integers(0, SIZES[-1], batch)]
    for n_in, n_out in zip(SIZES, SIZES[1:]):
        values += [rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / (n_in + n_out)),
                   rng.standard_normal(n_out) * 0.1]
    return values


def _sigmoid_(z):
    """In place: z <- 1 / (1 + exp(-z))."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.reciprocal(z, out=z)


def hand_forward(x, y, W1, b1, W2, b2, W3, b3):
    """(loss, h1, h2, p): softmax probabilities ``p`` and the mean cross-entropy."""
    h1 = _sigmoid_(np.dot(x, W1) + b1)
    h2 = _sigmoid_(np.dot(h1, W2) + b2)
    z = np.dot(h2, W3) + b3
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    s = p.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - z[np.arange(len(y)), y])
    p /= s
    return loss, h1, h2, p


def hand_loss(*values):
    return hand_forward(*values)[0]


def hand_backward(values, h1, h2, p):
    """Gradients: dz3 = (p - onehot)/n, dz_l = (dz_{l+1} W^T) * h (1 - h)."""
    x, y, W1, b1, W2, b2, W3, b3 = values
    n = len(y)
    p[np.arange(n), y] -= 1.0
    p /= n
    d2 = np.dot(p, W3.T)
    d2 *= h2 * (1.0 - h2)
    d1 = np.dot(d2, W2.T)
    d1 *= h1 * (1.0 - h1)
    return [np.dot(x.T, d1), d1.sum(0), np.dot(h1.T, d2), d2.sum(0), np.dot(h2.T, p), p.sum(0)]


def hand_grad(*values):
    loss, h1, h2, p = hand_forward(*values)
    return [loss] + hand_backward(values, h1, h2, p)


def symgrad_graph(sg, batch="b"):
    """(inputs, loss, params) as a user writes it."""
    x, y = sg.matrix("x", (batch, SIZES[0])), sg.vector("y", batch, dtype="int64")
    params, h = [], x
    for i, (n_in, n_out) in enumerate(zip(SIZES, SIZES[1:]), start=1):
        W, b = sg.matrix(f"W{i}", (n_in, n_out)), sg.vector(f"b{i}", n_out)
        params += [W, b]
        h = h @ W + b
        if i < len(SIZES) - 1:
            h = sg.sigmoid(h)
    loss = -sg.mean(sg.sum(sg.one_hot(y, SIZES[-1]) * sg.log_softmax(h, axis=1), axis=1))
    return [x, y] + params, loss, params


def symgrad_columns(values, forward: bool, variants=common.SYMGRAD_VARIANTS) -> list:
    import symgrad as sg

    def make():
        inputs, loss, params = symgrad_graph(sg)
        return inputs, [loss] if forward else [loss] + sg.grad(loss, params)
    return common.symgrad_columns(make, lambda f: f(*values), variants)


def jax_columns(values, forward: bool) -> list:
    jax = common.peer("jax")
    if jax is None:
        return []
    jnp = jax.numpy

    def loss(params, x, y):
        h = x
        for i in range(0, 6, 2):
            h = h @ params[i] + params[i + 1]
            h = jax.nn.sigmoid(h) if i < 4 else h
        logp = jax.nn.log_softmax(h, axis=1)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    x, y, params = jnp.asarray(values[0]), jnp.asarray(values[1]), [jnp.asarray(v) for v in values[2:]]
    fn = jax.jit(loss if forward else jax.value_and_grad(loss))
    _, seconds = common.timed(lambda: jax.block_until_ready(fn(params, x, y)))
    if forward:
        return [common.Column("jax", lambda: [jax.block_until_ready(fn(params, x, y))],
                              compile_s=seconds)]
    call = lambda: jax.block_until_ready(fn(params, x, y))  # noqa: E731
    return [common.Column("jax", call, lambda r: [r[0]] + [np.asarray(g) for g in r[1]],
                          compile_s=seconds)]


def torch_columns(values, forward: bool) -> list:
    torch = common.peer("torch")
    if torch is None:
        return []
    x, y = torch.from_numpy(values[0]), torch.from_numpy(values[1])
    params = [torch.tensor(v, requires_grad=not forward) for v in values[2:]]
    F = torch.nn.functional

    def loss():
        h = x
        for i in range(0, 6, 2):
            h = torch.addmm(params[i + 1], h, params[i])
            h = torch.sigmoid(h) if i < 4 else h
        return F.cross_entropy(h, y)

    if forward:
        def call():
            with torch.no_grad():
                return [loss()]
        return [common.Column("torch", call, lambda r: [r[0].numpy()])]

    def grad_call():
        value = loss()
        return [value.detach()] + list(torch.autograd.grad(value, params))
    return [common.Column("torch", grad_call, lambda r: [t.numpy() for t in r])]


def autograd_columns(values, forward: bool) -> list:
    ag = common.peer("autograd")
    if ag is None:
        return []
    anp = ag.numpy

    def loss(params, x, y):
        h = x
        for i in range(0, 6, 2):
            h = anp.dot(h, params[i]) + params[i + 1]
            h = 1.0 / (1.0 + anp.exp(-h)) if i < 4 else h
        h = h - anp.max(h, axis=1, keepdims=True)
        logp = h - anp.log(anp.sum(anp.exp(h), axis=1, keepdims=True))
        return -anp.mean(logp[anp.arange(x.shape[0]), y])

    x, y, params = values[0], values[1], list(values[2:])
    if forward:
        return [common.Column("autograd", lambda: [loss(params, x, y)])]
    vg = ag.value_and_grad(loss)
    return [common.Column("autograd", lambda: vg(params, x, y),
                          lambda r: [r[0]] + [np.asarray(g) for g in r[1]])]


def pytensor_graph(pt) -> tuple:
    """(x, y, params, loss): the W1 loss as a PyTensor graph (W3 differentiates it too)."""
    x, y = pt.dmatrix("x"), pt.lvector("y")
    params = [pt.dmatrix("W1"), pt.dvector("b1"), pt.dmatrix("W2"), pt.dvector("b2"),
              pt.dmatrix("W3"), pt.dvector("b3")]
    h = x
    for i in range(0, 6, 2):
        h = pt.dot(h, params[i]) + params[i + 1]
        h = pt.sigmoid(h) if i < 4 else h
    logp = pt.special.log_softmax(h, axis=1)
    return x, y, params, -pt.mean(logp[pt.arange(x.shape[0]), y])


def pytensor_columns(values, forward: bool) -> list:
    pytensor = common.peer("pytensor")
    if pytensor is None:
        return []
    x, y, params, loss = pytensor_graph(pytensor.tensor)
    outputs = [loss] if forward else [loss] + pytensor.grad(loss, params)
    columns = []
    for label, mode in (("pytensor", None), ("pytensor-c", pytensor.compile.mode.Mode(linker="cvm"))):
        try:
            fn, seconds = common.timed(lambda: pytensor.function([x, y] + params, outputs, mode=mode))
        except Exception as err:  # a backend that cannot compile here is reported, not fatal
            print(f"# {label}: cannot compile ({type(err).__name__}: {str(err)[:80]})")
            continue
        fn.trust_input = True
        columns.append(common.Column(label, lambda fn=fn: fn(*values), compile_s=seconds,
                                     note="trust_input"))
    return columns


BUILDERS = (symgrad_columns, jax_columns, torch_columns, autograd_columns, pytensor_columns)


def peak_memory(call) -> int:
    """Peak bytes NumPy holds over two calls (tracemalloc sees NumPy's allocator),
    made in a thread of their own, so that memory a library keeps per thread
    across calls (symgrad's scratch buffers) is allocated, and counted, here."""
    def traced():
        tracemalloc.start()
        call()
        call()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    peaks: list = []
    thread = threading.Thread(target=traced)
    thread.start()
    thread.join()
    return peaks[0]


def flops(batch: int, forward: bool) -> float:
    """Floating-point operations of the matrix products of one call (the rest is
    O(batch * width)): forward 2 b Σ n_in n_out; the gradient adds the weight
    gradients (as many again) and the backpropagated deltas of layers 2 and 3."""
    products = [n_in * n_out for n_in, n_out in zip(SIZES, SIZES[1:])]
    return 2.0 * batch * (sum(products) if forward else 2 * sum(products) + sum(products[1:]))


def columns_for(values, forward: bool, peers) -> list:
    """Hand NumPy, symgrad's variants and the installed peers."""
    columns = [hand_column(values, forward)]
    for build in BUILDERS:
        name = build.__name__.split("_")[0]
        if name == "symgrad" or name in peers:
            columns += build(values, forward)
    return columns


def hand_column(values, forward: bool):
    return common.Column("hand", (lambda: [hand_loss(*values)]) if forward
                         else (lambda: hand_grad(*values)))


FRESH_CASES = tuple(f"grad batch {batch}" for batch in BATCHES)


def fresh_column(case: str, name: str):
    """The column ``name`` of ``case`` and nothing else (data, build, compile), for
    a fresh process that does what a user's script does; None when not installed."""
    forward, values = case.startswith("forward"), data(int(case.rsplit(" ", 1)[1]))
    return common.only_column(name, BUILDERS, [lambda: hand_column(values, forward)],
                              values, forward)


def run(settings: dict, peers=common.PEERS) -> list:
    results = []
    for batch in BATCHES:
        values = data(batch)
        if batch == BATCHES[-1]:  # the limit there, measured just before its cases
            gemm = common.gemm_rate()
            results.append(common.Result("W1", "machine GEMM", "numpy", extra={
                "gflops": round(gemm, 1), "shape": "x".join(map(str, common.GEMM_SHAPE))}))
        for forward in (False, True):
            case = f"{'forward' if forward else 'grad'} batch {batch}"
            rows = common.compare("W1", case, columns_for(values, forward, peers), settings,
                                  rtol=1e-7)
            if batch == BATCHES[-1]:
                for row in rows:
                    if row.seconds:
                        gflops = flops(batch, forward) / row.seconds / 1e9
                        row.extra.update(gflops=round(gflops, 1), of_gemm=round(gflops / gemm, 2))
            results += rows
        if batch == BATCHES[-1]:
            sym = symgrad_columns(values, False, common.HEADLINE)[0]
            hand_peak, sym_peak = peak_memory(lambda: hand_grad(*values)), peak_memory(sym.call)
            results.append(common.Result("W1", f"peak memory batch {batch}", "symgrad",
                                         ratio=sym_peak / hand_peak,
                                         extra={"hand_bytes": hand_peak, "symgrad_bytes": sym_peak}))
    return results


if __name__ == "__main__":
    from .run import main_single
    main_single(run)
