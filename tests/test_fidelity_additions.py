"""Fidelity audit, additions: NumPy 2's array-API names (acos, ..., pow, unstack), isclose /
allclose, ufunc methods through dispatch (np.add.reduce, np.add.accumulate, np.multiply.outer)
and SciPy's softmax/log_softmax (axis=None), xlogy and ndtr, against NumPy/SciPy."""
import numpy as np
import pytest

import symgrad as sg
from fidelity_harness import check_case

CASES = {
    "acos": (lambda m, a: m.acos(a), [("u", (2, 3))]),
    "asin": (lambda m, a: m.asin(a), [("u", (2, 3))]),
    "atan": (lambda m, a: m.atan(a), [("n", (2, 3))]),
    "acosh": (lambda m, a: m.acosh(a), [("g", (2, 3))]),
    "asinh": (lambda m, a: m.asinh(a), [("n", (2, 3))]),
    "atanh": (lambda m, a: m.atanh(a), [("u", (2, 3))]),
    "atan2": (lambda m, a, b: m.atan2(a, b), [("n", (2, 3)), ("n", (3,))]),
    "pow": (lambda m, a, b: m.pow(a, b), [("p", (2, 3)), ("n", (3,))]),
    "unstack": (lambda m, a: m.unstack(a, axis=-1), [("n", (2, 3))]),
    "unstack 0": (lambda m, a: m.unstack(a), [("n", (2, 3, 2))]),
    "add.reduce": (lambda m, a: np.add.reduce(a), [("n", (2, 3))]),
    "add.reduce axis": (lambda m, a: np.add.reduce(a, axis=-1, keepdims=True), [("n", (2, 3))]),
    "multiply.reduce": (lambda m, a: np.multiply.reduce(a, axis=(0, 1)), [("n", (2, 3))]),
    "maximum.reduce": (lambda m, a: np.maximum.reduce(a, axis=1), [("n", (2, 3))]),
    "minimum.reduce": (lambda m, a: np.minimum.reduce(a), [("n", (2, 3))]),
    "logaddexp.reduce": (lambda m, a: np.logaddexp.reduce(a, axis=None), [("n", (2, 3))]),
    "add.accumulate": (lambda m, a: np.add.accumulate(a, axis=1), [("n", (2, 3))]),
    "multiply.accumulate": (lambda m, a: np.multiply.accumulate(a), [("n", (2, 3))]),
    "multiply.outer": (lambda m, a, b: np.multiply.outer(a, b), [("n", (2, 3)), ("n", (4,))]),
    "subtract.outer": (lambda m, a, b: np.subtract.outer(a, b), [("n", (3,)), ("n", (2,))]),
    "maximum.outer": (lambda m, a, b: np.maximum.outer(a, b), [("n", (3,)), ("n", (2,))]),
    "isclose": (lambda m, a, b: m.isclose(a, a + b * 1e-6, rtol=1e-6, atol=0.0),
                [("n", (3, 4)), ("n", (3, 4))]),
    "allclose": (lambda m, a, b: m.allclose(a, a + b * 1e-6, rtol=1e-6, atol=0.0),
                 [("n", (3, 4)), ("n", (3, 4))]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    if name.startswith("unstack") and not hasattr(np, "unstack"):
        pytest.skip("np.unstack is NumPy >= 2.1's: this NumPy has no reference for it")
    fn, specs = CASES[name]
    check_case(fn, specs)
    if not name.startswith(("unstack", "allclose")) and "." not in name:
        check_case(fn, specs, module=np)


def test_isclose_infinities_and_nans_as_numpy():
    a = np.array([1.0, np.inf, -np.inf, np.nan, np.inf, 0.0])
    b = np.array([1.0 + 1e-9, np.inf, np.inf, np.nan, 1.0, 1e-9])
    x, y = sg.vector("a", 6), sg.vector("b", 6)
    for equal_nan in (False, True):
        got = sg.function([x, y], sg.isclose(x, y, equal_nan=equal_nan))(a, b)
        np.testing.assert_array_equal(got, np.isclose(a, b, equal_nan=equal_nan))
        got = sg.function([x, y], np.isclose(x, y, equal_nan=equal_nan))(a, b)
        np.testing.assert_array_equal(got, np.isclose(a, b, equal_nan=equal_nan))


def test_ufunc_methods_without_equivalent_raise_type_error():
    x = sg.vector("x", 3)
    with pytest.raises(TypeError):
        np.subtract.reduce(x)
    with pytest.raises(TypeError):
        np.add.at(x, [0], 1.0)


scipy_special = pytest.importorskip("scipy.special", reason="SciPy evaluates erfc")


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_scipy_softmax_axis_none(name, axis):
    def f(m, a):
        return getattr(sg.special if m is sg else scipy_special, name)(a, axis=axis)
    check_case(f, [("n", (2, 3))])


@pytest.mark.parametrize("name,kinds", [("xlogy", ("n", "p")), ("ndtr", ("n",))])
def test_scipy_ufuncs(name, kinds):
    specs = [(k, (2, 3)) for k in kinds]
    check_case(lambda m, *xs: getattr(sg.special if m is sg else scipy_special, name)(*xs), specs)
    check_case(lambda m, *xs: getattr(scipy_special, name)(*xs), specs)  # dispatch


def test_xlogy_is_zero_where_x_is_zero_with_finite_gradient():
    x, y = sg.vector("x", 2), sg.vector("y", 2)
    out = sg.special.xlogy(x, y)
    xv, yv = np.array([0.0, 2.0]), np.array([0.0, 3.0])
    np.testing.assert_array_equal(sg.function([x, y], out)(xv, yv), scipy_special.xlogy(xv, yv))
    gx, gy = sg.function([x, y], sg.grad(sg.sum(out), [x, y]))(xv, yv)
    assert np.isfinite(gx).all() and np.isfinite(gy).all()
    np.testing.assert_allclose([gx[1], gy[1]], [np.log(3.0), 2.0 / 3.0])


SMALL = {
    "isposinf": (lambda m, a: m.isposinf(a / 0.0), [("n", (2, 3))]),
    "isneginf": (lambda m, a: m.isneginf(a / 0.0), [("n", (2, 3))]),
    "isreal": (lambda m, a: m.isreal(a), [("n", (2, 3))]),
    "iscomplex": (lambda m, a: m.iscomplex(a), [("n", (2, 3))]),
    "ldexp": (lambda m, a, k: m.ldexp(a, k), [("n", (2, 3)), ("i", (3,))]),
    "modf": (lambda m, a: m.modf(a * 3.0), [("n", (2, 3))]),
    "array_equal": (lambda m, a: m.array_equal(a, a + 0.0), [("n", (2, 3))]),
}


@pytest.mark.parametrize("name", list(SMALL))
@pytest.mark.parametrize("module", ["sg", "np"])
def test_small_numpy_functions(name, module):
    fn, specs = SMALL[name]
    with np.errstate(all="ignore"):
        check_case(fn, specs, module=sg if module == "sg" else np)


def test_shape_queries_and_modf_at_infinity():
    x = sg.tensor("x", (2, 3, 4))
    assert (np.ndim(x), np.shape(x), np.size(x), np.size(x, -1)) == (3, (2, 3, 4), 24, 4)
    assert sg.isrealobj(x) and not sg.iscomplexobj(x)
    assert sg.array_equal(x, sg.tensor("y", (2, 3))) is False
    v = sg.vector("v", 3)
    value = np.array([np.inf, -np.inf, -2.5])
    for got, want in zip(sg.function([v], list(sg.modf(v)))(value), np.modf(value)):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


SPECIAL = {"expit": "n", "logit": "unit", "erf": "n", "erfc": "n", "gammaln": "p",
           "digamma": "p", "psi": "p", "ndtr": "n"}


@pytest.mark.parametrize("name", list(SPECIAL))
@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_scipy_special_values_and_gradients(name, shape):
    kind = SPECIAL[name]

    def f(m, x):
        x = x * 0.4 + 0.5 if kind == "unit" else x
        return getattr(sg.special if m is sg else scipy_special, name)(x)
    check_case(f, [("u" if kind == "unit" else kind, shape)])
    check_case(lambda m, x: getattr(scipy_special, name)(x * 0.4 + 0.5 if kind == "unit" else x),
               [("u" if kind == "unit" else kind, shape)])  # SciPy's ufunc on a node


@pytest.mark.parametrize("n", [0, 1, 2])
def test_polygamma(n):
    check_case(lambda m, x: (sg.special if m is sg else scipy_special).polygamma(n, x),
               [("p", (3,))])


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("b_shape", [None, (4,), (3, 4)])
def test_scipy_logsumexp_with_weights(axis, b_shape):
    b = None if b_shape is None else np.random.default_rng(2).uniform(0.5, 2.0, b_shape)
    check_case(lambda m, x: (sg.special if m is sg else scipy_special).logsumexp(
        x, axis=axis, b=b, keepdims=True), [("n", (3, 4))])
    check_case(lambda m, x: tuple((sg.special if m is sg else scipy_special).logsumexp(
        x, axis=axis, b=None if b is None else -b, return_sign=True)), [("n", (3, 4))])
