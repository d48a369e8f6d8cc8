"""Regression tests for issue 15 items (round 4): tests that catch mutations."""
import operator

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.bridges.sympy_export import to_sympy


@pytest.mark.parametrize("build, strict, relation", [
    (operator.gt, True, operator.gt), (operator.ge, False, operator.ge),
    (operator.lt, True, operator.lt), (operator.le, False, operator.le),
])
def test_item30_each_relation_at_a_tie(build, strict, relation):
    """At x == y a strict relation is False and a non-strict one True."""
    x, y = sg.scalar("x"), sg.scalar("y")
    expr = to_sympy(build(x, y))
    sx, sy = sorted(expr.free_symbols, key=str)
    assert bool(expr.subs({sx: 2, sy: 2})) is (not strict)
    assert bool(expr.subs({sx: 3, sy: 2})) is relation(3, 2)
    assert bool(expr.subs({sx: 1, sy: 2})) is relation(1, 2)


def test_item01_reshape_that_reorders_entries_has_no_sympy_transpose():
    X = sg.matrix("X", (2, 3))
    r = sg.reshape(X, (3, 2))
    with pytest.raises(Exception, match="SymPy"):
        sg.to_sympy(r)
    report = sg.equivalent(r, X.T)
    assert not report and report.method == "numeric"
    v = sg.vector("v", 3)
    row = sg.reshape(v, (1, 3))  # a row from a vector is a transpose of the column
    assert sg.equivalent(row, sg.reshape(v, (3, 1)).T)
    back = sg.from_sympy(sg.to_sympy(row))  # v comes back as the (3, 1) column input
    (column,) = [n for n in sg.toposort(back) if n.op.name == "input"]
    x = np.arange(3.0).reshape(3, 1)
    np.testing.assert_array_equal(sg.function([column], back)(x), x.reshape(1, 3))


@pytest.mark.parametrize("optimize", [False, True])
def test_item04_bool_arithmetic_follows_its_float64_type(optimize):
    x = sg.vector("x", 3)
    outputs = [sg.sum((x > 0) + (x > 1)), sg.exp(x > 0), sg.sqrt(x > 0), -(x > 0)]
    total, e, r, neg = sg.function([x], outputs, optimize=optimize)(np.array([0.5, 2.0, -1.0]))
    assert total == 3.0                                   # float addition, not logical or
    assert e.dtype == np.float64 and r.dtype == np.float64  # not float16
    np.testing.assert_allclose(e, np.exp([1.0, 1.0, 0.0]), rtol=1e-15)
    np.testing.assert_array_equal(neg, [-1.0, -1.0, -0.0])  # no TypeError from NumPy


@pytest.mark.parametrize("optimize", [False, True])
def test_item05_int_operands_of_float_ops_compute_in_float64(optimize):
    k = sg.vector("k", 3, dtype="int64")
    outputs = [(-k) * 2 ** 62, sg.abs(k) * 2.0 ** 62, sg.sign(k) * 2 ** 62]
    kv = np.array([1, 4, 8])
    got = sg.function([k], outputs, optimize=optimize)(kv)
    want = [-kv * 2.0 ** 62, np.abs(kv) * 2.0 ** 62, np.sign(kv) * 2.0 ** 62]
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-15)


def test_item27_double_where_gives_a_finite_gradient_where_the_branch_is_undefined():
    """Documented choice (docs/reliability.md): like JAX, the unselected branch of
    ``where`` is still differentiated, so its NaN reaches the gradient; the
    double-``where`` idiom keeps it finite. This test pins both facts."""
    x = sg.vector("x", 3)
    at = np.array([-1.0, 0.0, 4.0])
    naive = sg.sum(sg.where(x > 0, sg.sqrt(x), 0.0))
    safe = sg.sum(sg.where(x > 0, sg.sqrt(sg.where(x > 0, x, 1.0)), 0.0))
    assert np.isnan(sg.function([x], sg.grad(naive, x))(at)[:2]).all()
    np.testing.assert_array_equal(sg.function([x], sg.grad(safe, x))(at), [0.0, 0.0, 0.25])
    np.testing.assert_array_equal(sg.function([x], safe)(at), sg.function([x], naive)(at))


@pytest.mark.parametrize("optimize", [False, True])
def test_item04_products_of_bool_and_int_operands_compute_in_float64(optimize):
    """Found by the random graphs: ``outer(mask, mask)`` is typed float64 but NumPy's
    ``np.outer`` of two bool arrays is bool, so a consumer writing its float result into
    that buffer raised (and ``dot`` of bools would be a logical or, of int64s could wrap)."""
    mask = sg.vector("mask", 3, dtype="bool")
    k = sg.vector("k", 3, dtype="int64")
    K = sg.matrix("K", (3, 3), dtype="int64")
    a = sg.vector("a", 3)
    outputs = [(a * a) * sg.outer(mask, mask), sg.dot(mask, mask), K @ k * 2.0 ** 62,
               sg.outer(k, k) * 2.0 ** 62, sg.einsum("i,i->", mask, mask)]
    mv, kv, Kv, av = (np.array([True, False, True]), np.array([1, 4, 8]),
                      np.arange(9).reshape(3, 3), np.array([1.0, 2.0, 3.0]))
    got = sg.function([mask, k, K, a], outputs, optimize=optimize)(mv, kv, Kv, av)
    fm, fk, fK = mv.astype(float), kv.astype(float), Kv.astype(float)
    want = [(av * av) * np.outer(fm, fm), fm @ fm, fK @ fk * 2.0 ** 62,
            np.outer(fk, fk) * 2.0 ** 62, fm @ fm]
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-15)


def test_item03_a_scalar_input_named_like_a_dimension_survives_the_sympy_round_trip():
    """``n * trace(A)`` with a scalar input ``n`` beside A's dimension ``n``: the
    dimension is SymPy's positive-integer ``n``, the input the real ``n`` (two
    symbols), so the round trip keeps the input (it used to read it as the size: 9)."""
    A, n = sg.matrix("A", ("n", "n")), sg.scalar("n")
    expr = n * sg.trace(A)
    back = sg.from_sympy(to_sympy(expr))
    assert back is expr
    value = np.diag([1.0, 2.0, 3.0])
    assert sg.function([A, n], back)(value, 5.0) == 30.0
    size = sg.from_sympy(to_sympy(sg.trace(sg.eye("n"))))  # tr(I_n): the size, still
    assert sg.function([A], size * sg.trace(A))(value) == 18.0


def test_item04_double_negation_of_bool_and_int_keeps_the_float64_type():
    """Found by the random graphs (an hvp case on NumPy 2.0): ``-(-(x > 0))`` folded to
    the bool ``x > 0`` and ``-(-k)`` to the int64 ``k``, while ``-b``/``-k`` are float64,
    so a gradient came back as a NumPy bool and finite differences of it raised."""
    x, k = sg.vector("x", 3), sg.vector("k", 3, dtype="int64")
    for node in (-(-(x > 0)), -(-k)):
        assert node.dtype == "float64"
    n, v = sg.scalar("n"), sg.scalar("v")
    t = 0 * n
    cost = sg.sum(-(-(t > 0.25) + t) * v)
    d_n, d_v = sg.function([n, v], sg.grad(cost, [n, v]))(0.125, -0.13)
    assert np.asarray(d_n).dtype == np.float64 == np.asarray(d_v).dtype  # not a NumPy bool
    assert d_v == 0.0 and d_n == 0.0
    got = sg.function([x, k], [-(-(x > 0)), -(-k) * 2.0 ** 62])(np.array([1.0, -1.0, 2.0]),
                                                                 np.array([1, 4, 8]))
    np.testing.assert_array_equal(got[0], [1.0, 0.0, 1.0])
    np.testing.assert_allclose(got[1], np.array([1.0, 4.0, 8.0]) * 2.0 ** 62, rtol=1e-15)
