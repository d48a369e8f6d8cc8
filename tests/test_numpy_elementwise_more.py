"""Node attributes and casts as NumPy arrays have them (``.dtype`` a ``numpy.dtype``,
``.astype``, ``.clip``), and the NumPy/SciPy elementwise functions of the second
batch: values against NumPy (and SciPy where installed), gradients against central
differences, second derivatives against differences of the gradient."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.numeric import central_difference

RNG = np.random.default_rng(11)


# Attributes and casts ---------------------------------------------------------------

@pytest.mark.parametrize("dtype,numpy_type", [("float64", np.float64), ("int64", np.int64),
                                              ("bool", np.bool_)])
def test_dtype_is_a_numpy_dtype(dtype, numpy_type):
    x = sg.vector("x", 3, dtype=dtype)
    assert isinstance(x.dtype, np.dtype)
    assert x.dtype == numpy_type and x.dtype == np.dtype(dtype) and x.dtype == dtype
    assert (x * 2.0).dtype == np.float64 and x.T.dtype == x.dtype
    assert sg.exp(x).dtype == np.float64 and (x > 0).dtype == np.bool_


def test_attributes_match_numpy():
    x = sg.matrix("X", (2, 3))
    a = np.ones((2, 3))
    assert (x.shape, x.ndim, x.size, x.T.shape) == (a.shape, a.ndim, a.size, a.T.shape)
    assert sg.scalar("s").ndim == 0 and sg.scalar("s").size == 1


def test_astype_casts_like_numpy_and_has_no_gradient():
    x = sg.vector("x", 5)
    value = np.array([-2.7, -0.5, 0.0, 0.5, 3.2])
    casts = [x.astype(np.int64), x.astype(bool), x.astype(int).astype(float), sg.astype(x, "int64")]
    assert [c.dtype for c in casts] == [np.int64, np.bool_, np.float64, np.int64]
    results = sg.function([x], casts)(value)
    expected = [value.astype(np.int64), value.astype(bool),
                value.astype(int).astype(float), value.astype(np.int64)]
    for got, want in zip(results, expected):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert x.astype(np.float64) is x and x.astype("float64") is x
    g = sg.function([x], sg.grad(sg.sum(x * x.astype(int)), x))(value)
    np.testing.assert_array_equal(g, value.astype(int))  # the cast factor is a constant


def test_astype_refuses_what_numpy_refuses_or_nodes_cannot_hold():
    x = sg.vector("x", 3)
    with pytest.raises(TypeError, match="according to the rule 'safe'"):
        x.astype(np.int64, casting="safe")
    with pytest.raises(TypeError, match="float32"):
        x.astype(np.float32)
    assert sg.vector("k", 3, dtype="int64").astype(float, casting="safe").dtype == np.float64


def test_clip_method_matches_numpy():
    x = sg.vector("x", 5)
    value = np.array([-2.0, -0.5, 0.2, 0.9, 3.0])
    f = sg.function([x], [x.clip(-1.0, 1.0), x.clip(0.0), x.clip(max=0.5)])
    for got, want in zip(f(value), [value.clip(-1, 1), value.clip(0), value.clip(max=0.5)]):
        np.testing.assert_array_equal(got, want)
    g = sg.function([x], sg.grad(sg.sum(x.clip(-1.0, 1.0)), x))(value)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
