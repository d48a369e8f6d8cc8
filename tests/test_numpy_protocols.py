"""NumPy's dispatch protocols build symgrad nodes; a node never becomes an object array."""
import numpy as np
import pytest

import symgrad as sg


def test_ufuncs_and_functions_build_nodes():
    x = sg.vector("x", 3)
    A = np.arange(6.0).reshape(2, 3)
    value = np.array([0.5, -1.0, 2.0])
    cases = [(np.exp(x), np.exp(value)), (A + x, A + value), (np.float64(2.0) * x, 2 * value),
             (np.maximum(x, 0.0), np.maximum(value, 0.0)), (np.arctan2(x, 1.0), np.arctan2(value, 1.0)),
             (np.sum(x, axis=0), value.sum(axis=0)), (np.dot(A, x), A @ value),
             (np.stack([x, x]), np.stack([value, value])), (np.abs(x), np.abs(value)),
             (np.mean(x), value.mean()), (np.max(x), value.max())]
    for node, _ in cases:
        assert isinstance(node, sg.Node)
    results = sg.function([x], [node for node, _ in cases])(value)
    for result, (_, expected) in zip(results, cases):
        np.testing.assert_allclose(result, expected)


def test_linalg_functions_dispatch():
    X = sg.matrix("X", (3, 3))
    assert isinstance(np.linalg.det(X), sg.Node)
    assert isinstance(np.linalg.inv(X), sg.Node)


def test_a_node_never_becomes_an_object_array():
    x = sg.vector("x", 3)
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError):
        np.add.at(x, [0], 1.0)  # ufunc methods without a symgrad equivalent
    assert isinstance(np.add.reduce(x), sg.Node)  # reduce/accumulate/outer: the reductions
    with pytest.raises(TypeError):
        np.exp(x, out=np.empty(3))
