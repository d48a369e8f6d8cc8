"""Boolean *input* masks: ``x[m]`` with ``m`` a bool input node (the issue's "boolean
masks with a fixed mask (constant or input)"). The result's length is the mask's count
of True entries, ``nnz(m)``, a size read off ``m`` at call time. Values against NumPy,
VJP / JVP / second derivatives against central differences (float64), Jacobians,
named dimensions, printing, codegen and the build-time errors."""
import pickle

import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference
from symgrad.ir.shapes import Count, ShapeError

RNG = np.random.default_rng(11)

# (x shape as declared, x value shape, mask shape as declared, mask value shape, key builder)
FORMS = {
    "rows": (("n", 3), (5, 3), ("n",), (5,), lambda m: m),
    "full2d": ((3, 4), (3, 4), (3, 4), (3, 4), lambda m: m),
    "leading2": ((2, 3, 4), (2, 3, 4), (2, 3), (2, 3), lambda m: m),
    "named2d": (("n", "k"), (5, 4), ("n", "k"), (5, 4), lambda m: m),
    "named_leading": (("b", "n", 2), (3, 4, 2), ("b", "n"), (3, 4), lambda m: (m, slice(None, None, -1))),
    "columns": ((3, "n"), (3, 5), ("n",), (5,), lambda m: (slice(None), m)),
    "rows_colon": ((4, 3), (4, 3), (4,), (4,), lambda m: (m, slice(None))),
    "rows_sliced": ((4, 3), (4, 3), (4,), (4,), lambda m: (m, slice(1, None))),
    "rows_int": ((4, 3), (4, 3), (4,), (4,), lambda m: (m, 2)),
    "separated": ((2, 3, 4), (2, 3, 4), (4,), (4,), lambda m: (0, slice(None), m)),
    "ellipsis": ((2, 3, 4), (2, 3, 4), (4,), (4,), lambda m: (Ellipsis, m)),
    "newaxis": ((4, 3), (4, 3), (4,), (4,), lambda m: (None, m)),
    "middle": ((2, 4, 3), (2, 4, 3), (4,), (4,), lambda m: (slice(None), m, slice(None, None, -1))),
    "with_ints": ((4, 3), (4, 3), (4,), (4,), lambda m: (m, np.array([1]))),
}


def _form(name, seed=0):
    xs, xv, ms, mv, key = FORMS[name]
    rng = np.random.default_rng(seed)
    x = sg.tensor("x", xs)
    m = sg.tensor("m", ms, dtype="bool")
    X = rng.standard_normal(xv)
    M = rng.random(mv) > 0.4
    M.flat[0] = True  # at least one entry, and one left out
    M.flat[-1] = False
    return x, m, X, M, key


def _cost(y):
    return sg.sum(sg.sin(y) * y * y)


def _cost_numpy(v):
    return np.sum(np.sin(v) * v * v)


@pytest.mark.parametrize("name", FORMS)
def test_value_and_shape_match_numpy(name):
    x, m, X, M, key = _form(name)
    y = x[key(m)]
    want = X[key(M)]
    assert Count("m", m.shape) in y.shape and y.ndim == want.ndim
    f = sg.function([x, m], y)
    np.testing.assert_array_equal(f(X, M), want)
    namespace = {}
    exec(compile(sg.codegen([x, m], [y]), "<generated>", "exec"), namespace)
    np.testing.assert_array_equal(namespace["f"](X, M)[0], want)


@pytest.mark.parametrize("name", FORMS)
def test_vjp_jvp_and_hvp_match_central_differences(name):
    x, m, X, M, key = _form(name)
    cost = _cost(x[key(m)])
    grad = sg.grad(cost, x)
    v = sg.tensor("v", x.shape)
    V = RNG.standard_normal(X.shape)
    f = sg.function([x, m, v], [cost, grad, sg.jvp(cost, x, v), sg.hvp(cost, x, v)])
    value, g, directional, hv = f(X, M, V)
    assert value == pytest.approx(_cost_numpy(X[key(M)]), rel=1e-12)
    numeric = central_difference(lambda a: _cost_numpy(a[key(M)]), [X], 0)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    assert directional == pytest.approx(float(np.sum(numeric * V)), rel=1e-6)
    grad_f = sg.function([x, m], grad)
    step = 1e-5
    numeric_hv = (grad_f(X + step * V, M) - grad_f(X - step * V, M)) / (2 * step)
    np.testing.assert_allclose(hv, numeric_hv, rtol=1e-5, atol=1e-7)
    # the gradient lives on the selected entries only (a scatter into zeros)
    where = np.zeros(X.shape, bool)
    where[key(M)] = True
    assert np.all(g[~where] == 0)


def test_gradient_is_the_masked_scatter():
    """sum(x[m]**2) has gradient 2 * x * m (the issue's example), at named sizes."""
    x = sg.vector("x", "n")
    m = sg.vector("m", "n", dtype="bool")
    grad = sg.grad(sg.sum(x[m] ** 2), x)
    assert grad.shape == ("n",)
    X, M = RNG.standard_normal(7), RNG.random(7) > 0.5
    np.testing.assert_allclose(sg.function([x, m], grad)(X, M), 2 * X * M)
    report = sg.check_grad(sg.sum(sg.exp(x[m]) * x[m]), x)
    assert report.ok, report


def test_jacobian_and_hessian():
    x = sg.vector("x", 4)
    m = sg.vector("m", 4, dtype="bool")
    X, M = RNG.standard_normal(4), np.array([True, False, True, True])
    jac = sg.function([x, m], sg.jacobian(sg.sin(x[m]), x))(X, M)
    np.testing.assert_allclose(jac, (np.diag(np.cos(X)))[M])
    hess = sg.function([x, m], sg.hessian(sg.sum(x[m] ** 3), x))(X, M)
    np.testing.assert_allclose(hess, np.diag(6 * X * M))


def test_mean_divides_by_the_count_and_empty_masks():
    x = sg.matrix("x", ("n", 3))
    m = sg.vector("m", "n", dtype="bool")
    mean = sg.mean(x[m])
    f = sg.function([x, m], [mean, sg.grad(mean, x), sg.sum(x[m])])
    X = RNG.standard_normal((6, 3))
    M = np.array([1, 0, 1, 1, 0, 0], bool)
    value, grad, _ = f(X, M)
    assert value == pytest.approx(X[M].mean())
    np.testing.assert_allclose(grad, M[:, None] * np.ones((6, 3)) / (3 * M.sum()))
    total, grad_total = sg.function([x, m], [sg.sum(x[m]), sg.grad(sg.sum(x[m]), x)])(
        X, np.zeros(6, bool))
    assert total == 0.0 and np.all(grad_total == 0)
    assert "nnz_m = int(m.sum())" in f.source


def test_two_masks_and_a_mask_used_twice():
    x = sg.vector("x", "n")
    a = sg.vector("a", "n", dtype="bool")
    b = sg.vector("b", "n", dtype="bool")
    assert x[a].shape != x[b].shape and x[a].shape == (x * 2)[a].shape
    with pytest.raises(ShapeError, match="nnz"):
        x[a] + x[b]  # two counts never unify at build time
    cost = sg.sum(x[a] * (x * x)[a]) + sg.sum(sg.cos(x[b]))
    X, A, B = RNG.standard_normal(5), RNG.random(5) > 0.5, RNG.random(5) > 0.5
    grad = sg.function([x, a, b], sg.grad(cost, x))(X, A, B)
    np.testing.assert_allclose(grad, 3 * X * X * A - np.sin(X) * B, atol=1e-12)


def test_sizes_derived_from_a_count():
    x = sg.matrix("x", ("n", 3))
    m = sg.vector("m", "n", dtype="bool")
    flat = sg.ravel(x[m])  # 3*nnz(m): a product, never negative
    X, M = RNG.standard_normal((5, 3)), np.array([1, 1, 0, 1, 0], bool)
    f = sg.function([x, m], [flat, sg.grad(sg.sum(flat * flat), x)])
    np.testing.assert_array_equal(f(X, M)[0], X[M].ravel())
    np.testing.assert_allclose(f(X, M)[1], 2 * X * M[:, None])
    with pytest.raises(ShapeError, match="may be negative"):
        x[m][1:]  # nnz(m)-1 could be negative: refused at build time


def test_build_time_errors():
    x = sg.matrix("x", ("n", 3))
    with pytest.raises(TypeError, match="computed in the graph.*sg.where"):
        x[x[:, 0] > 0]
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[sg.vector("m", 3, dtype="bool")]
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[sg.vector("m", "k", dtype="bool")]  # named sizes unify only with themselves
    with pytest.raises(IndexError, match="boolean scalar"):
        x[sg.scalar("b", dtype="bool")]
    with pytest.raises(IndexError, match="too many indices"):
        x[sg.matrix("m", ("n", 3), dtype="bool"), 0]
    with pytest.raises(IndexError, match="could not be broadcast"):
        x[sg.vector("m", "n", dtype="bool"), np.array([0, 1])]  # nnz(m) against 2


def test_printing_pickling_and_sympy():
    x = sg.matrix("x", ("n", 3))
    m = sg.vector("m", "n", dtype="bool")
    y = x[:, 1:][m]
    assert str(y) == "x[:, 1:][m]"
    assert "m" in sg.latex(y)
    again = pickle.loads(pickle.dumps(y))
    assert again is y and again.shape == y.shape
    count = Count("m", ("n",))
    assert count == pickle.loads(pickle.dumps(count)) and count != "nnz(m)"
    pytest.importorskip("sympy")
    with pytest.raises(ValueError, match="bool; only float64 inputs have a SymPy equivalent"):
        sg.to_sympy(sg.sum(x[m]))
    # so equivalent tests numerically, drawing the masks too
    assert sg.equivalent(sg.sum(x[m] ** 2), sg.sum((x * x)[m]))
    assert not sg.equivalent(sg.sum(x[m] ** 2), sg.sum((1.01 * x * x)[m]))


def test_scratch_buffers_follow_the_count_across_calls():
    """Large intermediates of shape (nnz(m), j) get scratch buffers sized at each call."""
    x, w = sg.matrix("x", ("n", "k")), sg.matrix("w", ("k", "j"))
    m = sg.vector("m", "n", dtype="bool")
    y = sg.tanh(x[m] @ w)
    cost = sg.sum(sg.exp(y) * y + y * y)
    f = sg.function([x, m, w], [cost] + sg.grad(cost, [x, w]))
    assert "return ((nnz_m, j)," in f.executed_source and "out=_slots[0])" in f.executed_source
    rng = np.random.default_rng(3)
    X, W = rng.random((3000, 200)), rng.random((200, 100)) / 10
    for fraction in (0.7, 0.3, 0.7):
        M = rng.random(3000) < fraction
        Y = np.tanh(X[M] @ W)
        value, gx, gw = f(X, M, W)
        assert value == pytest.approx(np.sum(np.exp(Y) * Y + Y * Y), rel=1e-12)
        gy = (np.exp(Y) * (1 + Y) + 2 * Y) * (1 - Y * Y)
        np.testing.assert_allclose(gw, X[M].T @ gy, rtol=1e-10)
        want = np.zeros_like(X)
        want[M] = gy @ W.T
        np.testing.assert_allclose(gx, want, rtol=1e-10, atol=1e-12)


def test_an_input_cannot_declare_a_count():
    """An input of size nnz(m) could not be checked against the mask at call time."""
    x = sg.matrix("x", ("n", 3))
    m = sg.vector("m", "n", dtype="bool")
    for shape in (x[m].shape, sg.ravel(x[m]).shape):
        with pytest.raises(ValueError, match=r"input 'w': the size .*nnz\(m\).* count"):
            sg.tensor("w", shape)
