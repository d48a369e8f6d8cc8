"""Node methods as NumPy arrays have them."""
import numpy as np
import pytest

import symgrad as sg


def test_methods_match_numpy():
    x = sg.matrix("X", (2, 3))
    value = np.arange(6.0).reshape(2, 3) - 2.0
    cases = [(x.sum(), value.sum()), (x.sum(axis=0), value.sum(axis=0)),
             (x.mean(axis=1, keepdims=True), value.mean(axis=1, keepdims=True)),
             (x.max(), value.max()), (x.min(axis=0), value.min(axis=0)),
             (x.reshape(3, 2), value.reshape(3, 2)), (x.reshape((6,)), value.reshape((6,))),
             (x.transpose(), value.transpose()), (x.transpose(1, 0), value.transpose(1, 0)),
             (x.ravel(), value.ravel()), (x.flatten(), value.flatten()),
             (x.dot(np.ones(3)), value.dot(np.ones(3))), (x.T, value.T)]
    f = sg.function([x], [node for node, _ in cases])
    for result, (_, expected) in zip(f(value), cases):
        np.testing.assert_allclose(result, expected)
    assert x.size == 6 and x.ndim == 2 and x.shape == (2, 3)


def test_size_of_a_named_shape_raises_naming_the_dimension():
    with pytest.raises(TypeError, match="'n'"):
        sg.vector("v", "n").size
