"""perf14: weight-gradient products ``Xᵀ @ D`` through SciPy's gemm (``_dot_tn``), and
the sigmoid derivative's factors ordered so that no extra array is live."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.compile import buffers
from symgrad.ops import runtime as rt

rt.load_scipy()


@pytest.mark.parametrize("scipy", [True, False])
@pytest.mark.parametrize("k, n, m", [(1, 256, 256), (1, 7, 300), (3, 5, 4), (64, 20, 30), (0, 3, 2),
                                     (3, 0, 2), (3, 2, 0)])
def test_dot_tn_is_xt_d_written_into_out(monkeypatch, scipy, k, n, m):
    if not scipy:
        monkeypatch.setattr(rt, "_blas", None)
    elif rt._blas is None:
        pytest.skip("SciPy is not installed: its path cannot run")
    rng = np.random.default_rng(k + n)
    a, b = rng.standard_normal((k, n)), rng.standard_normal((k, m))
    out = np.full((n, m), np.nan)  # beta = 0: the old contents (NaN here) are never read
    got = rt._dot_tn(a, b, out=out)
    np.testing.assert_allclose(got, np.dot(a.T, b), rtol=1e-13, atol=1e-13)
    assert np.array_equal(out, got) and (np.shares_memory(got, out) or not out.size)


def test_dot_tn_of_views_falls_back_to_numpy():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 6))[:, ::2], rng.standard_normal((3, 4)).T  # not C-ordered
    out = np.empty((3, 3))
    np.testing.assert_allclose(rt._dot_tn(a, b, out=out), a.T @ b, rtol=1e-13)


def _layer(batch):
    x, d = sg.matrix("x", (batch, 300)), sg.matrix("d", (batch, 200))
    return [x, d], [x.T @ d, sg.tanh(d).T @ x]  # a square-ish and a tall product


@pytest.mark.parametrize("batch", ["b", 1, 8])
def test_weight_gradients_of_a_batch_use_gemm_and_are_equal(batch):
    if not buffers._have_scipy():
        pytest.skip("SciPy is not installed")
    inputs, outputs = _layer(batch)
    f = sg.function(inputs, outputs)
    assert f.executed_source.count("_dot_tn(") == 3  # two calls and the helper
    assert "_dot_tn(" not in f.source  # the readable source is unchanged
    rng = np.random.default_rng(3)
    for rows in ([1, 5, 1] if batch == "b" else [batch] * 2):
        x, d = rng.standard_normal((rows, 300)), rng.standard_normal((rows, 200))
        got = f(x, d)
        np.testing.assert_allclose(got[0], x.T @ d, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got[1], np.tanh(d).T @ x, rtol=1e-12, atol=1e-12)
        again = f(x, d)  # recycled buffers: the first results are still the callers'
        assert not any(np.shares_memory(a, c) for a in got for c in again)


def test_a_large_static_contraction_keeps_numpy_dot():
    inputs, outputs = _layer(buffers.TN_MAX_ROWS + 1)
    assert "_dot_tn(" not in sg.function(inputs, outputs).executed_source


def _sigmoid_layer():
    x, W, g = sg.matrix("x", ("b", 6)), sg.matrix("W", (6, 5)), sg.matrix("g", ("b", 5))
    s = sg.sigmoid(x @ W)
    return [x, W, g], s, g


def test_sigmoid_backward_writes_one_minus_s_into_s():
    inputs, s, g = _sigmoid_layer()
    f = sg.function(inputs, sg.grad(sg.sum(g * s), inputs[1]))
    line = next(l for l in f.executed_source.splitlines() if "np.subtract(1.0, " in l)
    operand = line.split("np.subtract(1.0, ")[1].split(",")[0]
    assert line.endswith(f"out={operand})")  # in place: s dies there, no third array
    rng = np.random.default_rng(4)
    x, W, gv = rng.standard_normal((7, 6)), rng.standard_normal((6, 5)), rng.standard_normal((7, 5))
    sv = 1.0 / (1.0 + np.exp(-(x @ W)))
    np.testing.assert_allclose(f(x, W, gv), x.T @ (gv * sv * (1.0 - sv)), rtol=1e-12, atol=1e-14)


def test_reassociation_declines_when_the_inner_product_is_read_twice():
    inputs, s, g = _sigmoid_layer()
    inner = s * (1.0 - s)
    f = sg.function(inputs, [g * inner, inner])
    rng = np.random.default_rng(5)
    x, W, gv = rng.standard_normal((3, 6)), rng.standard_normal((6, 5)), rng.standard_normal((3, 5))
    sv = 1.0 / (1.0 + np.exp(-(x @ W)))
    got = f(x, W, gv)
    np.testing.assert_allclose(got[0], gv * (sv * (1.0 - sv)), rtol=1e-14)
    np.testing.assert_allclose(got[1], sv * (1.0 - sv), rtol=1e-14)
    assert "np.multiply(sigmoid" in f.executed_source  # s * (1 - s) is formed as written
