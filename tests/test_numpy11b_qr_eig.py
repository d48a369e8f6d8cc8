"""qr(mode='raw') (NumPy's Householder (h, tau), built from elementary ops), the derivative
of complete R of a tall matrix (complete Q: a clear error, as PyTorch and JAX), and
linalg.eig of a real matrix with a complex spectrum (a precise error; the real spectral
functions it suggests checked against NumPy's complex eig and finite differences)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

RNG = np.random.default_rng(12)
RAW_SHAPES = [(5, 3), (3, 3), (3, 5), (2, 4, 3), (1, 1), (4, 1), (1, 4), (2, 2, 3)]


def _raw_cost(h, tau, m):
    """A nonlinear real function of both outputs (m: NumPy or symgrad)."""
    return m.sum(m.sin(h) * h) + m.sum(tau * tau * tau)


class _NP:
    sum, sin = staticmethod(np.sum), staticmethod(np.sin)


@pytest.mark.parametrize("shape", RAW_SHAPES, ids=str)
def test_raw_values_match_numpy(shape):
    x = sg.tensor("x", shape)
    h, tau = sg.linalg.qr(x, mode="raw")
    a = RNG.standard_normal(shape)
    want_h, want_tau = np.linalg.qr(a, mode="raw")
    assert h.shape == want_h.shape and tau.shape == want_tau.shape
    got_h, got_tau = sg.function([x], [h, tau])(a)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(got_tau, want_tau, rtol=1e-12, atol=1e-13)


def test_raw_special_columns_match_lapack():
    """dlarfg's branches: a column already zero below the diagonal (tau = 0, beta = x_0,
    no sign flip) and a zero leading entry (beta = -|x|)."""
    x = sg.matrix("x", (3, 3))
    f = sg.function([x], list(sg.linalg.qr(x, mode="raw")))
    for a in (np.array([[2.0, 1, 3], [0, 4, 5], [0, 0, -6]]),
              np.array([[0.0, 1, 3], [1, 4, 5], [2, 1, 6]])):
        for got, want in zip(f(a), np.linalg.qr(a, mode="raw")):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (3, 5), (2, 4, 3)], ids=str)
def test_raw_derivatives_match_central_differences(shape):
    x = sg.tensor("x", shape)
    cost = _raw_cost(*sg.linalg.qr(x, mode="raw"), sg)
    v = sg.tensor("v", shape)
    grad = sg.grad(cost, x)
    f = sg.function([x, v], [cost, grad, sg.jvp(cost, x, v), sg.hvp(cost, x, v)])
    a, direction = RNG.standard_normal(shape), RNG.standard_normal(shape)
    value, g, directional, hv = f(a, direction)

    def numpy_cost(b):
        return _raw_cost(*np.linalg.qr(b, mode="raw"), _NP)

    assert value == pytest.approx(numpy_cost(a), rel=1e-12)
    numeric = central_difference(numpy_cost, [a], 0)  # NumPy's own function, differenced
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7)
    assert directional == pytest.approx(float(np.sum(numeric * direction)), rel=1e-6)
    grad_f = sg.function([x], grad)
    step = 1e-5
    numeric_hv = (grad_f(a + step * direction) - grad_f(a - step * direction)) / (2 * step)
    np.testing.assert_allclose(hv, numeric_hv, rtol=1e-5, atol=1e-6)


def test_raw_needs_int_sizes_and_modes_are_numpys():
    with pytest.raises(NotImplementedError, match="mode='raw'.*int sizes"):
        sg.linalg.qr(sg.matrix("x", ("n", "n")), mode="raw")
    with pytest.raises(ValueError, match="Unrecognized mode 'economic'"):
        sg.linalg.qr(sg.matrix("x", (3, 3)), mode="economic")


def test_complete_r_of_a_tall_matrix_is_differentiable():
    x = sg.matrix("x", (5, 3))
    q, r = sg.linalg.qr(x, mode="complete")
    assert r.shape == (5, 3)
    cost = sg.sum(sg.sin(r) * r)
    v = sg.matrix("v", (5, 3))
    f = sg.function([x, v], [cost, sg.grad(cost, x), sg.jvp(r, x, v), sg.hvp(cost, x, v)])
    a, direction = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
    value, g, dr, hv = f(a, direction)

    def numpy_r(b):
        return np.linalg.qr(b, mode="complete")[1]

    assert value == pytest.approx(np.sum(np.sin(numpy_r(a)) * numpy_r(a)))
    numeric = central_difference(lambda b: np.sum(np.sin(numpy_r(b)) * numpy_r(b)), [a], 0)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    step = 1e-6
    numeric_dr = (numpy_r(a + step * direction) - numpy_r(a - step * direction)) / (2 * step)
    np.testing.assert_allclose(dr, numeric_dr, rtol=1e-6, atol=1e-8)
    assert np.all(dr[3:] == 0)
    grad_f = sg.function([x], sg.grad(cost, x))
    numeric_hv = (grad_f(a + 1e-5 * direction) - grad_f(a - 1e-5 * direction)) / 2e-5
    np.testing.assert_allclose(hv, numeric_hv, rtol=1e-5, atol=1e-6)
    jac = sg.function([x], sg.jacobian(r, x))(a)
    assert jac.shape == (5, 3, 5, 3) and np.all(jac[3:] == 0)


def test_complete_q_of_a_tall_matrix_raises_naming_op_mode_and_shape():
    x = sg.matrix("A", (5, 3))
    q, _ = sg.linalg.qr(x, mode="complete")
    for derivative in (lambda: sg.grad(sg.sum(q * q * q), x),
                       lambda: sg.jvp(q, x, sg.matrix("v", (5, 3)))):
        with pytest.raises(NotImplementedError,
                           match=r"qr_q\('A' \(5, 3\), mode='complete'\).*5 x 3.*m > n.*reduced"):
            derivative()


def test_eig_of_a_complex_spectrum_raises_precisely():
    x = sg.matrix("x", (8, 8))
    f = sg.function([x], sg.linalg.eigvals(x))
    a = np.random.default_rng(0).standard_normal((8, 8))  # autograd's test_eig_real case
    assert np.iscomplexobj(np.linalg.eigvals(a))
    with pytest.raises(np.linalg.LinAlgError,
                       match=r"linalg.eig/eigvals: the 8 x 8 matrix has complex eigenvalues.*"
                             r"eigh.*trace\(matrix_power\(a, k\)\)"):
        f(a)
    stacked = sg.function([sg.tensor("s", (2, 2, 2))], sg.linalg.eig(sg.tensor("s", (2, 2, 2)))[1])
    with pytest.raises(np.linalg.LinAlgError, match=r"\(1,\) of the stack"):
        stacked(np.array([np.eye(2), [[0.0, -1], [1, 0]]]))


def test_the_suggested_spectral_functions_match_numpys_complex_eig():
    """sum(w**k) = trace(a^k) and prod(|w|) = |det a| for a complex spectrum: values
    against NumPy's complex eigenvalues, gradients against their finite differences."""
    x = sg.matrix("x", (6, 6))
    a = np.random.default_rng(1).standard_normal((6, 6))
    assert np.any(np.linalg.eigvals(a).imag != 0)
    cases = [(sg.trace(sg.linalg.matrix_power(x, 3)),
              lambda b: np.sum(np.linalg.eigvals(b) ** 3).real),
             (sg.abs(sg.linalg.det(x)), lambda b: np.prod(np.abs(np.linalg.eigvals(b)))),
             (sg.trace(x), lambda b: np.sum(np.linalg.eigvals(b).real))]
    for node, numpy_fn in cases:
        f = sg.function([x], [node, sg.grad(node, x)])
        value, grad = f(a)
        assert value == pytest.approx(numpy_fn(a), rel=1e-10)
        np.testing.assert_allclose(grad, central_difference(numpy_fn, [a], 0),
                                   rtol=1e-6, atol=1e-7)
