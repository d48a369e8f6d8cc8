"""The default path (issue 12): what a user gets with no ``sg.simplify`` call.

Naive log/exp compositions are built as their stable ops, so values and
gradients are finite in either order (simplify before or after ``grad``, or
never); constant arithmetic from derivative rules is folded when built; and
``sg.function``/``sg.codegen`` optimize unless told ``optimize=False``.
"""
import numpy as np
import pytest

import symgrad as sg
from symgrad.ops import elementwise, reductions

a = sg.vector("a", 3)
z = sg.scalar("z")
X = sg.matrix("X", (2, 3))
BIG = np.array([1000.0, 0.0, -1000.0])


@pytest.mark.parametrize("naive, stable", [
    (lambda: sg.log(sg.sigmoid(z)), lambda: elementwise.log_sigmoid(z)),
    (lambda: sg.log(1.0 - sg.sigmoid(z)), lambda: elementwise.log_sigmoid(-z)),
    (lambda: sg.log(1.0 + sg.exp(z)), lambda: elementwise.softplus(z)),
    (lambda: sg.log(sg.exp(z) + 1.0), lambda: elementwise.softplus(z)),
    (lambda: sg.log1p(sg.exp(z)), lambda: elementwise.softplus(z)),
    (lambda: sg.log(sg.exp(z)), lambda: z),
    (lambda: sg.log(sg.softmax(X, axis=1)), lambda: reductions.log_softmax(X, axis=1)),
    (lambda: sg.log(sg.sum(sg.exp(X), axis=0)), lambda: reductions.logsumexp(X, axis=0)),
    (lambda: sg.exp(X) / sg.sum(sg.exp(X), axis=1, keepdims=True), lambda: sg.softmax(X, axis=1)),
    (lambda: sg.exp(X) / sg.sum(sg.exp(X), axis=0), lambda: sg.softmax(X, axis=0)),
    (lambda: sg.exp(a) / sg.sum(sg.exp(a)), lambda: sg.softmax(a)),
])
def test_naive_compositions_are_built_as_the_stable_op(naive, stable):
    assert naive() is stable()


def test_quotients_that_are_not_a_softmax_stay_quotients():
    # a sum over the last axis without keepdims broadcasts against the wrong axis
    square = sg.matrix("S", (3, 3))
    e = sg.exp(square)
    wrong_axis = e / sg.sum(e, axis=1)
    assert wrong_axis.op is elementwise.divide
    assert (e / sg.sum(e)).op is elementwise.divide  # over both axes: no one-axis softmax
    assert (sg.log(2.0 - sg.sigmoid(z))).op is elementwise.log


@pytest.mark.parametrize("simplify_first", [False, True])
def test_naive_losses_are_finite_through_function_in_both_orders(simplify_first):
    e = sg.exp(a)
    cases = [
        (-sg.log(sg.softmax(a))[1], a, BIG, 1000.0, [1.0, -1.0, 0.0]),
        (-sg.log(e / sg.sum(e))[1], a, BIG, 1000.0, [1.0, -1.0, 0.0]),
        (-sg.log(e / sg.sum(e, keepdims=True))[1], a, BIG, 1000.0, [1.0, -1.0, 0.0]),
        (sg.log(sg.sum(e)), a, BIG, 1000.0, [1.0, 0.0, 0.0]),
        (sg.log(sg.sigmoid(z)), z, np.array(-800.0), -800.0, 1.0),
        (sg.log(1.0 - sg.sigmoid(z)), z, np.array(40.0), -40.0, -1.0),
    ]
    for cost, wrt, at, value, gradient in cases:
        forward = sg.simplify(cost) if simplify_first else cost
        g = sg.grad(forward, wrt)
        outputs = [forward, g] if simplify_first else sg.simplify([forward, g])
        for outs in (outputs, [cost, sg.grad(cost, wrt)]):
            got_value, got_gradient = sg.function([wrt], outs)(at)
            np.testing.assert_allclose(got_value, value, rtol=1e-12)
            np.testing.assert_allclose(got_gradient, gradient, rtol=1e-12, atol=1e-300)


def test_readme_gradient_prints_clean_without_simplify():
    W = sg.matrix("W", ("n", "m"))
    x, y = sg.vector("x", "m"), sg.vector("y", "n")
    gW = sg.grad(sg.sum((sg.sigmoid(W @ x) - y) ** 2), W)
    text = str(gW)
    assert "2 - 1" not in text and "^∘" not in text and "1 *" not in text
    assert text == str(sg.simplify(gW))


def test_scalar_constant_arithmetic_folds_as_numpy_would():
    two, zero = sg.constant(2), sg.constant(0.0)
    assert (two - 1.0) is sg.constant(1.0)
    assert (two ** 0.5) is sg.constant(float(np.sqrt(2.0)))
    with pytest.warns(RuntimeWarning):
        assert np.isinf((sg.constant(1.0) / zero).value)
    with pytest.warns(RuntimeWarning):
        assert np.isnan((sg.constant(-8.0) ** 0.5).value)   # NumPy's float64, not complex
    assert (sg.constant(2) * sg.constant(3)).dtype == "int64"  # integer arithmetic is not folded


def test_optimize_false_compiles_the_graph_as_built():
    x = sg.vector("x", 2)
    cost = sg.sum(sg.exp(x) - sg.exp(x))
    at = np.array([1.0, 1000.0])
    assert sg.function([x], cost)(at) == 0.0
    assert np.isnan(sg.function([x], cost, optimize=False)(at))
    assert "np.exp" not in sg.codegen([x], cost) and "np.exp" in sg.codegen([x], cost, optimize=False)
    with pytest.raises(ValueError, match="backend"):
        sg.function([x], cost, backend="tensorflow")


def test_scalar_arguments_take_the_fast_path_with_numpy_semantics():
    p, q = sg.scalar("p"), sg.scalar("q")  # the NumPy code's checker (scalar code: test_scalar_code)
    f = sg.function([p, q], [p / q, sg.exp(p) * q], optimize=False)
    assert f._fast(np.float64(1.0), np.float64(0.0))       # NumPy scalars go straight in
    converted = f._fast(1.0, 0.0)                            # Python floats are converted
    assert [type(a) for a in converted] == [np.float64, np.float64]
    assert f._fast(1.0, "x") is None and f._fast(np.array([1.0]), 0.0) is None
    for args in [(1.0, 0.0), (np.float64(1.0), np.float64(0.0)), (np.array(1.0), np.array(0.0))]:
        ratio, product = f(*args)
        assert np.isinf(ratio) and product == 0.0            # inf, never ZeroDivisionError
    many = [sg.scalar(f"s{i}") for i in range(200)]         # above the old generated limit
    g = sg.function(many, sum(many[1:], many[0]), optimize=False)
    assert g._fast(*[np.float64(i) for i in range(200)])
    assert g._fast(*[np.float64(i) for i in range(199)], np.float32(1.0)) is None
    assert g(*[float(i) for i in range(200)]) == sum(range(200))
    with pytest.raises(TypeError, match="'s3'"):
        g(*([1.0] * 3 + ["x"] + [1.0] * 196))


def test_products_with_the_identity_fold_when_built():
    """``I @ x = x`` and ``x @ I = x`` at build time (the trace's vjp seeds with ``g I``),
    so the gradient of tr(Xᵀ M X) prints without an identity; mismatched sizes still raise."""
    X, M = sg.matrix("X", ("n", "k")), sg.matrix("M", ("n", "n"))
    v = sg.vector("v", 3)
    assert sg.eye(3) @ v is v and v @ sg.eye(3) is v
    assert sg.eye("n") @ X is X and X.T @ sg.eye("n") is X.T
    with pytest.raises(sg.ShapeError):
        sg.eye(4) @ v
    with pytest.raises(sg.ShapeError):
        sg.eye("m") @ X
    ints = sg.vector("i", 3, dtype="int64")
    assert (sg.eye(3) @ ints).dtype == np.float64  # NumPy's float product, not the ints
    g = sg.grad(sg.trace(X.T @ M @ X), X)
    assert "I" not in str(g)
    rng = np.random.default_rng(0)
    x, m = rng.normal(size=(4, 2)), rng.normal(size=(4, 4))
    np.testing.assert_allclose(sg.function([X, M], g)(x, m), (m + m.T) @ x, rtol=1e-12)
    assert sg.check_grad(sg.trace(X.T @ M @ X), [X, M]).ok


def test_a_negated_product_of_a_negation_folds_when_built():
    """-((-p) q) = p q at build time (the logistic loss's gradient would print
    ``-(-(1 - y) ⊙ σ(a))``), only where the dtype is kept."""
    x, y = sg.vector("x", 3), sg.vector("y", 3)
    assert -((-x) * y) is x * y and -(x * -y) is x * y
    b, i = sg.vector("b", 3, dtype="bool"), sg.vector("i", 3, dtype="int64")
    kept = -((-b) * i)  # float64 as NumPy computes it; b * i would be int64
    assert kept.dtype == np.float64 and kept.op is elementwise.negative
    a, t = sg.vector("a", 3), sg.vector("t", 3)
    loss = -sg.sum(t * sg.log(sg.sigmoid(a)) + (1 - t) * sg.log(1 - sg.sigmoid(a)))
    assert "-(-" not in str(sg.grad(loss, a))
    assert sg.check_grad(loss, a).ok


def test_transposes_of_products_move_to_the_leaves_when_built():
    """(Aᵀ B)ᵀ = Bᵀ A at build time (matmul's ``transposed`` fact), only where a transpose
    cancels: (A B)ᵀ stays (it would take two new transposes)."""
    A, B = sg.matrix("A", (3, 4)), sg.matrix("B", (3, 5))
    assert (A.T @ B).T is B.T @ A
    assert (B.T @ A).T.op is sg.REGISTRY["matmul"]
    C = sg.matrix("C", (4, 3))
    assert (A @ C).T.op is sg.REGISTRY["transpose"]
    X, M = sg.matrix("X", ("n", "k")), sg.matrix("M", ("n", "n"))
    assert str(sg.grad(sg.trace(X.T @ M @ X), X)) == "(M + Mᵀ) @ X"  # the terms share X
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    np.testing.assert_allclose(sg.function([A, B], (A.T @ B).T)(a, b), (a.T @ b).T, rtol=1e-13)
