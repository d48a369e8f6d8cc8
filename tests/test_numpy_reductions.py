"""max/min (amax/amin): values against NumPy for every axis form, the tie convention
(tied extremes share the gradient equally, as JAX), and agreement of VJP and JVP."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

AXES = [None, 0, 1, -1, (0, 1), (0, 2), (-1, 0)]


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_values_match_numpy(name, axis, keepdims):
    x = sg.tensor("x", (2, 3, 4))
    value = np.random.default_rng(1).standard_normal((2, 3, 4))
    node = getattr(sg, name)(x, axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(value, axis=axis, keepdims=keepdims)
    assert node.shape == np.shape(expected)
    np.testing.assert_array_equal(sg.function([x], node)(value), expected)


def test_gradient_away_from_ties_matches_finite_differences():
    x = sg.matrix("X", (3, 4))
    value = np.random.default_rng(2).standard_normal((3, 4))
    cost = sg.sum(sg.max(x, axis=0) ** 2.0) + sg.min(x)
    f = sg.function([x], [cost, sg.grad(cost, x)])
    np.testing.assert_allclose(f(value)[1], central_difference(lambda v: f(v)[0], [value], 0),
                               rtol=1e-6, atol=1e-9)


def test_tied_maxima_share_the_gradient_in_vjp_and_jvp():
    x = sg.vector("x", 4)
    value = np.array([3.0, 1.0, 3.0, 3.0])
    cost = sg.max(x)
    np.testing.assert_allclose(sg.function([x], sg.grad(cost, x))(value), [1 / 3, 0, 1 / 3, 1 / 3])
    v = sg.vector("v", 4)
    tangent = sg.function([x, v], sg.jvp(cost, x, v))(value, np.array([3.0, 5.0, 0.0, 6.0]))
    assert np.isclose(float(tangent), 3.0)


def test_max_of_ints_stays_int_and_bad_axes_raise():
    k = sg.vector("k", 3, dtype="int64")
    assert sg.max(k).dtype == "int64"
    with pytest.raises(sg.ShapeError, match="out of bounds"):
        sg.max(sg.matrix("X", (2, 3)), axis=2)
    with pytest.raises(sg.ShapeError, match="duplicate"):
        sg.min(sg.matrix("X", (2, 3)), axis=(0, 0))


def test_printed_form():
    x = sg.matrix("X", (2, 3))
    assert str(sg.max(x)) == "max(X)"
    assert str(sg.min(x, axis=1)) == "min(X, axis=1)"
