"""Regression tests for issue 15 items fixed this round (each failed before)."""
import numpy as np
import pytest

import symgrad as sg


def test_python_ints_beyond_int64_do_not_wrap():  # item 2
    x = sg.scalar("x")
    big = sg.constant(np.array([2 ** 63], dtype=np.uint64))
    f = sg.function([x], [x * 2 ** 63, x * (2 ** 64 - 1), x * big, x * 2 ** 70])
    values = f(1.0)
    assert float(values[0]) == 2.0 ** 63
    assert float(values[1]) == 2.0 ** 64
    assert float(values[2][0]) == 2.0 ** 63
    assert float(values[3]) == 2.0 ** 70


def test_grad_wrt_a_node_outside_the_cost_graph_raises():  # item 7
    x, y = sg.vector("x", 3), sg.vector("y", 3)
    cost = sg.sum(sg.exp(x))
    with pytest.raises(ValueError, match="not a node of the cost's graph"):
        sg.grad(cost, sg.tanh(y))
    # an input the cost does not depend on still gets zeros (API.md)
    f = sg.function([x, y], sg.grad(cost, y))
    np.testing.assert_array_equal(f(np.ones(3), np.ones(3)), np.zeros(3))
    # an intermediate node of the graph is fine
    inner = sg.exp(x)
    assert sg.grad(sg.sum(inner * 2.0), inner).shape == (3,)


def test_duplicate_or_float_axis_is_rejected():  # item 16
    x = sg.matrix("X", (2, 3))
    with pytest.raises(sg.ShapeError, match="duplicate value in axis"):
        sg.sum(x, axis=(0, 0))
    with pytest.raises(sg.ShapeError, match="duplicate value in axis"):
        sg.sum(x, axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple of ints"):
        sg.sum(x, axis=0.0)


def test_explanation_repr_is_the_table():  # item 24
    w = sg.vector("w", 2)
    report = sg.explain(sg.sum(w * w), w, {w: np.array([1.0, 2.0])})
    assert repr(report) == str(report)
    assert "0x" not in repr(report)


class _Hostile(int):
    def __repr__(self):
        raise AssertionError("repr of a hostile int reached generated source")

    __str__ = __repr__


def test_hostile_int_axis_is_stored_as_a_plain_int():  # item 9, axes (a guard: this path already stored ints)
    x = sg.matrix("X", (2, 3))
    node = sg.sum(x, axis=_Hostile(1))
    assert type(node.attrs["axis"][0]) is int
    f = sg.function([x], node)
    np.testing.assert_allclose(f(np.ones((2, 3))), [3.0, 3.0])


def test_mean_gradient_over_an_empty_named_batch():  # item 11
    x = sg.vector("x", "n")
    cost = sg.mean(x)
    f = sg.function([x], [cost, sg.grad(cost, x)])
    value, gradient = f(np.zeros(0))
    assert np.isnan(value) and gradient.shape == (0,)
    value, gradient = f(np.arange(4.0))
    assert float(value) == 1.5
    np.testing.assert_allclose(gradient, np.full(4, 0.25))


def test_normalized_exponentials_over_an_empty_axis():  # item 12
    x = sg.matrix("X", (2, 0))
    f = sg.function([x], [sg.softmax(x), sg.log_softmax(x), sg.logsumexp(x, axis=1)])
    soft, log_soft, lse = f(np.zeros((2, 0)))
    assert soft.shape == log_soft.shape == (2, 0)
    np.testing.assert_array_equal(lse, [-np.inf, -np.inf])  # NumPy/SciPy: log(0)


def test_cli_version():  # item 23
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "symgrad", "--version"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"symgrad {sg.__version__}"
