"""Numerical robustness at extreme values (the policy is in docs/reliability.md).

References are derived by hand: shifting by a constant leaves softmax and
log_softmax unchanged and moves logsumexp by the constant, so values at ±1000
are checked against small, safe inputs; logdet is checked against the chosen
eigenvalues of a matrix built from them.
"""
import numpy as np
import pytest

import symgrad as sg

D = np.array([0.3, -1.2, 0.0, 2.5])


def _softmax(d):
    e = np.exp(d - d.max())
    return e / e.sum()


def _run(node, x, value):
    """(value, gradient of sum(node * w)) at ``value`` with fixed weights w (1 for scalars)."""
    w = np.linspace(0.5, 1.5, node.shape[0]) if node.ndim else np.float64(1.0)
    cost = sg.sum(node * w)
    f = sg.function([x], [node, sg.grad(cost, x)])
    return f(value), w


@pytest.mark.parametrize("shift", [1000.0, -1000.0, 0.0])
def test_softmax_family_at_large_magnitudes(shift):
    x = sg.vector("x", 4)
    p = _softmax(D)
    (sm, g_sm), w = _run(sg.softmax(x), x, D + shift)
    np.testing.assert_allclose(sm, p, rtol=1e-12)
    np.testing.assert_allclose(g_sm, p * (w - np.sum(w * p)), rtol=1e-10, atol=1e-14)
    (ls, g_ls), w = _run(sg.log_softmax(x), x, D + shift)
    np.testing.assert_allclose(ls, np.log(p), rtol=1e-12)
    np.testing.assert_allclose(g_ls, w - p * w.sum(), rtol=1e-10)
    (lse, g_lse), _ = _run(sg.logsumexp(x), x, D + shift)
    np.testing.assert_allclose(lse, shift + np.log(np.sum(np.exp(D))), rtol=1e-14)
    np.testing.assert_allclose(g_lse, p, rtol=1e-12)


def test_softmax_family_with_spread_of_2000():
    x = sg.vector("x", 2)
    (sm, g_sm), _ = _run(sg.softmax(x), x, np.array([1000.0, -1000.0]))
    np.testing.assert_array_equal(sm, [1.0, 0.0])
    assert np.all(np.isfinite(g_sm))
    (ls, g_ls), w = _run(sg.log_softmax(x), x, np.array([1000.0, -1000.0]))
    np.testing.assert_allclose(ls, [0.0, -2000.0])
    np.testing.assert_allclose(g_ls, w - np.array([1.0, 0.0]) * w.sum())
    (lse, g_lse), _ = _run(sg.logsumexp(x), x, np.array([-np.inf, 0.0]))
    assert lse == 0.0
    np.testing.assert_array_equal(g_lse, [0.0, 1.0])
    (lse, _), _ = _run(sg.logsumexp(x), x, np.array([-np.inf, -np.inf]))
    assert lse == -np.inf


AT = np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])


def _sigmoid(x):
    """1 / (1 + exp(-x)) in extended precision where it does not overflow."""
    x = np.asarray(x, dtype=np.longdouble)
    return np.asarray(1 / (1 + np.exp(-x)), dtype=np.float64)


# sigmoid's derivative out * (1 - out) is accurate to an absolute 1e-16 only: in
# the upper tail 1 - out rounds to 0 (documented; log_sigmoid's is relative).
@pytest.mark.parametrize("name,value,derivative,atol", [
    ("sigmoid", _sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x), 1e-16),
    ("log_sigmoid", lambda x: -np.logaddexp(0.0, -x), lambda x: _sigmoid(-x), 1e-300),
    ("softplus", lambda x: np.logaddexp(0.0, x), _sigmoid, 1e-300)])
def test_logistic_family_at_800(name, value, derivative, atol):
    x = sg.vector("x", "n")
    node = getattr(sg, name)(x)
    f = sg.function([x], [node, sg.grad(sg.sum(node), x)])
    got, grad = f(AT)
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(grad)), (got, grad)
    np.testing.assert_allclose(got, value(AT), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(grad, derivative(AT), rtol=1e-13, atol=atol)


def test_sigmoid_tail_keeps_relative_accuracy():
    x = sg.vector("x", "n")
    at = np.array([-700.0, -300.0, -37.0])
    np.testing.assert_allclose(sg.function([x], sg.sigmoid(x))(at), _sigmoid(at), rtol=1e-12)


@pytest.mark.parametrize("naive,stable", [
    (lambda x: sg.log(sg.softmax(x)), lambda d: np.log(_softmax(d))),
    (lambda x: sg.log(sg.sigmoid(x)), lambda d: -np.logaddexp(0.0, -d))])
@pytest.mark.parametrize("shift", [800.0, -800.0])
def test_naive_log_of_normalized_exponentials_is_stable_after_simplify(naive, stable, shift):
    x = sg.vector("x", "n")
    node = sg.simplify(naive(x))
    f = sg.function([x], [node, sg.grad(sg.sum(node), x)])
    value, grad = f(D + shift)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), (value, grad)
    np.testing.assert_allclose(value, stable(D + shift), rtol=1e-10)
    numeric = (f(D + shift + 1e-6)[0].sum() - f(D + shift - 1e-6)[0].sum()) / 2e-6
    np.testing.assert_allclose(grad.sum(), numeric, rtol=1e-5, atol=1e-6)


def test_logdet_of_spd_with_condition_1e12():
    n = 6
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((n, n)))
    eigenvalues = np.logspace(0, -12, n)
    a = (q * eigenvalues) @ q.T
    a = (a + a.T) / 2
    A = sg.matrix("A", (n, n))
    value, grad = sg.function([A], [sg.logdet(A), sg.grad(sg.logdet(A), A)])(a)
    np.testing.assert_allclose(value, np.sum(np.log(eigenvalues)), rtol=1e-6)
    inverse = (q / eigenvalues) @ q.T
    np.testing.assert_allclose(grad, inverse, rtol=0, atol=1e-3 * np.abs(inverse).max())


def test_abs_relu_and_norm_at_zero_give_the_zero_subgradient():
    x = sg.vector("x", 3)
    cost = sg.sum(sg.abs(x)) + sg.sum(sg.relu(x)) + sg.norm(x)
    value, grad = sg.function([x], [cost, sg.grad(cost, x)])(np.zeros(3))
    assert value == 0.0
    np.testing.assert_array_equal(grad, np.zeros(3))
    hvp = sg.hvp(sg.norm(x), x, sg.vector("v", 3))
    assert not np.any(np.isnan(sg.function([x, sg.vector("v", 3)], hvp)(np.ones(3), np.ones(3))))


def test_norm_at_a_nonzero_point_with_zero_entries():
    x = sg.vector("x", 3)
    grad = sg.function([x], sg.grad(sg.norm(x), x))(np.array([0.0, 3.0, -4.0]))
    np.testing.assert_allclose(grad, [0.0, 0.6, -0.8])


def test_sqrt_at_zero_has_the_one_sided_derivative_inf():
    """Documented choice: d sqrt(x)/dx = +inf at 0 (as NumPy, JAX), never NaN alone."""
    x = sg.vector("x", 2)
    value, grad = sg.function([x], [sg.sqrt(x), sg.grad(sg.sum(sg.sqrt(x)), x)])(
        np.array([0.0, 4.0]))
    np.testing.assert_array_equal(value, [0.0, 2.0])
    np.testing.assert_array_equal(grad, [np.inf, 0.25])


def test_maximum_tie_sends_the_gradient_to_the_first_operand():
    a, b = sg.scalar("a"), sg.scalar("b")
    ga, gb = sg.function([a, b], sg.grad(sg.maximum(a, b), [a, b]))(1.0, 1.0)
    assert (ga, gb) == (1.0, 0.0)
