"""Newton-CG for L2-regularized logistic regression, with Hessian-vector products.

Each Newton step solves ``H p = -g`` by conjugate gradients, and CG only ever
needs products ``H v``: ``sg.hvp`` builds them symbolically (forward-over-
reverse), so the Hessian is never formed. Quadratic convergence shows in the
gradient norm, which roughly squares from one step to the next.
"""
from __future__ import annotations

import numpy as np

import symgrad as sg


def logistic_problem(n_samples: int = 500, n_features: int = 8, seed: int = 0):
    """A random separable-ish data set and the compiled loss, gradient and HVP."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    true_w = rng.standard_normal(n_features)
    y = (rng.random(n_samples) < 1 / (1 + np.exp(-X @ true_w))).astype(float)
    w, v = sg.vector("w", "d"), sg.vector("v", "d")
    Xs, ys = sg.matrix("X", ("n", "d")), sg.vector("y", "n")
    z = Xs @ w
    loss = sg.mean(sg.softplus(z) - ys * z) + 0.5e-2 * sg.sum(w * w)
    f = sg.function([w, Xs, ys], [loss, sg.grad(loss, w)])
    hvp = sg.function([w, v, Xs, ys], sg.hvp(loss, w, v))
    return f, hvp, X, y


def conjugate_gradient(apply, b, tol: float, max_iter: int):
    """Solve ``apply(p) = b`` for symmetric positive definite ``apply``."""
    p, r = np.zeros_like(b), b.copy()
    d, rr = r.copy(), r @ r
    for k in range(max_iter):
        if np.sqrt(rr) <= tol:
            return p, k
        Ad = apply(d)
        alpha = rr / (d @ Ad)
        p, r = p + alpha * d, r - alpha * Ad
        rr, rr_old = r @ r, rr
        d = r + (rr / rr_old) * d
    return p, max_iter


def newton_cg(steps: int = 10, tol: float = 1e-12) -> np.ndarray:
    f, hvp, X, y = logistic_problem()
    w = np.zeros(X.shape[1])
    print(f"{'step':>4} {'loss':>14} {'|grad|':>10} {'CG iters':>8}")
    for step in range(steps):
        loss, g = f(w, X, y)
        norm = np.linalg.norm(g)
        if norm < tol:
            print(f"{step:4d} {loss:14.10f} {norm:10.2e}   converged")
            break
        p, iters = conjugate_gradient(lambda v: hvp(w, v, X, y), -g, 1e-3 * norm * min(1, norm),
                                      max_iter=4 * len(w))
        print(f"{step:4d} {loss:14.10f} {norm:10.2e} {iters:8d}")
        w = w + p
    return w


if __name__ == "__main__":
    newton_cg()
