"""``sg.linalg.eig`` / ``eigvals`` of real matrices with a real spectrum: NumPy's values
and order, a clear error for a complex spectrum, and derivatives of functions of
both results against finite differences (first order and an HVP)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference
from symgrad.ops import Spec, draw


def _matrix(shape, seed=0):
    return draw(Spec(shape, "real_spectrum"), np.random.default_rng(seed), {})


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3)])
def test_values_and_vectors_are_numpys(shape):
    a = _matrix(shape)
    x = sg.tensor("A", shape)
    w, v = sg.linalg.eig(x)
    got_w, got_v = sg.function([x], [w, v])(a)
    want_w, want_v = np.linalg.eig(a)
    np.testing.assert_array_equal(got_w, want_w.real)
    np.testing.assert_array_equal(got_v, want_v.real)
    np.testing.assert_array_equal(sg.function([x], sg.linalg.eigvals(x))(a), want_w.real)


def test_complex_spectrum_raises_linalg_error():
    x = sg.matrix("A", (2, 2))
    f = sg.function([x], sg.linalg.eig(x).eigenvalues)
    with pytest.raises(np.linalg.LinAlgError, match="complex eigenvalues"):
        f(np.array([[0.0, -1.0], [1.0, 0.0]]))


def test_non_square_is_refused_at_build_time():
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        sg.linalg.eig(sg.matrix("A", (2, 3)))


@pytest.mark.parametrize("n", [3, 5])
def test_gradient_of_both_results(n):
    a = _matrix((n, n), seed=n)
    c = np.random.default_rng(1).standard_normal((n, n))
    x = sg.matrix("A", ("n", "n"))
    w, v = sg.linalg.eig(x)
    # |v| per column is 1, so weight v by a fixed matrix; signs are NumPy's (kept under d).
    cost = sg.sum(w ** 3) + sg.sum(v * sg.tensor("C", ("n", "n")))
    f = sg.function([x, sg.tensor("C", ("n", "n"))], [cost, sg.grad(cost, x)])
    numeric = central_difference(lambda m: f(m, c)[0], [a], 0)
    np.testing.assert_allclose(f(a, c)[1], numeric, rtol=1e-5, atol=1e-6)
    report = sg.check_grad(sg.sum(sg.linalg.eigvals(x) ** 2), x)
    assert report.ok, str(report)


def test_second_derivative_of_the_eigenvalues():
    a = _matrix((3, 3), seed=4)
    x = sg.matrix("A", (3, 3))
    cost = sg.sum(sg.linalg.eigvals(x) ** 3)
    d = sg.matrix("D", (3, 3))
    g = sg.grad(cost, x)
    f = sg.function([x, d], [g, sg.hvp(cost, x, d)])
    direction = np.random.default_rng(2).standard_normal((3, 3))
    h = 1e-6
    numeric = (f(a + h * direction, direction)[0] - f(a - h * direction, direction)[0]) / (2 * h)
    np.testing.assert_allclose(f(a, direction)[1], numeric, rtol=1e-5, atol=1e-6)
