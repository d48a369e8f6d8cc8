"""``linalg.qr(mode='complete')`` of square and wide matrices (the reduced factors,
differentiable), its clear error for tall ones; SciPy's ``logsumexp(return_sign=True)``."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

scipy_special = pytest.importorskip("scipy.special", reason="the reference is SciPy's")


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (2, 3, 5)])
def test_complete_qr_of_wide_and_square_matrices(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    x = sg.tensor("A", shape)
    q, r = sg.linalg.qr(x, mode="complete")
    want_q, want_r = np.linalg.qr(a, mode="complete")
    got_q, got_r = sg.function([x], [q, r])(a)
    np.testing.assert_allclose(got_q, want_q, atol=1e-12)
    np.testing.assert_allclose(got_r, want_r, atol=1e-12)
    w = np.random.default_rng(1).standard_normal(want_r.shape)
    cost = sg.sum(q) + sg.sum(r * w)
    f = sg.function([x], [cost, sg.grad(cost, x)])
    np.testing.assert_allclose(f(a)[1], central_difference(lambda v: f(v)[0], [a], 0),
                               rtol=1e-5, atol=1e-6)


def test_complete_qr_of_a_tall_matrix_has_no_unique_derivative():
    x = sg.matrix("A", (5, 3))
    q, _ = sg.linalg.qr(x, mode="complete")
    with pytest.raises(NotImplementedError, match="qr's Q with mode='complete'"):
        sg.grad(sg.sum(q), x)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, True), (0, False)])
def test_logsumexp_return_sign_is_scipys(axis, keepdims):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x = sg.matrix("x", (3, 4))
    value, sign = sg.special.logsumexp(x, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    want_value, want_sign = scipy_special.logsumexp(a, axis=axis, b=b, keepdims=keepdims,
                                                    return_sign=True)
    got_value, got_sign = sg.function([x], [value, sign])(a)
    np.testing.assert_allclose(got_value, want_value, rtol=1e-12)
    np.testing.assert_array_equal(got_sign, want_sign)
    cost = sg.sum(value)
    f = sg.function([x], [cost, sg.grad(cost, x)])
    np.testing.assert_allclose(f(a)[1], central_difference(lambda v: f(v)[0], [a], 0),
                               rtol=1e-5, atol=1e-6)
