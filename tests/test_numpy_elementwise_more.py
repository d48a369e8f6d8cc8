"""Node attributes and casts as NumPy arrays have them (``.dtype`` a ``numpy.dtype``,
``.astype``, ``.clip``), and the NumPy/SciPy elementwise functions of the second
batch: values against NumPy (and SciPy where installed), gradients against central
differences, second derivatives against differences of the gradient."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.numeric import central_difference

RNG = np.random.default_rng(11)


# Attributes and casts ---------------------------------------------------------------

@pytest.mark.parametrize("dtype,numpy_type", [("float64", np.float64), ("int64", np.int64),
                                              ("bool", np.bool_)])
def test_dtype_is_a_numpy_dtype(dtype, numpy_type):
    x = sg.vector("x", 3, dtype=dtype)
    assert isinstance(x.dtype, np.dtype)
    assert x.dtype == numpy_type and x.dtype == np.dtype(dtype) and x.dtype == dtype
    assert (x * 2.0).dtype == np.float64 and x.T.dtype == x.dtype
    assert sg.exp(x).dtype == np.float64 and (x > 0).dtype == np.bool_


def test_attributes_match_numpy():
    x = sg.matrix("X", (2, 3))
    a = np.ones((2, 3))
    assert (x.shape, x.ndim, x.size, x.T.shape) == (a.shape, a.ndim, a.size, a.T.shape)
    assert sg.scalar("s").ndim == 0 and sg.scalar("s").size == 1


def test_astype_casts_like_numpy_and_has_no_gradient():
    x = sg.vector("x", 5)
    value = np.array([-2.7, -0.5, 0.0, 0.5, 3.2])
    casts = [x.astype(np.int64), x.astype(bool), x.astype(int).astype(float), sg.astype(x, "int64")]
    assert [c.dtype for c in casts] == [np.int64, np.bool_, np.float64, np.int64]
    results = sg.function([x], casts)(value)
    expected = [value.astype(np.int64), value.astype(bool),
                value.astype(int).astype(float), value.astype(np.int64)]
    for got, want in zip(results, expected):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert x.astype(np.float64) is x and x.astype("float64") is x
    g = sg.function([x], sg.grad(sg.sum(x * x.astype(int)), x))(value)
    np.testing.assert_array_equal(g, value.astype(int))  # the cast factor is a constant


def test_astype_refuses_what_numpy_refuses_or_nodes_cannot_hold():
    x = sg.vector("x", 3)
    with pytest.raises(TypeError, match="according to the rule 'safe'"):
        x.astype(np.int64, casting="safe")
    with pytest.raises(TypeError, match="float32"):
        x.astype(np.float32)
    assert sg.vector("k", 3, dtype="int64").astype(float, casting="safe").dtype == np.float64


def test_clip_method_matches_numpy():
    x = sg.vector("x", 5)
    value = np.array([-2.0, -0.5, 0.2, 0.9, 3.0])
    f = sg.function([x], [x.clip(-1.0, 1.0), x.clip(0.0), x.clip(max=0.5)])
    for got, want in zip(f(value), [value.clip(-1, 1), value.clip(0), value.clip(max=0.5)]):
        np.testing.assert_array_equal(got, want)
    g = sg.function([x], sg.grad(sg.sum(x.clip(-1.0, 1.0)), x))(value)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


# NumPy elementwise functions ---------------------------------------------------------

def _value_gradient_hessian(build, value):
    """(out, gradient, Hessian) of ``sum(build(x)**2)`` at ``value``, and the differences."""
    x = sg.vector("x", value.size)
    y = build(x)
    cost = sg.sum(y * y)
    gradient = sg.grad(cost, x)
    f = sg.function([x], [y, cost, gradient])
    out, _, g = f(value)
    numeric = central_difference(lambda v: f(v)[1], [value], 0)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    hessian = sg.function([x], sg.hessian(cost, x))(value)
    rows = np.stack([central_difference(lambda v: f(v)[2][i], [value], 0)
                     for i in range(value.size)])
    np.testing.assert_allclose(hessian, rows, rtol=1e-5, atol=1e-6)
    return out


REAL = RNG.standard_normal(6) * 2.0
UNARY = [("sinc", lambda x: sg.sinc(x), np.sinc, REAL),
         ("nan_to_num", lambda x: sg.nan_to_num(x), np.nan_to_num, REAL),
         ("remainder", lambda x: sg.remainder(x, 0.7), lambda v: np.remainder(v, 0.7), REAL),
         ("mod", lambda x: sg.mod(1.3, x), lambda v: np.mod(1.3, v), REAL),
         ("%", lambda x: x % -0.6, lambda v: v % -0.6, REAL),
         ("r%", lambda x: 2.5 % x, lambda v: 2.5 % v, REAL),
         ("fmod", lambda x: sg.fmod(x, -0.7), lambda v: np.fmod(v, -0.7), REAL),
         ("rfmod", lambda x: sg.fmod(2.5, x), lambda v: np.fmod(2.5, v), REAL),
         ("copysign", lambda x: sg.copysign(x, x[::-1] - 0.1), lambda v: np.copysign(v, v[::-1] - 0.1), REAL)]


@pytest.mark.parametrize("name,build,reference,value", UNARY, ids=[u[0] for u in UNARY])
def test_values_gradients_and_hessians(name, build, reference, value):
    np.testing.assert_allclose(_value_gradient_hessian(build, value), reference(value),
                               rtol=1e-13, atol=1e-15)


def test_remainder_and_fmod_gradients_wrt_the_divisor_are_minus_the_quotient():
    a, b = sg.vector("a", 4), sg.vector("b", 4)
    av, bv = np.array([5.3, -5.3, 5.3, -5.3]), np.array([2.0, 2.0, -2.0, -2.0])
    grads = sg.grad(sg.sum(sg.remainder(a, b)), [a, b]) + sg.grad(sg.sum(sg.fmod(a, b)), [a, b])
    ga, gb, fa, fb = sg.function([a, b], grads)(av, bv)
    np.testing.assert_array_equal(ga, 1.0)
    np.testing.assert_array_equal(gb, -np.floor(av / bv))
    np.testing.assert_array_equal(fa, 1.0)
    np.testing.assert_array_equal(fb, -np.trunc(av / bv))


def test_integer_remainder_floor_divide_and_divmod_stay_integer():
    k = sg.vector("k", 4, dtype="int64")
    kv = np.array([-7, -2, 3, 8])
    q, r = divmod(k, 3)
    nodes = [k % 3, 10 % (k + 10), k // 3, -9 // (k + 10), q, r, sg.floor_divide(k, -2)]
    results = sg.function([k], nodes)(kv)
    expected = [kv % 3, 10 % (kv + 10), kv // 3, -9 // (kv + 10), kv // 3, kv % 3, kv // -2]
    for got, want in zip(results, expected):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)


def test_sinc_derivatives_are_exact_at_and_near_zero():
    """sinc'(x) ≈ -π²x/3 and sinc''(0) = -π²/3: the closed form (cos πx - sinc x) / x
    would lose every digit here, and be NaN at 0."""
    x = sg.vector("x", 5)
    value = np.array([0.0, 1e-12, 1e-6, -1e-3, 0.2])
    first = sg.grad(sg.sum(sg.sinc(x)), x)
    second = sg.grad(sg.sum(first), x)
    g, h = sg.function([x], [first, second])(value)
    y = np.pi * value
    series = -np.pi ** 2 * value / 3 + np.pi ** 4 * value ** 3 / 30 - np.pi ** 6 * value ** 5 / 840
    np.testing.assert_allclose(g[:4], series[:4], rtol=1e-14, atol=0)
    np.testing.assert_allclose(g[4], (np.cos(y[4]) - np.sinc(value[4])) / value[4], rtol=1e-13)
    np.testing.assert_allclose(h[:3], -np.pi ** 2 / 3 * np.ones(3), rtol=1e-10)


def test_nan_to_num_matches_numpy_and_passes_the_gradient_where_finite():
    x = sg.vector("x", 5)
    value = np.array([np.nan, np.inf, -np.inf, -1.5, 2.0])
    nodes = [sg.nan_to_num(x), sg.nan_to_num(x, nan=-1.0, posinf=5.0, neginf=-5.0),
             sg.nan_to_num(x, posinf=np.inf, nan=np.nan), np.nan_to_num(x, neginf=0.0),
             sg.grad(sg.sum(3.0 * sg.nan_to_num(x)), x)]
    results = sg.function([x], nodes)(value)
    expected = [np.nan_to_num(value), np.nan_to_num(value, nan=-1.0, posinf=5.0, neginf=-5.0),
                np.nan_to_num(value, posinf=np.inf, nan=np.nan), np.nan_to_num(value, neginf=0.0),
                [0.0, 0.0, 0.0, 3.0, 3.0]]
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)
    assert sg.nan_to_num(x, nan=np.nan) is sg.nan_to_num(x, nan=float("nan"))  # interned
    k = sg.vector("k", 2, dtype="int64")
    assert sg.nan_to_num(k).dtype == np.int64


def test_masks_match_numpy_and_are_not_differentiated():
    x = sg.vector("x", 6)
    value = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -2.5])
    names = ["isfinite", "isnan", "isinf", "signbit"]
    results = sg.function([x], [getattr(sg, n)(x) for n in names]
                          + [getattr(np, n)(x) for n in names])(value)
    for got, name in zip(results, names + names):
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, getattr(np, name)(value))
    masked = sg.where(sg.isfinite(x), x, 0.0)
    g = sg.function([x], sg.grad(sg.sum(masked * masked), x))(value)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, -0.0, 0.0, -5.0])


def test_heaviside_and_copysign_match_numpy_with_their_gradients():
    a, b = sg.vector("a", 4), sg.vector("b", 4)
    av, bv = np.array([-1.0, 0.0, 2.0, 0.0]), np.array([0.5, 0.3, -1.0, -0.0])
    h, c = sg.heaviside(a, b), sg.copysign(a, b)
    results = sg.function([a, b], [h, c] + sg.grad(sg.sum(h), [a, b])
                          + sg.grad(sg.sum(c), [a, b]))(av, bv)
    expected = [np.heaviside(av, bv), np.copysign(av, bv), [0, 0, 0, 0], [0, 1, 0, 1],
                [-1.0, 0.0, -1.0, 0.0], [0, 0, 0, 0]]
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_select_is_nested_where_with_numpy_semantics():
    x = sg.vector("x", 5)
    value = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    conds = [x < -1.0, x > 1.0, x < 0.6]
    choices = [x * 2.0, sg.exp(x), x * x]
    node = sg.select(conds, choices, default=-7.0)
    grad = sg.grad(sg.sum(node), x)
    out, g = sg.function([x], [node, grad])(value)
    cv = [value < -1.0, value > 1.0, value < 0.6]
    np.testing.assert_allclose(out, np.select(cv, [value * 2, np.exp(value), value * value], -7.0))
    np.testing.assert_allclose(g, np.select(cv, [2.0 * np.ones(5), np.exp(value), 2 * value], 0.0))
    assert np.select(conds, choices) is sg.select(conds, choices)  # NumPy dispatches here
    assert sg.select([x > 0], [sg.vector("k", 5, dtype="int64")]).dtype == np.int64


def test_select_raises_as_numpy():
    x = sg.vector("x", 3)
    with pytest.raises(ValueError, match="same length"):
        sg.select([x > 0], [x, x])
    with pytest.raises(ValueError, match="empty"):
        sg.select([], [])
    with pytest.raises(TypeError, match="invalid entry 1 in condlist"):
        sg.select([x > 0, x], [x, x])


def test_numpy_ufuncs_dispatch_to_the_new_ops():
    x = sg.vector("x", 3)
    for ufunc in (np.remainder, np.fmod, np.copysign, np.heaviside, np.floor_divide):
        assert ufunc(x, 2.0).op.name == ufunc.__name__
    for ufunc in (np.isfinite, np.isnan, np.isinf, np.signbit, np.trunc):
        assert ufunc(x).op.name == ufunc.__name__
    assert np.mod(x, 2.0) is x % 2.0 and np.sinc(x) is sg.sinc(x)


def test_cli_parser_knows_the_new_names_and_operators():
    from symgrad.parse import parse_expression as parse
    x, y = sg.scalar("x"), sg.scalar("y")
    assert parse("x % y + x // 2", {}, {}) is (x % y) + x // 2.0
    assert parse("sinc(x) * fmod(x, y) - copysign(x, y)", {}, {}) is \
        sg.sinc(x) * sg.fmod(x, y) - sg.copysign(x, y)
