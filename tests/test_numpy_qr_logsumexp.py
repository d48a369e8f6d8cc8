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
    with pytest.raises(NotImplementedError, match=r"qr_q\('A' \(5, 3\), mode='complete'\).*5 x 3"):
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


@pytest.mark.parametrize("mode", ["maximum", "minimum", "mean", "median"])
@pytest.mark.parametrize("stat_length", [None, 2, ((1, 3), (2, 2))])
def test_pad_statistic_modes_are_numpys(mode, stat_length):
    kwargs = {} if stat_length is None else {"stat_length": stat_length}
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5))
    x = sg.matrix("x", (4, 5))
    y = sg.pad(x, ((1, 2), (2, 1)), mode=mode, **kwargs)
    want = np.pad(a, ((1, 2), (2, 1)), mode=mode, **kwargs)
    np.testing.assert_allclose(sg.function([x], y)(a), want, rtol=1e-12)
    w = rng.standard_normal(want.shape)
    cost = sg.sum(y * w)
    f = sg.function([x], [cost, sg.grad(cost, x)])
    np.testing.assert_allclose(f(a)[1], central_difference(lambda v: f(v)[0], [a], 0),
                               rtol=1e-5, atol=1e-6)


def test_pad_statistic_of_a_named_axis():
    x = sg.vector("x", "n")
    y = sg.pad(x, (1, 2), mode="maximum")
    assert str(y.shape[0]) == "n+3"
    for n in (3, 6):
        a = np.random.default_rng(n).standard_normal(n)
        np.testing.assert_allclose(sg.function([x], y)(a), np.pad(a, (1, 2), mode="maximum"))
    with pytest.raises(sg.ShapeError, match="named"):
        sg.pad(x, 1, mode="median")  # the middle index depends on n's value
