"""Logistic regression and a small MLP on row-chunked Dask data: symgrad's gradient,
Dask's scheduler.

The dask-glm pattern: the data X (n x d) and labels y are Dask arrays chunked by
rows, the parameters w a small NumPy array. ``sg.function(..., backend="dask")``
compiles the loss and its gradient against the array API for Dask arrays (an op Dask
lacks would raise here, at compile time): called with Dask arrays it only builds a
task graph; one ``dask.compute`` per step evaluates the
loss and the gradient together, reading every chunk of X once (Dask's tree reduction
sums the per-chunk ``Xᵀ r``). ``scipy.optimize.minimize`` (L-BFGS) drives the steps. Then a small MLP (one tanh
hidden layer) is trained on the same chunks by gradient descent with momentum: one
``loss, *grads = dask.compute(*f(X, y, *params))`` per step.

Here X is generated chunk by chunk from a seeded generator, so it is never held whole:
the same code fits data larger than memory (``da.from_zarr``, a memmap through
``da.from_array``). ``--distributed`` runs the computations on a
``dask.distributed.LocalCluster`` of 2 worker processes (loopback only).

Set ``SYMGRAD_QUICK=1`` for a small data set.

Needs ``pip install "symgrad[dask]"`` and SciPy.
"""
import os
import sys
import time

import numpy as np

import symgrad as sg

QUICK = os.environ.get("SYMGRAD_QUICK") == "1"
ROWS, FEATURES, CHUNK = (20_000, 10, 5_000) if QUICK else (2_000_000, 20, 200_000)
PENALTY = 1e-3


def data(rows, features, chunk, seed=0):
    """(X, y, true w): X standard normal by row chunks, y = ±1 from a noisy linear model."""
    import dask.array as da
    true_w = np.linspace(-1.0, 1.0, features)
    X = da.random.default_rng(seed).standard_normal((rows, features), chunks=(chunk, features))
    noise = da.random.default_rng(seed + 1).logistic(size=rows, chunks=chunk)
    y = da.where(X @ true_w + noise > 0, 1.0, -1.0)
    return X, y, true_w


def compiled():
    X, y, w = sg.tensor("X", ("n", "d")), sg.tensor("y", ("n",)), sg.tensor("w", ("d",))
    loss = sg.mean(sg.softplus(-y * (X @ w))) + 0.5 * PENALTY * sg.sum(w * w)
    inputs, outputs = [X, y, w], [loss] + sg.grad(loss, [w])
    return (sg.function(inputs, outputs, backend="dask"),
            sg.function(inputs, outputs))  # the NumPy backend, to check against


def fit(f, X, y, features):
    import dask
    from scipy.optimize import minimize
    calls = []

    def loss_and_gradient(w):
        value, grad = dask.compute(*f(X, y, w))  # one pass over the chunks of X
        calls.append(float(value))
        return float(value), np.asarray(grad)

    result = minimize(loss_and_gradient, np.zeros(features), jac=True, method="L-BFGS-B")
    return result, calls


HIDDEN, STEPS, RATE, MOMENTUM = 16, 30, 0.5, 0.9


def compiled_mlp(features):
    """The MLP's mean logistic loss and its gradients wrt every parameter (array API)."""
    X, y = sg.tensor("X", ("n", "d")), sg.tensor("y", ("n",))
    W1, b1 = sg.tensor("W1", ("d", HIDDEN)), sg.tensor("b1", (HIDDEN,))
    w2, b2 = sg.tensor("w2", (HIDDEN,)), sg.scalar("b2")
    score = sg.tanh(X @ W1 + b1) @ w2 + b2
    loss = sg.mean(sg.softplus(-y * score))
    params = [W1, b1, w2, b2]
    return sg.function([X, y] + params, [loss] + sg.grad(loss, params), backend="dask")


def fit_mlp(f, X, y, features, seed=0):
    """Gradient descent with momentum; each step one pass over the chunks of X."""
    import dask
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((features, HIDDEN)) / np.sqrt(features), np.zeros(HIDDEN),
              rng.standard_normal(HIDDEN) / np.sqrt(HIDDEN), np.float64(0.0)]
    velocity = [np.zeros_like(p) for p in params]
    losses = []
    for _ in range(STEPS):
        loss, *grads = dask.compute(*f(X, y, *params))
        losses.append(float(loss))
        velocity = [MOMENTUM * v - RATE * np.asarray(g) for v, g in zip(velocity, grads)]
        params = [p + v for p, v in zip(params, velocity)]
    return params, losses


def main():
    try:
        import dask  # noqa: F401
    except ImportError:
        sys.exit('this example needs Dask: pip install "symgrad[dask]"')
    X, y, true_w = data(ROWS, FEATURES, CHUNK)
    f, f_numpy = compiled()
    print(f"X: {ROWS} x {FEATURES} float64 in {X.numblocks[0]} row chunks "
          f"({X.nbytes / 2**20:.0f} MiB, never held whole)")
    print(f.source.split('"""\n', 2)[-1])
    client = None
    if "--distributed" in sys.argv:
        from dask.distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        print(f"scheduler: dask.distributed, {len(client.scheduler_info()['workers'])} workers")
    else:
        print("scheduler: Dask threads")
    start = time.perf_counter()
    result, calls = fit(f, X, y, FEATURES)
    seconds = time.perf_counter() - start
    print(f"L-BFGS: {result.nit} iterations, {len(calls)} loss+gradient passes in {seconds:.1f} s; "
          f"loss {calls[0]:.6f} -> {calls[-1]:.6f}")
    cosine = result.x @ true_w / (np.linalg.norm(result.x) * np.linalg.norm(true_w))
    print(f"fitted w vs true w: cosine similarity {cosine:.4f}")
    start = time.perf_counter()
    _, losses = fit_mlp(compiled_mlp(FEATURES), X, y, FEATURES)
    print(f"MLP ({FEATURES}-{HIDDEN}-1, tanh): {STEPS} momentum steps in "
          f"{time.perf_counter() - start:.1f} s; loss {losses[0]:.6f} -> {losses[-1]:.6f}")
    if QUICK:  # small enough to hold: the same loss and gradient from the NumPy backend
        Xv, yv = dask.compute(X, y)
        lazy = dask.compute(*f(X, y, result.x))
        eager = f_numpy(Xv, yv, result.x)
        diff = max(float(np.max(np.abs(np.asarray(a) - b))) for a, b in zip(lazy, eager))
        print(f"Dask vs NumPy backend at the optimum: max difference {diff:.1e}")
    if client is not None:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
