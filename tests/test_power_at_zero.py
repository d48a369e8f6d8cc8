"""The power rule where the function is locally constant: 0, not NaN (autograd issue 116;
JAX and PyTorch give these values)."""
import numpy as np

import symgrad as sg


def test_polynomial_gradient_at_zero_is_the_linear_coefficient():
    x = sg.scalar("x")
    c = [0.5, 3.0, 2.0, -1.0]
    poly = sg.constant(c[0]) * x ** 0 + c[1] * x ** 1 + c[2] * x ** 2 + c[3] * x ** 3
    f = sg.function([x], sg.grad(poly, x))
    assert float(f(0.0)) == 3.0
    assert np.isclose(float(f(1.5)), 3.0 + 2 * 2.0 * 1.5 - 3 * 1.5 ** 2)


def test_exponent_gradient_at_zero_base():
    a, p = sg.scalar("a"), sg.scalar("p")
    f = sg.function([a, p], sg.grad(a ** p, [a, p]))
    da, dp = f(0.0, 2.0)
    assert float(dp) == 0.0 and float(da) == 0.0
    da, dp = f(2.0, 3.0)
    assert np.isclose(float(da), 12.0) and np.isclose(float(dp), 8.0 * np.log(2.0))


def test_zero_exponent_at_zero_base():
    x, y = sg.scalar("x"), sg.scalar("y")
    f = sg.function([x, y], sg.grad(x ** y, x))
    assert float(f(0.0, 0.0)) == 0.0


def test_vector_power_gradient_matches_finite_differences_away_from_zero():
    x = sg.vector("x", 3)
    cost = sg.sum(x ** 3.0)
    f = sg.function([x], sg.grad(cost, x))
    v = np.array([0.0, -1.5, 2.0])
    np.testing.assert_allclose(f(v), 3 * v ** 2)
