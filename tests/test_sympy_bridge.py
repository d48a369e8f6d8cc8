"""SymPy bridge: exact translations, round trips checked on random inputs, clear errors,
gradients through from_sympy, and what SymPy's own matrix calculus says."""
import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

import symgrad as sg
from symgrad.ir.graph import inputs_of
from symgrad.check.numeric import central_difference

N = sp.Symbol("n", integer=True, positive=True)
M_ = sp.Symbol("m", integer=True, positive=True)
SIZES = {"n": 3, "m": 2}

s, t = sg.scalar("s"), sg.scalar("t")
A, B = sg.matrix("A", ("n", "m")), sg.matrix("B", ("m", "n"))
K, L = sg.matrix("K", ("n", "n")), sg.matrix("L", ("n", "n"))
x, y = sg.vector("x", "m"), sg.vector("y", "n")
VECTORS = {"x": ("m",), "y": ("n",)}


def _values(inputs, rng):
    """Random inputs; square matrices well-conditioned with positive determinant."""
    values = []
    for node in inputs:
        shape = tuple(SIZES.get(d, d) for d in node.shape)
        value = rng.standard_normal(shape)
        if node.ndim == 2 and shape[0] == shape[1]:
            value = value @ value.T / shape[0] + np.eye(shape[0])
        values.append(value)
    return values


def _evaluate(node, inputs, values):
    return np.asarray(sg.function(inputs, node)(*values), dtype=np.float64)


# to_sympy: exact translations ------------------------------------------------------------

def test_inputs_and_dims_map_to_symbols():
    As, Bs = sp.MatrixSymbol("A", N, M_), sp.MatrixSymbol("B", M_, N)
    assert sg.to_sympy(s) == sp.Symbol("s", real=True)
    assert sg.to_sympy(A) == As
    assert sg.to_sympy(sg.matrix("C", (3, 4))) == sp.MatrixSymbol("C", 3, 4)
    assert sg.to_sympy(x) == sp.MatrixSymbol("x", M_, 1)
    assert sg.to_sympy(A @ B) == As * Bs
    assert sg.to_sympy(sg.trace(A @ B)) == sp.Trace(As * Bs)
    assert sg.to_sympy([s, t]) == [sp.Symbol("s", real=True), sp.Symbol("t", real=True)]


def test_matrix_expressions_translate_structurally():
    Ks, Ls = sp.MatrixSymbol("K", N, N), sp.MatrixSymbol("L", N, N)
    assert sg.to_sympy(sg.inv(K).T) == sp.Transpose(sp.Inverse(Ks))
    assert sg.to_sympy(sg.det(K)) == sp.Determinant(Ks)
    assert sg.to_sympy(sg.logdet(K @ K.T)) == sp.log(sp.Determinant(Ks * Ks.T))
    assert sg.to_sympy(K * L) == sp.HadamardProduct(Ks, Ls)
    r = sp.Symbol("s", real=True)
    assert sg.to_sympy(K + s * sg.eye("n")) == Ks + r * sp.Identity(N)
    assert sg.to_sympy(2 * s * sg.exp(s)) == 2 * r * sp.exp(r)
    assert sg.to_sympy(s * 0.1) == r * sp.Rational(1, 10)
    assert sg.to_sympy(sg.abs(sg.log(s))) == sp.Abs(sp.log(r), evaluate=False)
    assert isinstance(sg.to_sympy(sg.exp(K)), ElementwiseApplyFunction)


def test_vector_products_use_columns():
    xs, As = sp.MatrixSymbol("x", M_, 1), sp.MatrixSymbol("A", N, M_)
    assert sg.to_sympy(A @ x) == As * xs
    assert sg.to_sympy(x @ x).args[0] == xs.T * xs


# from_sympy: inputs are the very same interned nodes ------------------------------------

def test_from_sympy_gives_the_interned_inputs():
    assert sg.from_sympy(sp.Symbol("w")) is sg.scalar("w")
    assert sg.from_sympy(sp.MatrixSymbol("X", N, M_)) is sg.matrix("X", ("n", "m"))
    assert sg.from_sympy(sp.MatrixSymbol("X", 3, 3)) is sg.matrix("X", (3, 3))
    assert sg.from_sympy(sp.MatrixSymbol("v", N, 1), shapes={"v": ("n",)}) is sg.vector("v", "n")
    assert sg.from_sympy(sp.Symbol("w"), shapes={"w": ("n",)}) is sg.vector("w", "n")


def test_log_det_becomes_logdet():
    X = sp.MatrixSymbol("X", N, N)
    node = sg.from_sympy(sp.log(sp.det(X)))
    assert node.op.name == "logdet" and node.operands[0] is sg.matrix("X", ("n", "n"))


SCALAR_EXPRESSIONS = [
    lambda u, v: sp.exp(u) * sp.sin(v) + sp.cos(u * v) - sp.tanh(v) / 3,
    lambda u, v: sp.log(u ** 2 + 1) + sp.sqrt(v ** 2 + 2) * sp.Rational(2, 7),
    lambda u, v: sp.Abs(u) ** sp.Rational(3, 2) - 1 / (1 + v ** 2) + sp.pi,
    lambda u, v: sp.Max(u, v, 0) - sp.Min(u, 2 * v) + sp.tan(u / 5),
    lambda u, v: sp.Piecewise((u * v, u > v), (u - v, True)) + sp.E ** v,
    lambda u, v: sp.Piecewise((u, (u > 0) & (v < 1)), (v, (u < -1) | ~(v > 0)), (1, True)),
    lambda u, v: sp.Piecewise((u, sp.ITE(u > v, u > 0, v > 0)), (v ** 2, True)),
    lambda u, v: sp.re(u * v) + sp.im(u) + sp.Abs(sp.exp(sp.Max(sp.log(u ** 2 + 1), v))),
    lambda u, v: sp.cosh(u) - sp.sinh(v) + sp.arg(u),
    lambda u, v: u ** v ** 2 if False else (u ** 2 + 1) ** v - sp.Float(0.125) * sp.sign(v),
]


@pytest.mark.parametrize("build", SCALAR_EXPRESSIONS)
def test_scalar_expressions_evaluate_like_sympy(build, rng):
    u, v = sp.symbols("u v")
    expr = build(u, v)
    node = sg.from_sympy(expr)
    inputs = [sg.scalar("u"), sg.scalar("v")]
    for _ in range(5):
        pu, pv = rng.standard_normal(2)
        expected = float(expr.subs({u: pu, v: pv}).evalf())
        assert _evaluate(node, inputs, [pu, pv]) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_matrix_expressions_evaluate_like_numpy(rng):
    X, Y = sp.MatrixSymbol("X", N, N), sp.MatrixSymbol("Y", N, N)
    cases = [
        (X * Y.T + 2 * sp.Identity(N), lambda X, Y: X @ Y.T + 2 * np.eye(3)),
        (sp.Trace(X * Y) + sp.det(X), lambda X, Y: np.trace(X @ Y) + np.linalg.det(X)),
        (sp.HadamardProduct(X, Y.I), lambda X, Y: X * np.linalg.inv(Y)),
        (X ** 2 - X ** -1, lambda X, Y: X @ X - np.linalg.inv(X)),
        (sp.log(sp.det(X * X.T)), lambda X, Y: np.linalg.slogdet(X @ X.T)[1]),
        (X.applyfunc(sp.exp) + sp.HadamardPower(Y, 2), lambda X, Y: np.exp(X) + Y ** 2),
        (X[0, 1] * Y[:, 1] + X[1, :].T, lambda X, Y: X[0, 1] * Y[:, 1] + X[1, :]),
    ]
    inputs = [sg.matrix("X", ("n", "n")), sg.matrix("Y", ("n", "n"))]
    for expr, reference in cases:
        values = _values(inputs, rng)
        got = _evaluate(sg.from_sympy(expr), inputs, values)
        np.testing.assert_allclose(got.ravel(), np.ravel(reference(*values)), rtol=1e-9)


# Round trips -----------------------------------------------------------------------------

def _nested_where(depth):
    """Each test depends on the previous where (SymPy rewrites such conditions through
    ITE, in time exponential in ``depth``: keep it small)."""
    result = s
    for i in range(depth):
        result = sg.where(result > s * (i - 3), result * 0.5 + t, sg.abs(result) + 1)
    return result


ROUND_TRIPS = [
    lambda: 2 * s + sg.exp(s) * sg.log(t * t + 1) - sg.sqrt(sg.abs(s)) / t,
    lambda: sg.sigmoid(s) + sg.relu(t) + sg.softplus(s * t) + sg.log1p(t * t) + sg.tanh(s),
    lambda: sg.maximum(s, t) - sg.where(s > t, s, 2 * t),
    lambda: A @ B + s * sg.eye("n"),
    lambda: sg.trace(A @ B) + sg.logdet(K @ K.T + sg.eye("n")) - sg.det(K),
    lambda: sg.inv(K).T @ L - sg.solve(K, L),
    lambda: sg.sigmoid(A) * A / 2 + (A * A) ** 1.5 - 1 / (A * A + 1),
    lambda: A @ x + y,
    lambda: x @ B + y @ K,
    lambda: x @ x + sg.norm(y) + sg.norm(A) + y @ K @ y,
    lambda: sg.outer(y, x) + A + s,
    lambda: sg.sum(A) + sg.sum(x),
    lambda: sg.sum(A, axis=0) + sg.sum(B, axis=1) + sg.sum(sg.exp(x)),
    lambda: sg.sum(A, axis=0, keepdims=True) + sg.sum(B, axis=1, keepdims=True).T,
    lambda: A[0, :] + A[1] - x[1] + A[:, 1][0] + K[0, 0],
    lambda: A + x + sg.broadcast_to(s, ("n", "m")),
    lambda: sg.reshape(x, ("m", 1)) + sg.reshape(A @ x, (1, "n")).T[0, 0],
    lambda: sg.mean(A) + sg.mean(x),
]


@pytest.mark.parametrize("build", ROUND_TRIPS)
def test_round_trip_evaluates_the_same(build, rng):
    node = build()
    back = sg.from_sympy(sg.to_sympy(node), shapes=VECTORS)
    inputs = inputs_of([node])
    for _ in range(3):
        values = _values(inputs, rng)
        expected = _evaluate(node, inputs, values)
        got = _evaluate(back, inputs, values)
        np.testing.assert_allclose(got.ravel(), expected.ravel(), rtol=1e-9, atol=1e-12)
        assert got.size == expected.size


def test_sympy_round_trip_keeps_the_expression():
    X, Y = sp.MatrixSymbol("X", N, M_), sp.MatrixSymbol("Y", M_, N)
    for expr in [sp.Trace(X * Y), X * Y + sp.Identity(N), sp.log(sp.det(X * X.T)),
                 sp.exp(sp.Symbol("u", real=True)) + sp.Symbol("u", real=True) ** 2]:
        assert sg.to_sympy(sg.from_sympy(expr)) == expr


# Errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("build, word", [
    (lambda: sg.softmax(x), "'softmax' has no SymPy equivalent"),
    (lambda: sg.logsumexp(x), "'logsumexp'"),
    (lambda: sg.concatenate([sg.vector("c", 2), sg.vector("d", 3)]), "'concatenate'"),
    (lambda: sg.tensor("T", (2, 2, 2)), "rank 3"),
    (lambda: sg.one_hot(sg.vector("l", 3, dtype="int64"), 2), "int64"),
    (lambda: sg.maximum(A, 0.0), "'maximum'"),
    (lambda: sg.reshape(sg.matrix("R", (2, 3)), (6,)), "'reshape'"),
    (lambda: _nested_where(2), "depends on another where"),
])
def test_to_sympy_names_what_cannot_be_expressed(build, word):
    with pytest.raises(ValueError, match=word.replace("(", r"\(")):
        sg.to_sympy(build())


@pytest.mark.parametrize("build, exc, word", [
    (lambda u: sp.besselj(0, u), ValueError, "SymPy function besselj is not supported"),
    (lambda u: sp.Function("f")(u), ValueError, "SymPy function f is not supported"),
    (lambda u: u * sp.I, ValueError, "I"),
    (lambda u: sp.MatrixSymbol("X", N + 1, N), ValueError, "dimension n \\+ 1"),
    (lambda u: sp.Matrix([[u, 1]]), ValueError, "non-numeric"),
    (lambda u: sp.Piecewise((u, u > 0)), ValueError, "otherwise"),
    (lambda u: "u + 1", TypeError, "never parsed"),
])
def test_from_sympy_names_what_is_unsupported(build, exc, word):
    with pytest.raises(exc, match=word):
        sg.from_sympy(build(sp.Symbol("u")))


# Gradients through from_sympy, and SymPy's own matrix calculus --------------------------

def test_grad_through_from_sympy_matches_finite_differences(rng):
    X, W = sp.MatrixSymbol("X", N, N), sp.MatrixSymbol("W", N, N)
    w = sp.Symbol("w")
    cost = sg.from_sympy(sp.log(sp.det(X)) + w * sp.Trace(X * W) + sp.exp(w) ** 2)
    Xn, Wn, wn = sg.from_sympy(X), sg.from_sympy(W), sg.from_sympy(w)
    gX, gw = sg.grad(cost, [Xn, wn])
    inputs = [Xn, Wn, wn]
    values = _values(inputs[:2], rng) + [0.3]
    f = sg.function(inputs, cost)
    np.testing.assert_allclose(_evaluate(gX, inputs, values),
                               np.linalg.inv(values[0]).T + 0.3 * values[1].T, rtol=1e-8)
    np.testing.assert_allclose(_evaluate(gX, inputs, values),
                               central_difference(f, values, 0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_evaluate(gw, inputs, values),
                               central_difference(f, values, 2), rtol=1e-6)


def test_vector_quadratic_form_with_shapes_override(rng):
    v, Ms = sp.MatrixSymbol("v", N, 1), sp.MatrixSymbol("M", N, N)
    cost = sg.from_sympy(v.T * Ms * v, shapes={"v": ("n",)})
    vn, Mn = sg.vector("v", "n"), sg.matrix("M", ("n", "n"))
    assert cost is vn @ Mn @ vn
    assert sg.from_sympy(sp.Trace(v.T * Ms * v), shapes={"v": ("n",)}) is cost
    # Indexing a product makes SymPy expand it into an index Sum, which is refused by name.
    with pytest.raises(ValueError, match="SymPy Sum"):
        sg.from_sympy((v.T * Ms * v)[0, 0], shapes={"v": ("n",)})
    values = [rng.standard_normal(3), rng.standard_normal((3, 3))]
    g = _evaluate(sg.grad(cost, vn), [vn, Mn], values)
    np.testing.assert_allclose(g, (values[1] + values[1].T) @ values[0], rtol=1e-10)


def test_sympy_matrix_calculus_versus_symgrad(rng):
    X = sp.MatrixSymbol("X", N, N)
    # SymPy 1.14's own answers: d log det X / dX is 0 (wrong), d det X / dX stays unevaluated.
    assert sp.diff(sp.log(sp.det(X)), X) == sp.ZeroMatrix(N, N)
    assert isinstance(sp.diff(sp.det(X), X), sp.Derivative)
    Xn = sg.from_sympy(X)
    gradient = sg.grad(sg.from_sympy(sp.log(sp.det(X))), Xn)
    values = _values([Xn], rng)
    np.testing.assert_allclose(_evaluate(gradient, [Xn], values),
                               np.linalg.inv(values[0]).T, rtol=1e-10)
    g_det = sg.grad(sg.from_sympy(sp.det(X)), Xn)
    np.testing.assert_allclose(_evaluate(g_det, [Xn], values),
                               np.linalg.det(values[0]) * np.linalg.inv(values[0]).T, rtol=1e-10)
