"""The NumPy-named elementwise functions of ops/transcendental.py: values against NumPy,
gradients against central differences, second derivatives against differences of the
gradient (the registry test checks VJP and JVP on each op's samples too)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

RNG = np.random.default_rng(7)
UNIT = 0.9 * np.tanh(RNG.standard_normal(5))
REAL = RNG.standard_normal(5)
POSITIVE = np.abs(RNG.standard_normal(5)) + 0.5
ABOVE_ONE = np.abs(RNG.standard_normal(5)) + 1.5

UNARY = [("tan", UNIT), ("arcsin", UNIT), ("arccos", UNIT), ("arctan", REAL), ("sinh", REAL),
         ("cosh", REAL), ("arcsinh", REAL), ("arccosh", ABOVE_ONE), ("arctanh", UNIT),
         ("exp2", REAL), ("expm1", REAL), ("log2", POSITIVE), ("log10", POSITIVE),
         ("reciprocal", POSITIVE), ("deg2rad", REAL), ("rad2deg", REAL)]


@pytest.mark.parametrize("name,value", UNARY, ids=[u[0] for u in UNARY])
def test_unary_value_gradient_and_second_derivative(name, value):
    x = sg.vector("x", 5)
    y = getattr(sg, name)(x)
    cost = sg.sum(y * y)
    gradient = sg.grad(cost, x)
    f = sg.function([x], [y, cost, gradient])
    out, c, g = f(value)
    np.testing.assert_allclose(out, getattr(np, name)(value), rtol=1e-12)
    numeric = central_difference(lambda v: f(v)[1], [value], 0)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    hessian = sg.function([x], sg.hessian(cost, x))(value)
    rows = np.stack([central_difference(lambda v: f(v)[2][i], [value], 0) for i in range(5)])
    np.testing.assert_allclose(hessian, rows, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["arctan2", "logaddexp", "logaddexp2", "power"])
def test_binary_value_and_gradients_with_broadcasting(name):
    a, b = sg.matrix("A", (2, 3)), sg.vector("b", 3)
    av, bv = np.abs(RNG.standard_normal((2, 3))) + 0.5, RNG.standard_normal(3)
    out = getattr(sg, name)(a, b)
    cost = sg.sum(out * out)
    f = sg.function([a, b], [out, cost] + sg.grad(cost, [a, b]))
    value, c, ga, gb = f(av, bv)
    np.testing.assert_allclose(value, getattr(np, name)(av, bv), rtol=1e-12)
    np.testing.assert_allclose(ga, central_difference(lambda *v: f(*v)[1], [av, bv], 0), rtol=1e-6)
    np.testing.assert_allclose(gb, central_difference(lambda *v: f(*v)[1], [av, bv], 1), rtol=1e-6)


def test_logaddexp_is_finite_where_the_naive_form_overflows():
    a, b = sg.scalar("a"), sg.scalar("b")
    f = sg.function([a, b], [sg.logaddexp(a, b), sg.grad(sg.logaddexp(a, b), a)])
    value, grad = f(1000.0, 999.0)
    assert np.isclose(float(value), np.logaddexp(1000.0, 999.0))
    assert np.isclose(float(grad), 1.0 / (1.0 + np.exp(-1.0)))


def test_reciprocal_of_an_int_input_is_float():
    k = sg.vector("k", 3, dtype="int64")
    np.testing.assert_allclose(sg.function([k], sg.reciprocal(k))(np.array([1, 2, 4])),
                               [1.0, 0.5, 0.25])


def test_shape_errors_name_the_op():
    with pytest.raises(sg.ShapeError, match="arctan2"):
        sg.arctan2(sg.vector("u", 3), sg.vector("v", 4))


def test_cli_knows_the_new_names():
    from symgrad.cli.parse import parse_expression as parse
    node = parse("arctan(x) + logaddexp(x, y)", {}, {})
    assert "arctan" in str(node) and "logaddexp" in str(node)


def test_rounding_clip_fmax_fmin_match_numpy_with_their_subgradients():
    x = sg.vector("x", 6)
    v = np.array([-2.5, -0.5, 0.5, 1.5, 3.0, np.nan])
    nodes = [sg.floor(x), sg.ceil(x), sg.round(x), sg.around(x * 10.0, -1),
             sg.clip(x, -1.0, 2.0), sg.fmax(x, 0.0), sg.fmin(x, 0.0)]
    expected = [np.floor(v), np.ceil(v), np.round(v), np.around(v * 10.0, -1),
                np.clip(v, -1.0, 2.0), np.fmax(v, 0.0), np.fmin(v, 0.0)]
    for result, reference in zip(sg.function([x], nodes)(v), expected):
        np.testing.assert_array_equal(result, reference)
    finite = v[:5]
    y = sg.vector("y", 5)
    cost = sg.sum(sg.clip(y, -1.0, 2.0)) + sg.sum(sg.floor(y))  # floor contributes 0
    gradient = sg.function([y], sg.grad(cost, y))(finite)
    np.testing.assert_array_equal(gradient, [0.0, 1.0, 1.0, 1.0, 0.0])
