"""Compile-time Cholesky lowering: logdet and solve of a provably PSD matrix
share one factorization, and values match LU/slogdet (also on the fallbacks)."""
import re
import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference
from symgrad.ir.shapes import ShapeError

GAMMA = 0.7


def _body(f) -> str:
    return f.source.split("def f(")[1]


def _logdet_cost(n):
    A = sg.matrix("A", (n, 2 * n))
    cost = -(GAMMA / 2) * sg.logdet(A @ A.T)
    return A, cost


@pytest.mark.parametrize("simplified", [False, True])
def test_logdet_and_its_gradient_share_one_cholesky_factor(rng, simplified):
    A, cost = _logdet_cost(4)
    outputs = [cost, sg.grad(cost, A)]
    f = sg.function([A], sg.simplify(outputs) if simplified else outputs)
    body = _body(f)
    assert body.count("_spd_factor(") == 1 and "_spd_logdet(" in body
    assert "slogdet" not in body and "np.linalg.solve" not in body and "np.linalg.inv" not in body
    a = rng.standard_normal((4, 8))
    value, gradient = f(a)
    M = a @ a.T
    assert value == pytest.approx(-(GAMMA / 2) * np.linalg.slogdet(M)[1], rel=1e-12)
    np.testing.assert_allclose(gradient, -GAMMA * np.linalg.solve(M, a), rtol=1e-10, atol=1e-12)
    numeric = central_difference(lambda v: f(v)[0], [a], 0)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_of_logdet_reuses_the_factor(rng):
    A, cost = _logdet_cost(3)
    V = sg.matrix("V", A.shape)
    f = sg.function([A, V], sg.hvp(cost, A, V))
    assert _body(f).count("_spd_factor(") == 1
    gradient = sg.function([A], sg.grad(cost, A))
    a, v = rng.standard_normal((3, 6)), rng.standard_normal((3, 6))
    eps = 1e-6
    numeric = (gradient(a + eps * v) - gradient(a - eps * v)) / (2 * eps)
    np.testing.assert_allclose(f(a, v), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("columns", [1, 2, 3, 7])
def test_cholesky_solve_with_few_and_many_right_hand_sides(rng, columns):
    X = sg.matrix("X", (5, 3))
    B = sg.matrix("B", (3, columns))
    b = sg.vector("b", 3)
    M = X.T @ X + sg.eye(3)
    f = sg.function([X, B, b], [sg.solve(M, B), sg.solve(M, b)])
    assert _body(f).count("_spd_factor(") == 1 and _body(f).count("_spd_solve(") == 2
    x, bm, bv = rng.standard_normal((5, 3)), rng.standard_normal((3, columns)), rng.standard_normal(3)
    m = x.T @ x + np.eye(3)
    got_matrix, got_vector = f(x, bm, bv)
    assert got_matrix.shape == (3, columns) and got_vector.shape == (3,)
    np.testing.assert_allclose(got_matrix, np.linalg.solve(m, bm), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got_vector, np.linalg.solve(m, bv), rtol=1e-12, atol=1e-13)


def test_inverse_of_a_psd_matrix_comes_from_the_factor_and_is_symmetric(rng):
    X = sg.matrix("X", (6, 4))
    f = sg.function([X], sg.inv(X.T @ X))
    assert "_spd_inv(" in _body(f) and "np.linalg.inv" not in _body(f)
    x = rng.standard_normal((6, 4))
    got = f(x)
    np.testing.assert_allclose(got, np.linalg.inv(x.T @ x), rtol=1e-10, atol=1e-12)
    assert np.array_equal(got, got.T)


def test_matrices_not_proven_psd_keep_slogdet_and_lu(rng):
    B, c = sg.matrix("B", (3, 3)), sg.vector("c", 3)
    f = sg.function([B, c], [sg.logdet(B), sg.solve(B, c)])
    body = _body(f)
    assert "_spd_" not in body and "_logdet(B)" in body and "np.linalg.solve(B, c)" in body
    b, cv = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal(3)
    logdet, x = f(b, cv)
    assert logdet == pytest.approx(np.log(np.linalg.det(b)), rel=1e-12)
    np.testing.assert_allclose(x, np.linalg.solve(b, cv), rtol=1e-12)


def test_a_singular_psd_matrix_falls_back_to_slogdet_and_lu():
    A = sg.matrix("A", (3, 5))
    r = sg.vector("r", 3)
    f = sg.function([A], [sg.logdet(A @ A.T)])
    rank_one = np.zeros((3, 5))
    rank_one[:, 0] = 1.0  # A Aᵀ has no Cholesky factor: slogdet gives -inf
    assert f(rank_one)[0] == -np.inf
    solve = sg.function([A, r], sg.solve(A @ A.T, r))
    with pytest.raises(np.linalg.LinAlgError):  # LU's own error, as np.linalg.solve
        solve(rank_one, np.ones(3))


def test_ill_conditioned_solve_is_as_accurate_as_lu(rng):
    """cond(A Aᵀ) = 1e10: the Cholesky routes' error matches LU's (both ~cond · eps)."""
    n = 12
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((2 * n, n)))
    s = np.logspace(0, -5, n)
    a = (U * s) @ V.T
    exact = (U / s) @ V.T  # (A Aᵀ)⁻¹ A = pinv(A)ᵀ, from the SVD, accurate to ~cond(A) eps
    A = sg.matrix("A", (n, 2 * n))
    f = sg.function([A], sg.solve(A @ A.T, A))
    error = np.linalg.norm(f(a) - exact) / np.linalg.norm(exact)
    lu_error = np.linalg.norm(np.linalg.solve(a @ a.T, a) - exact) / np.linalg.norm(exact)
    assert error < 10 * lu_error + 1e-12


def test_without_scipy_numpy_routes_give_the_same_values(rng, monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.linalg", None)  # the import in the module fails
    A, cost = _logdet_cost(3)
    f = sg.function([A], [cost, sg.grad(cost, A)])
    a = rng.standard_normal((3, 6))
    value, gradient = f(a)
    assert f._fn.__globals__["_lapack"] is None  # the NumPy routes ran
    assert value == pytest.approx(-(GAMMA / 2) * np.linalg.slogdet(a @ a.T)[1], rel=1e-12)
    np.testing.assert_allclose(gradient, -GAMMA * np.linalg.solve(a @ a.T, a), rtol=1e-10)


def test_lowering_ops_refuse_a_factor_of_another_matrix():
    A, B = sg.matrix("A", (3, 3)), sg.matrix("B", (3, 3))
    factor = sg.REGISTRY["spd_factor"](A)
    with pytest.raises(ShapeError, match="spd_factor"):
        sg.REGISTRY["spd_logdet"](factor, B)
    assert not sg.REGISTRY["spd_solve"].differentiable


def test_the_nan_guard_compiles_the_user_graph_unlowered(rng):
    A, cost = _logdet_cost(3)
    f = sg.function([A], [cost, sg.grad(cost, A)], nan_guard=True)
    a = rng.standard_normal((3, 6))
    value, gradient = f(a)
    np.testing.assert_allclose(gradient, -GAMMA * np.linalg.solve(a @ a.T, a), rtol=1e-10)


def _cross_entropy(k=4):
    z = sg.matrix("z", ("b", k))
    y = sg.vector("y", "b", dtype="int64")
    loss = -sg.mean(sg.sum(sg.one_hot(y, k) * sg.log_softmax(z, axis=1), axis=1))
    return z, y, loss


def _cross_entropy_by_hand(z, y):
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    p[np.arange(len(y)), y] -= 1.0
    return -logp[np.arange(len(y)), y].mean(), p / len(y)


@pytest.mark.parametrize("simplified", [False, True])
def test_cross_entropy_indexes_labels_instead_of_forming_one_hot(rng, simplified):
    z, y, loss = _cross_entropy()
    outputs = [loss, sg.grad(loss, z)]
    f = sg.function([z, y], sg.simplify(outputs) if simplified else outputs)
    body = _body(f)
    assert "_pick(" in body and "= _softmax(" not in body
    if simplified:  # softmax(z) - one_hot(y): no one_hot matrix at all
        assert "_one_hot(" not in body and "_one_hot_add(" in body
    zv, yv = rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    value, gradient = f(zv, yv)
    hand_value, hand_gradient = _cross_entropy_by_hand(zv, yv)
    assert value == pytest.approx(hand_value, rel=1e-13)
    np.testing.assert_allclose(gradient, hand_gradient, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("bad", [-1, 4])
def test_lowered_labels_keep_the_range_check(rng, bad):
    z, y, loss = _cross_entropy()
    f = sg.function([z, y], sg.simplify([loss, sg.grad(loss, z)]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
        f(rng.standard_normal((3, 4)), np.array([0, bad, 1]))


def test_picking_a_log_probability_ignores_minus_infinity_elsewhere():
    """0 * -inf made the one_hot product NaN; the indexed form picks the entry."""
    x = sg.matrix("x", (2, 3))
    y = sg.vector("y", 2, dtype="int64")
    f = sg.function([x, y], sg.sum(sg.one_hot(y, 3) * x, axis=1))
    value = np.array([[0.0, -np.inf, -1.0], [-2.0, -3.0, -np.inf]])
    np.testing.assert_array_equal(f(value, np.array([0, 1])), [0.0, -3.0])


@pytest.mark.parametrize("form", ["x + oh", "oh + x", "x - oh", "oh - x"])
def test_adding_a_one_hot_matrix_becomes_an_indexed_update(rng, form):
    x = sg.tensor("x", ("n", 2, 3))
    y = sg.tensor("y", ("n", 2), dtype="int64")
    oh = sg.one_hot(y, 3)
    expr = {"x + oh": x + oh, "oh + x": oh + x, "x - oh": x - oh, "oh - x": oh - x}[form]
    f = sg.function([x, y], expr)
    assert "_one_hot_add(" in _body(f) and "_one_hot(" not in _body(f)
    xv, yv = rng.standard_normal((4, 2, 3)), rng.integers(0, 3, size=(4, 2))
    ohv = np.eye(3)[yv]
    expected = {"x + oh": xv + ohv, "oh + x": ohv + xv, "x - oh": xv - ohv, "oh - x": ohv - xv}[form]
    np.testing.assert_array_equal(f(xv, yv), expected)
    assert not np.shares_memory(f(xv, yv), xv)


def test_one_hot_broadcast_against_a_larger_operand_is_left_alone(rng):
    x = sg.vector("x", 4)
    y = sg.vector("y", 4, dtype="int64")
    f = sg.function([x, y], x * 2.0 + sg.one_hot(y, 4))  # x broadcasts over the rows
    xv, yv = rng.standard_normal(4), np.array([0, 1, 2, 3])
    assert "_one_hot_add(" not in _body(f)
    np.testing.assert_allclose(f(xv, yv), xv * 2.0 + np.eye(4)[yv])


def test_softmax_next_to_log_softmax_is_its_exponential(rng):
    z = sg.matrix("z", (3, 5))
    both = sg.function([z], [sg.log_softmax(z, axis=1), sg.softmax(z, axis=1)])
    alone = sg.function([z], sg.softmax(z, axis=1))
    softmax_call = re.compile(r"\b_softmax\(")
    assert not softmax_call.search(_body(both)) and "np.exp(" in _body(both)
    assert softmax_call.search(_body(alone))
    zv = rng.standard_normal((3, 5)) * 30
    np.testing.assert_allclose(both(zv)[1], alone(zv), rtol=1e-13, atol=1e-300)


def test_label_ops_reject_labels_that_do_not_index_the_rows():
    x = sg.matrix("x", (3, 4))
    rows_of = lambda labels, k=4: sg.REGISTRY["label_rows"](labels, k=k)  # noqa: E731
    with pytest.raises(ShapeError):
        sg.REGISTRY["pick"](x, rows_of(sg.vector("y", 2, dtype="int64")))
    with pytest.raises(ShapeError):
        sg.REGISTRY["pick"](x, rows_of(sg.vector("y", 3, dtype="int64"), k=5))
    with pytest.raises(ShapeError, match="label_rows"):
        sg.REGISTRY["pick"](x, sg.vector("y", 3, dtype="int64"))
    with pytest.raises(ShapeError, match="integers"):
        sg.REGISTRY["one_hot_add"](x, rows_of(sg.vector("y", 3)), sign=1.0)


def test_one_range_check_serves_every_lowered_use_of_the_labels():
    z, y, loss = _cross_entropy()
    f = sg.function([z, y], sg.simplify([loss, sg.grad(loss, z)]))
    body = _body(f)
    assert body.count("_label_rows(") == 1 and "_pick(" in body and "_one_hot_add(" in body


@pytest.mark.parametrize("rows,columns,swapped", [(7, 3, True), (3, 7, False), (4, 4, False)])
def test_tall_transposed_products_are_formed_the_other_way_round(rng, rows, columns, swapped):
    X, D = sg.matrix("X", (5, rows)), sg.matrix("D", (5, columns))
    f = sg.function([X, D], X.T @ D)
    assert (".T).T" in f.executed_source) == swapped
    assert ("np.dot(D.T, X).T" in _body(f)) == swapped  # readable: no X.T.T
    xv, dv = rng.standard_normal((5, rows)), rng.standard_normal((5, columns))
    np.testing.assert_allclose(f(xv, dv), xv.T @ dv, rtol=1e-13)
