"""Fidelity audit, linear algebra: sg.linalg.* and np.linalg.*(node) against numpy.linalg
(batched, values and dtypes), gradients against finite differences, NumPy 2's rtol=,
tensorinv/tensorsolve, the Matrix Cookbook's closed forms (sections 2.1-2.6) and
second-order checks (hessian, jvp, hvp)."""
import numpy as np
import pytest

import symgrad as sg
from fidelity_harness import check_case
from symgrad.check.numeric import central_difference


def test_every_numpy_linalg_name_exists():
    missing = [n for n in np.linalg.__all__ if not hasattr(sg.linalg, n)]
    assert missing == []


CASES = {
    "det": (lambda m, a: m.linalg.det(a), [("n", (2, 3, 3))]),
    "inv": (lambda m, a: m.linalg.inv(a), [("spd", (2, 3, 3))]),
    "solve_vec": (lambda m, a, b: m.linalg.solve(a, b), [("spd", (3, 3)), ("n", (3,))]),
    "solve_batch": (lambda m, a, b: m.linalg.solve(a, b), [("spd", (2, 3, 3)), ("n", (2, 3, 2))]),
    "slogdet": (lambda m, a: tuple(m.linalg.slogdet(a)), [("spd", (2, 3, 3))]),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), [("spd", (2, 3, 3))]),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(a, upper=True), [("spd", (3, 3))]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), [("spd", (2, 3, 3))]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [("n", (2, 4, 3))]),
    "svd_s": (lambda m, a: m.linalg.svd(a, compute_uv=False), [("n", (4, 3))]),
    "pinv": (lambda m, a: m.linalg.pinv(a), [("n", (4, 3))]),
    "pinv_rtol": (lambda m, a: m.linalg.pinv(a, rtol=1e-8), [("n", (2, 4, 3))]),
    "pinv_rtol_none": (lambda m, a: m.linalg.pinv(a, rtol=None), [("n", (3, 4))]),
    "matrix_rank": (lambda m, a: m.linalg.matrix_rank(a), [("n", (2, 4, 3))]),
    "matrix_rank_rtol": (lambda m, a: m.linalg.matrix_rank(a, rtol=0.5), [("n", (2, 4, 3))]),
    "matrix_rank_tol": (lambda m, a: m.linalg.matrix_rank(a, tol=0.5), [("n", (4, 3))]),
    "matrix_power": (lambda m, a: m.linalg.matrix_power(a, 3), [("n", (2, 3, 3))]),
    "matrix_power_neg": (lambda m, a: m.linalg.matrix_power(a, -2), [("spd", (3, 3))]),
    "matrix_power_0": (lambda m, a: m.linalg.matrix_power(a, 0), [("n", (3, 3))]),
    "cond": (lambda m, a: m.linalg.cond(a), [("spd", (3, 3))]),
    "cond_fro": (lambda m, a: m.linalg.cond(a, "fro"), [("spd", (2, 3, 3))]),
    "cond_1": (lambda m, a: m.linalg.cond(a, 1), [("spd", (3, 3))]),
    "tensorinv": (lambda m, a: m.linalg.tensorinv(a, ind=1), [("n", (6, 2, 3))]),
    "tensorinv2": (lambda m, a: m.linalg.tensorinv(a), [("n", (2, 3, 6))]),
    "tensorsolve": (lambda m, a, b: m.linalg.tensorsolve(a, b), [("n", (2, 3, 6)), ("n", (2, 3))]),
    "tensorsolve_axes": (lambda m, a, b: m.linalg.tensorsolve(a, b, axes=(0, 2)),
                         [("n", (3, 2, 2, 3)), ("n", (2, 3))]),
    "multi_dot": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
                  [("n", (3,)), ("n", (3, 4)), ("n", (4, 2))]),
    "matrix_transpose": (lambda m, a: m.linalg.matrix_transpose(a), [("n", (2, 3, 4))]),
    "vector_norm": (lambda m, a: m.linalg.vector_norm(a, axis=(0, -1), keepdims=True),
                    [("n", (2, 3, 4))]),
    "vector_norm_ord": (lambda m, a: m.linalg.vector_norm(a, ord=3, axis=1), [("n", (2, 3, 4))]),
    "matrix_norm": (lambda m, a: m.linalg.matrix_norm(a), [("n", (2, 3, 4))]),
    "matrix_norm_nuc": (lambda m, a: m.linalg.matrix_norm(a, ord="nuc", keepdims=True),
                        [("n", (2, 3, 4))]),
    "outer": (lambda m, a, b: m.linalg.outer(a, b), [("n", (3,)), ("n", (4,))]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b, axis=0), [("n", (3, 2)), ("n", (3, 1))]),
    "trace": (lambda m, a: m.linalg.trace(a, offset=1), [("n", (2, 3, 4))]),
    "diagonal": (lambda m, a: m.linalg.diagonal(a, offset=-1), [("n", (2, 3, 4))]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [("n", (2, 3)), ("n", (3,))]),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b)[0], [("n", (5, 3)), ("n", (5, 2))]),
    "qr_r": (lambda m, a: m.linalg.qr(a, mode="r"), [("n", (4, 3))]),
}
NORMS = [(None, None), ("fro", None), ("nuc", None), (1, None), (-1, None), (2, None),
         (-2, None), (np.inf, None), (-np.inf, None), (None, 0), (1, -1), (2, 0), (np.inf, 1),
         (0, 1), (3, -1), (-np.inf, 0), (None, (0, 1)), ("fro", (1, 0)), (2, (-1, -2))]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("module", ["sg", "np"])
def test_linalg(name, module):
    fn, specs = CASES[name]
    check_case(fn, specs, module=sg if module == "sg" else np)


@pytest.mark.parametrize("ord,axis", NORMS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(ord, axis, keepdims):
    shape = (3, 4) if axis is None or isinstance(axis, tuple) else (3, 4)
    check_case(lambda m, a: m.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims),
               [("n", shape)])


@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, -np.inf, 0, 3])
def test_vector_norm_1d(ord):
    check_case(lambda m, a: m.linalg.norm(a, ord), [("n", (5,))])


def test_pinv_rtol_and_rcond_conflict():
    with pytest.raises(ValueError):
        np.linalg.pinv(np.eye(2), rcond=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="rtol"):
        sg.linalg.pinv(sg.matrix("A", (2, 2)), rcond=1e-3, rtol=1e-3)


def test_rtol_drops_small_singular_values_as_numpy():
    a = np.diag([1.0, 1e-3, 1e-9])
    A = sg.matrix("A", (3, 3))
    for rtol in (1e-2, 1e-6, None):
        assert sg.function([A], sg.linalg.matrix_rank(A, rtol=rtol))(a) == \
            np.linalg.matrix_rank(a, rtol=rtol)
        np.testing.assert_allclose(sg.function([A], sg.linalg.pinv(A, rtol=rtol))(a),
                                   np.linalg.pinv(a, rtol=rtol))


@pytest.mark.parametrize("call,shape,error", [
    (lambda m, a: m.linalg.det(a), (3,), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.det(a), (2, 3), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.inv(a), (2, 3), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.cholesky(a), (3, 2), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.eigh(a), (3,), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.tensorinv(a, ind=0), (2, 2), ValueError),
    (lambda m, a: m.linalg.tensorinv(a, ind=1), (2, 3), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.tensorsolve(a, np.ones(2)), (2, 3), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.matrix_power(a, 2), (2, 3), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.matrix_power(a, 1.5), (2, 2), TypeError),
    (lambda m, a: m.linalg.norm(a, ord="fro"), (3,), ValueError),
    (lambda m, a: m.linalg.norm(a, ord="bad"), (2, 2), ValueError),
    (lambda m, a: m.linalg.norm(a, axis=(0, 0)), (2, 2), ValueError),
    (lambda m, a: m.linalg.norm(a, axis=3), (2, 2), np.exceptions.AxisError),
    (lambda m, a: m.linalg.svd(a), (3,), np.linalg.LinAlgError),
    (lambda m, a: m.linalg.solve(a, np.ones(4)), (3, 3), ValueError),
])
def test_errors_are_numpys(call, shape, error):
    with pytest.raises(error):
        call(np, np.ones(shape) + np.eye(*shape[-2:]) if len(shape) >= 2 else np.ones(shape))
    with pytest.raises(error) as info:
        call(sg, sg.tensor("A", shape))
    assert "A" in str(info.value) or error is TypeError


# Matrix Cookbook, sections 2.1-2.6: the gradient of each left side is the right side.
RNG = np.random.default_rng(7)
X0 = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
A0, B0 = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
a0, b0 = RNG.standard_normal(3), RNG.standard_normal(3)
S0 = A0 @ A0.T + np.eye(3)
inv = np.linalg.inv
COOKBOOK = {
    "(49) d det X = det X X^-T": (lambda X: sg.linalg.det(X), lambda X: np.linalg.det(X) * inv(X).T),
    "(51) d log|det X| = X^-T": (lambda X: sg.linalg.slogdet(X)[1], lambda X: inv(X).T),
    "(50) d det(AXB)": (lambda X: sg.linalg.det(A0 @ X @ B0),
                        lambda X: np.linalg.det(A0 @ X @ B0) * inv(X).T),
    "(61) d a^T X^-1 b": (lambda X: a0 @ sg.linalg.inv(X) @ b0,
                          lambda X: -inv(X).T @ np.outer(a0, b0) @ inv(X).T),
    "(63) d tr(A X^-1 B)": (lambda X: sg.trace(A0 @ sg.linalg.inv(X) @ B0),
                            lambda X: -(inv(X) @ B0 @ A0 @ inv(X)).T),
    "(100) d tr(X)": (lambda X: sg.trace(X), lambda X: np.eye(3)),
    "(101) d tr(XA)": (lambda X: sg.trace(X @ A0), lambda X: A0.T),
    "(102) d tr(AXB)": (lambda X: sg.trace(A0 @ X @ B0), lambda X: A0.T @ B0.T),
    "(108) d tr(X^T B X)": (lambda X: sg.trace(X.T @ B0 @ X), lambda X: B0 @ X + B0.T @ X),
    "(111) d tr(X^2)": (lambda X: sg.trace(X @ X), lambda X: 2 * X.T),
    "(113) d tr(X^3)": (lambda X: sg.trace(sg.linalg.matrix_power(X, 3)), lambda X: 3 * (X @ X).T),
    "(121) d tr(X^-1 A)... ": (lambda X: sg.trace(sg.linalg.inv(X) @ A0),
                               lambda X: -(inv(X) @ A0 @ inv(X)).T),
    "(70) d a^T X b": (lambda X: a0 @ X @ b0, lambda X: np.outer(a0, b0)),
    "(72) d a^T X a (sym)": (lambda X: a0 @ X @ a0, lambda X: np.outer(a0, a0)),
    "(80) d b^T X^T X c": (lambda X: b0 @ X.T @ X @ a0,
                           lambda X: X @ np.outer(a0, b0) + X @ np.outer(b0, a0)),
    "(103) d ||X||_F^2": (lambda X: sg.linalg.norm(X, "fro") ** 2, lambda X: 2 * X),
    "(119) d tr(A X^T)...": (lambda X: sg.trace(A0 @ X.T), lambda X: A0),
    "d tr(exp∘X)": (lambda X: sg.trace(sg.exp(X)), lambda X: np.diag(np.exp(np.diag(X)))),
}


@pytest.mark.parametrize("name", list(COOKBOOK))
def test_cookbook_identity(name):
    build, closed = COOKBOOK[name]
    X = sg.matrix("X", (3, 3))
    g = sg.function([X], sg.grad(build(X), X))(X0)
    np.testing.assert_allclose(g, closed(X0), rtol=1e-8, atol=1e-9)


def test_cookbook_quadratic_form_vector_gradient_and_hessian():
    x = sg.vector("x", 3)
    f = x @ sg.constant(S0) @ x + sg.constant(b0) @ x          # (81): (S + Sᵀ) x + b
    np.testing.assert_allclose(sg.function([x], sg.grad(f, x))(a0), (S0 + S0.T) @ a0 + b0)
    np.testing.assert_allclose(sg.function([x], sg.hessian(f, x))(a0), S0 + S0.T)
    v = sg.vector("v", 3)
    np.testing.assert_allclose(sg.function([x, v], sg.hvp(f, x, v))(a0, b0), (S0 + S0.T) @ b0)
    np.testing.assert_allclose(sg.function([x, v], sg.jvp(f, x, v))(a0, b0),
                               ((S0 + S0.T) @ a0 + b0) @ b0)


def test_norm_gradients_closed_forms():
    x = sg.vector("x", 3)
    np.testing.assert_allclose(sg.function([x], sg.grad(sg.linalg.norm(x), x))(a0),
                               a0 / np.linalg.norm(a0))                      # (129)
    np.testing.assert_allclose(sg.function([x], sg.grad(sg.linalg.norm(x, 1), x))(a0),
                               np.sign(a0))
    X = sg.matrix("X", (3, 3))
    u, s, vt = np.linalg.svd(X0)
    np.testing.assert_allclose(sg.function([X], sg.grad(sg.linalg.norm(X, "nuc"), X))(X0),
                               u @ vt, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sg.function([X], sg.grad(sg.linalg.norm(X, 2), X))(X0),
                               np.outer(u[:, 0], vt[0]), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["log|det|", "det", "inv", "cholesky", "tensorinv",
                                  "trace inv"])
def test_hessian_of_linalg_against_finite_differences(name):
    build = {"log|det|": lambda X: sg.linalg.slogdet(X)[1],
             "det": lambda X: sg.linalg.det(X),
             "inv": lambda X: sg.sum(sg.linalg.inv(X) * sg.constant(A0)),
             "cholesky": lambda X: sg.sum(sg.linalg.cholesky(X @ X.T + 3.0 * sg.eye(3))
                                          * sg.constant(A0)),
             "tensorinv": lambda X: sg.sum(sg.linalg.tensorinv(sg.reshape(X, (3, 3)), ind=1)
                                           * sg.constant(A0)),
             "trace inv": lambda X: sg.trace(sg.linalg.inv(X @ X.T + sg.eye(3)))}[name]
    X, V, grad, hess = _second_order_checked(build, atol=1e-6, hvp_rtol=1e-8)
    np.testing.assert_allclose(sg.function([X, V], sg.jvp(build(X), X, V))(X0, A0),
                               np.sum(grad(X0) * A0), rtol=1e-8, atol=1e-10)


def _second_order_checked(build, atol: float, hvp_rtol: float):
    """(X, V, gradient function, Hessian at X0) of ``build(X)``, the Hessian checked
    against central differences of the gradient and the HVP against the Hessian."""
    X = sg.matrix("X", (3, 3))
    f = build(X)
    grad = sg.function([X], sg.grad(f, X))
    hess = sg.function([X], sg.hessian(f, X))(X0)
    fd = np.stack([central_difference(lambda v: grad(v).ravel()[k], [X0], 0)
                   for k in range(9)]).reshape(3, 3, 3, 3)
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=atol)
    V = sg.matrix("V", (3, 3))
    np.testing.assert_allclose(sg.function([X, V], sg.hvp(f, X, V))(X0, A0),
                               np.tensordot(hess, A0, 2), rtol=hvp_rtol, atol=1e-8)
    return X, V, grad, hess


DECOMPOSITIONS = {  # sign-invariant functions of the factors, so NumPy's own signs do not matter
    "eigh projector": (lambda m, a: (lambda w, q: q * q)(*m.linalg.eigh(a)), [("spd", (3, 3))]),
    "eigh batched w": (lambda m, a: m.linalg.eigh(a)[0], [("spd", (2, 3, 3))]),
    "svd U U^T": (lambda m, a: (lambda u, s, vh: u @ m.swapaxes(u, -1, -2))(
        *m.linalg.svd(a, full_matrices=False)), [("n", (2, 4, 3))]),
    "svd U diag(s) Vh": (lambda m, a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(
        *m.linalg.svd(a, full_matrices=False)), [("n", (4, 3))]),
    "qr Q R": (lambda m, a: (lambda q, r: q @ r)(*m.linalg.qr(a)), [("n", (4, 3))]),
    "qr |R|": (lambda m, a: abs(m.linalg.qr(a)[1]), [("n", (2, 4, 3))]),
    "slogdet neg det": (lambda m, a: tuple(m.linalg.slogdet(a)), [("n", (4, 4))]),
    "lstsq x": (lambda m, a, b: m.linalg.lstsq(a, b, rcond=None)[0], [("n", (5, 3)), ("n", (5,))]),
}


@pytest.mark.parametrize("name", list(DECOMPOSITIONS))
def test_decomposition_gradients(name):
    fn, specs = DECOMPOSITIONS[name]
    check_case(fn, specs, seed=3)


@pytest.mark.parametrize("build", [
    lambda x: sg.max(x, axis=0) @ sg.max(x, axis=0), lambda x: sg.var(x, ddof=1),
    lambda x: sg.sum(sg.std(x, axis=1)), lambda x: sg.prod(x), lambda x: sg.logsumexp(x),
    lambda x: sg.linalg.norm(x), lambda x: sg.linalg.norm(x, "nuc"),
    lambda x: sg.sum(sg.cumprod(x, axis=1)), lambda x: sg.sum(sg.sort(x, axis=0)[0] ** 3),
    lambda x: sg.sum(sg.tanh(x) * sg.arctan2(x, 1.5)), lambda x: sg.mean(sg.exp(x) / sg.cosh(x)),
    lambda x: sg.sum(sg.einsum("ij,ik->jk", x, x) ** 2)])
def test_hessian_and_hvp_of_reductions_against_finite_differences(build):
    _second_order_checked(build, atol=1e-5, hvp_rtol=1e-7)


@pytest.mark.parametrize("value", [np.ones(3), np.zeros(3), np.array(2.0), np.array([0.0, -1.0])])
def test_matrix_rank_of_a_vector_or_number_as_numpy(value):
    x = sg.tensor("x", value.shape)
    node = sg.linalg.matrix_rank(x)
    got = sg.function([x], node)(value)
    assert node.dtype == np.int64 and got == np.linalg.matrix_rank(value)
