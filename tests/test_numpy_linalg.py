"""sg.linalg mirrors numpy.linalg for what symgrad supports; slogdet against NumPy and
the Matrix Cookbook's d log|det X| / dX = X⁻ᵀ (eq. 57), also at a negative determinant."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference


def test_slogdet_matches_numpy_and_its_gradient_is_the_inverse_transpose():
    X = sg.matrix("X", (3, 3))
    sign, logabs = sg.linalg.slogdet(X)
    f = sg.function([X], [sign, logabs, sg.grad(logabs, X)])
    A = np.array([[0.0, 2.0, 1.0], [1.0, 0.5, -1.0], [2.0, 1.0, 3.0]])  # det < 0
    s, value, gradient = f(A)
    expected = np.linalg.slogdet(A)
    assert float(s) == expected.sign == -1.0 and np.isclose(float(value), expected.logabsdet)
    np.testing.assert_allclose(gradient, np.linalg.inv(A).T, rtol=1e-10)
    np.testing.assert_allclose(gradient, central_difference(lambda v: f(v)[1], [A], 0), rtol=1e-6)


def test_slogdet_is_finite_where_det_overflows():
    X = sg.matrix("X", (200, 200))
    f = sg.function([X], sg.linalg.slogdet(X)[1])
    A = 1e3 * np.eye(200)
    assert np.isclose(float(f(A)), 200 * np.log(1e3))


def test_second_derivative_of_logabsdet():
    X, V = sg.matrix("X", (3, 3)), sg.matrix("V", (3, 3))
    logabs = sg.linalg.slogdet(X)[1]
    f = sg.function([X, V], [sg.grad(logabs, X), sg.hvp(logabs, X, V)])
    A = np.random.default_rng(3).standard_normal((3, 3)) + 3 * np.eye(3)
    Vv = np.random.default_rng(4).standard_normal((3, 3))
    eps = 1e-6
    directional = (f(A + eps * Vv, Vv)[0] - f(A - eps * Vv, Vv)[0]) / (2 * eps)
    np.testing.assert_allclose(f(A, Vv)[1], directional, rtol=1e-5, atol=1e-8)


def test_numpy_dispatch_and_aliases():
    X = sg.matrix("X", (3, 3))
    sign, logabs = np.linalg.slogdet(X)
    assert sign is sg.linalg.slogdet(X)[0] and logabs is sg.linalg.slogdet(X)[1]
    assert sg.linalg.det is sg.det and sg.linalg.inv is sg.inv and sg.linalg.solve is sg.solve
    with pytest.raises(ValueError, match="Invalid norm order"):
        sg.linalg.norm(X, ord="abc")
