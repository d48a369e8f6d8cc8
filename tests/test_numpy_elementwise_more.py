"""Node attributes and casts as NumPy arrays have them (``.dtype`` a ``numpy.dtype``,
``.astype``, ``.clip``), and the NumPy/SciPy elementwise functions of the second
batch: values against NumPy (and SciPy where installed), gradients against central
differences, second derivatives against differences of the gradient."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

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
    nq, nr = np.divmod(k, -4)
    assert (nq, nr) == sg.divmod(k, -4)
    nodes = [k % 3, 10 % (k + 10), k // 3, -9 // (k + 10), q, r, sg.floor_divide(k, -2), nq, nr]
    results = sg.function([k], nodes)(kv)
    expected = [kv % 3, 10 % (kv + 10), kv // 3, -9 // (kv + 10), kv // 3, kv % 3, kv // -2,
                *np.divmod(kv, -4)]
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
    from symgrad.cli.parse import parse_expression as parse
    x, y = sg.scalar("x"), sg.scalar("y")
    assert parse("x % y + x // 2", {}, {}) is (x % y) + x // 2.0
    assert parse("sinc(x) * fmod(x, y) - copysign(x, y)", {}, {}) is \
        sg.sinc(x) * sg.fmod(x, y) - sg.copysign(x, y)


# SciPy's special functions ----------------------------------------------------------

def _scipy_special():
    return pytest.importorskip("scipy.special", reason="SciPy is not installed: the "
                               "SciPy-lowered special functions cannot be evaluated")


PROBABILITY = 0.5 + 0.45 * np.tanh(RNG.standard_normal(6))
POSITIVE = np.abs(RNG.standard_normal(6)) + 0.5
SPECIAL = [("expit", REAL, lambda s: s.expit), ("logit", PROBABILITY, lambda s: s.logit),
           ("erf", REAL, lambda s: s.erf), ("erfc", REAL, lambda s: s.erfc),
           ("gammaln", POSITIVE, lambda s: s.gammaln), ("digamma", POSITIVE, lambda s: s.digamma),
           ("psi", POSITIVE, lambda s: s.psi)]


@pytest.mark.parametrize("name,value,reference", SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special_values_gradients_and_hessians(name, value, reference):
    special = _scipy_special()
    out = _value_gradient_hessian(getattr(sg.special, name), value)
    np.testing.assert_allclose(out, reference(special)(value), rtol=1e-14)
    if hasattr(sg, name):
        assert getattr(sg, name) is getattr(sg.special, name)


def test_polygamma_and_its_derivatives():
    special = _scipy_special()
    for n in (0, 1, 3):
        out = _value_gradient_hessian(lambda x: sg.special.polygamma(n, x), POSITIVE)
        np.testing.assert_allclose(out, special.polygamma(n, POSITIVE), rtol=1e-13)
    x = sg.vector("x", 3)
    assert sg.special.polygamma(0, x) is sg.special.digamma(x)
    with pytest.raises(TypeError, match="order n"):
        sg.special.polygamma(-1, x)


def test_special_derivative_rules_are_the_textbook_ones():
    _scipy_special()
    x = sg.vector("x", 6)
    value = RNG.standard_normal(6)
    rules = [(sg.erf(x), 2 / np.sqrt(np.pi) * np.exp(-value ** 2)),
             (sg.erfc(x), -2 / np.sqrt(np.pi) * np.exp(-value ** 2)),
             (sg.expit(x), np.exp(-value) / (1 + np.exp(-value)) ** 2)]
    got = sg.function([x], [sg.grad(sg.sum(node), x) for node, _ in rules])(value)
    for g, (_, want) in zip(got, rules):
        np.testing.assert_allclose(g, want, rtol=1e-13)


def test_logit_is_accurate_in_both_tails_without_scipy():
    p = sg.vector("p", 4)
    value = np.array([1e-300, 1e-10, 1 - 1e-10, 1 - 2.0 ** -52])
    f = sg.function([p], sg.logit(p))
    assert "scipy" not in f.source
    expected = np.log(value) - np.log1p(-value)  # 1 - p is exact for p >= 0.5
    np.testing.assert_allclose(f(value), expected, rtol=1e-15)
    np.testing.assert_allclose(f(value)[:2], [np.log(1e-300), np.log(1e-10) - np.log1p(-1e-10)])
    np.testing.assert_allclose(sg.function([p], sg.expit(sg.logit(p)))(value), value, rtol=1e-9)


def test_erfc_keeps_its_relative_accuracy_in_the_tail():
    special = _scipy_special()
    x = sg.vector("x", 3)
    value = np.array([5.0, 10.0, 26.0])
    np.testing.assert_allclose(sg.function([x], sg.erfc(x))(value), special.erfc(value),
                               rtol=1e-15)
    assert np.all(sg.function([x], sg.erfc(x))(value) > 0)


def test_scipy_ufuncs_dispatch_to_the_special_ops():
    special = _scipy_special()
    x = sg.vector("x", 3)
    assert special.erf(x) is sg.erf(x) and special.erfc(x) is sg.erfc(x)
    assert special.gammaln(x) is sg.gammaln(x) and special.logit(x) is sg.logit(x)
    assert special.expit(x) is sg.sigmoid(x) and special.psi(x) is sg.special.digamma(x)


def test_missing_scipy_is_an_import_error_naming_scipy_at_call_time(monkeypatch):
    import sys
    x = sg.vector("x", 3)
    f = sg.function([x], sg.grad(sg.sum(sg.erf(x) + sg.gammaln(x + 2.0)), x))  # builds without
    source = sg.codegen([x], sg.erf(x))
    assert "import scipy" not in source.split("def ")[0]  # the module imports NumPy only
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(ImportError, match="scipy.special.erf.*SciPy"):
        sg.function([x], sg.erf(x))(np.ones(3))
    with pytest.raises(ImportError, match="SciPy"):
        f(np.ones(3))
    assert sg.function([x], sg.logit(x * 0.1))(np.ones(3)).shape == (3,)  # NumPy only


def test_sympy_knows_the_special_functions():
    import sympy as sp
    x = sg.scalar("x")
    assert sg.to_sympy(sg.erf(x)) == sp.erf(sg.to_sympy(x))
    assert sg.to_sympy(sg.gammaln(x)) == sp.loggamma(sg.to_sympy(x))
    assert sg.from_sympy(sp.erfc(sg.to_sympy(x))) is sg.erfc(x)
    assert sg.equivalent(sg.grad(sg.erf(x), x), 2 / np.sqrt(np.pi) * sg.exp(-(x * x)))


def test_cli_parser_knows_the_special_names():
    from symgrad.cli.parse import parse_expression as parse
    x = sg.scalar("x")
    assert parse("erf(x) + gammaln(x) * logit(x) - expit(x)", {}, {}) is \
        sg.erf(x) + sg.gammaln(x) * sg.logit(x) - sg.expit(x)
