"""Recurrences with several carries (session 9): an LSTM's (h, c), a two-carry toy, a
GRU. The loop batching pass finds the step as one ``scan`` with a tuple carry (on JAX
one ``lax.scan`` with ``num_carry=2``); values and gradients equal the NumPy backend's
and central differences. The portable lowering (a Python loop) is checked under
array-api-strict without JAX."""
import re

import numpy as np
import pytest

import symgrad as sg
from symgrad.compile import loop_batching as lb
from symgrad.compile.memory_plan import statement_order
from symgrad.ops.scans import scan_op

HIDDEN, INPUT = 3, 2


def _weights(names, shapes):
    return [sg.matrix(n, s) if len(s) == 2 else sg.vector(n, s[0]) for n, s in zip(names, shapes)]


def lstm(T):
    """(inputs, loss, weights): i, f, o = σ(W h + U x_t + b), g = tanh(...),
    c_t = f c_{t-1} + i g, h_t = o tanh(c_t); loss reads the last h and c."""
    X, h0, c0 = sg.matrix("X", (T, INPUT)), sg.vector("h0", HIDDEN), sg.vector("c0", HIDDEN)
    gates = "ifgo"
    Ws = _weights([f"W{g}" for g in gates], [(HIDDEN, HIDDEN)] * 4)
    Us = _weights([f"U{g}" for g in gates], [(HIDDEN, INPUT)] * 4)
    bs = _weights([f"b{g}" for g in gates], [(HIDDEN,)] * 4)
    h, c = h0, c0
    for t in range(T):
        i, f, g, o = (W @ h + U @ X[t] + b for W, U, b in zip(Ws, Us, bs))
        c = sg.sigmoid(f) * c + sg.sigmoid(i) * sg.tanh(g)
        h = sg.sigmoid(o) * sg.tanh(c)
    return [X, h0, c0] + Ws + Us + bs, sg.sum(h * h) + sg.sum(c), Ws + Us + bs + [h0, c0]


def two_carry(T):
    """h_t = tanh(W h_{t-1} + c_{t-1} + x_t), c_t = c_{t-1} * σ(h_t): each carry reads
    the other."""
    X, W = sg.matrix("X", (T, HIDDEN)), sg.matrix("W", (HIDDEN, HIDDEN))
    h0, c0 = sg.vector("h0", HIDDEN), sg.vector("c0", HIDDEN)
    h, c = h0, c0
    for t in range(T):
        h = sg.tanh(W @ h + c + X[t])
        c = c * sg.sigmoid(h)
    return [X, W, h0, c0], sg.sum(h) + sg.sum(c * c), [W, h0, c0]


def carries_of_two_shapes(T):
    """h (a vector) and s (a scalar) read each other: carries of different shapes, laid
    side by side in the scan's rows."""
    X, W, h0, s0 = sg.matrix("X", (T, HIDDEN)), sg.matrix("W", (HIDDEN, HIDDEN)), \
        sg.vector("h0", HIDDEN), sg.scalar("s0")
    h, s = h0, s0
    for t in range(T):
        h = sg.tanh(W @ h * s + X[t])
        s = s * 0.5 + sg.sum(h) * 0.1
    return [X, W, h0, s0], sg.sum(h) + s, [W, h0, s0]


def gru(T):
    """The GRU cell (one carry, read by three gates)."""
    X, h0 = sg.matrix("X", (T, INPUT)), sg.vector("h0", HIDDEN)
    Ws = _weights(["Wr", "Wz", "Wn"], [(HIDDEN, HIDDEN)] * 3)
    Us = _weights(["Ur", "Uz", "Un"], [(HIDDEN, INPUT)] * 3)
    h = h0
    for t in range(T):
        r = sg.sigmoid(Ws[0] @ h + Us[0] @ X[t])
        z = sg.sigmoid(Ws[1] @ h + Us[1] @ X[t])
        n = sg.tanh(Ws[2] @ (r * h) + Us[2] @ X[t])
        h = (1.0 - z) * n + z * h
    return [X, h0] + Ws + Us, sg.sum(h * h), Ws + Us + [h0]


def _values(inputs, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n.shape) * (0.6 if n.ndim == 2 else 0.3) for n in inputs]


def _scans(outputs):
    outputs = sg.simplify(list(outputs))
    new, order = lb.fuse(outputs, statement_order(outputs), backend="jax")
    return new, [node for node in order if node.op is scan_op]


@pytest.mark.parametrize("make,T", [(lstm, 5), (lstm, 12), (two_carry, 6)])
def test_the_forward_sweep_is_one_scan_with_two_carries(make, T):
    inputs, loss, wrt = make(T)
    _, scans = _scans([loss] + sg.grad(loss, wrt))
    forward = [s for s in scans if not s.attrs["reverse"]]
    assert [(s.attrs["carries"], s.attrs["length"]) for s in forward] == [(2, T)]
    outputs = len(forward[0].attrs["step"])  # the carries, then values the backward sweep reads
    assert forward[0].shape == (T, outputs * HIDDEN)  # each row: the outputs side by side
    assert [s.attrs["carries"] for s in scans if s.attrs["reverse"]] == [2]  # (dh, dc)


def test_a_gru_is_one_scan_with_one_carry():
    inputs, loss, wrt = gru(8)
    _, scans = _scans([loss] + sg.grad(loss, wrt))
    assert sorted((s.attrs["carries"], s.attrs["length"], s.attrs["reverse"]) for s in scans) \
        == [(1, 7, True), (1, 8, False)]


@pytest.mark.parametrize("make,T", [(lstm, 5), (two_carry, 7), (gru, 6)])
def test_the_portable_scans_equal_the_numpy_backend(make, T):
    """The scanned graph run as a Python loop under array-api-strict."""
    xp = pytest.importorskip("array_api_strict", reason="needs array-api-strict")
    pytest.importorskip("array_api_compat", reason="needs array-api-compat")
    inputs, loss, wrt = make(T)
    outputs = [loss] + sg.grad(loss, wrt)
    values = _values(inputs, T)
    expected = sg.function(inputs, outputs)(*values)
    new, scans = _scans(outputs)
    assert scans
    f = sg.function(inputs, new, backend="array_api", optimize=False)
    for got, want in zip(f(*[xp.asarray(v) for v in values]), expected):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-13)


def _central_differences(f, values, k, eps=1e-6):
    """d f(values)[0] / d values[k], by central differences."""
    grad = np.zeros(np.shape(values[k]))
    for index in np.ndindex(values[k].shape):
        plus, minus = ([np.array(v, dtype=float) for v in values] for _ in range(2))
        plus[k][index] += eps
        minus[k][index] -= eps
        grad[index] = (float(f(*plus)[0]) - float(f(*minus)[0])) / (2 * eps)
    return grad


@pytest.mark.parametrize("make,T,sweeps", [(lstm, 6, 2), (two_carry, 6, 2), (carries_of_two_shapes, 6, 1)])
def test_the_jax_backend_equals_numpy_and_central_differences(make, T, sweeps):
    jax = pytest.importorskip("jax", reason="the JAX backend needs jax")
    pytest.importorskip("array_api_compat", reason="needs array-api-compat")
    jax.config.update("jax_enable_x64", True)
    inputs, loss, wrt = make(T)
    outputs = [loss] + sg.grad(loss, wrt)
    values = _values(inputs, 11)
    f = sg.function(inputs, outputs, backend="jax")
    args = [jax.numpy.asarray(v) for v in values]
    got = [np.asarray(r) for r in f(*args)]
    expected = sg.function(inputs, outputs)(*values)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)
    value = sg.function(inputs, [loss])
    for node, g in zip(wrt, got[1:]):
        numeric = _central_differences(value, values, inputs.index(node))
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8, err_msg=node.name)
    # one lax.scan with a 2-tuple carry per sweep (the vector and scalar one's backward
    # sweep is unrolled), not T unrolled steps
    source = f.executed_source
    calls = re.findall(r"_xp_scan\(xp, _scan_step_\d+, \(([^()]*)\)", source)
    assert len(calls) == sweeps and all(len(c.split(",")) - 1 == 2 for c in calls), calls
    jaxpr = str(jax.make_jaxpr(f._fn)(*args))
    assert jaxpr.count(" scan[") == sweeps and jaxpr.count("num_carry=2") == sweeps
    assert f"length={T}" in jaxpr


def batched_lstm(T, batch=4):
    """The LSTM on a batch of sequences: X (T, batch, input), states (batch, hidden)."""
    X = sg.tensor("X", (T, batch, INPUT))
    h0, c0 = sg.matrix("h0", (batch, HIDDEN)), sg.matrix("c0", (batch, HIDDEN))
    Ws = _weights([f"W{g}" for g in "ifgo"], [(HIDDEN, HIDDEN)] * 4)
    Us = _weights([f"U{g}" for g in "ifgo"], [(INPUT, HIDDEN)] * 4)
    h, c = h0, c0
    for t in range(T):
        i, f, g, o = (h @ W + X[t] @ U for W, U in zip(Ws, Us))
        c = sg.sigmoid(f) * c + sg.sigmoid(i) * sg.tanh(g)
        h = sg.sigmoid(o) * sg.tanh(c)
    return [X, h0, c0] + Ws + Us, sg.sum(h * h), Ws + Us + [h0, c0]


@pytest.mark.parametrize("make,shapes", [(batched_lstm, [(4, HIDDEN)] * 2),
                                         (carries_of_two_shapes, [(HIDDEN,), ()])])
def test_batched_states_and_carries_of_two_shapes_scan(make, shapes):
    xp = pytest.importorskip("array_api_strict", reason="needs array-api-strict")
    pytest.importorskip("array_api_compat", reason="needs array-api-compat")
    T = 6
    inputs, loss, wrt = make(T)
    outputs = [loss] + sg.grad(loss, wrt)
    values = _values(inputs, 3)
    expected = sg.function(inputs, outputs)(*values)
    new, scans = _scans(outputs)
    forward = [s for s in scans if not s.attrs["reverse"]]
    assert [(s.attrs["carries"], s.shape[0]) for s in forward] == [(2, T)]
    assert sorted(out.shape for out in forward[0].attrs["step"][:2]) == sorted(shapes)
    f = sg.function(inputs, new, backend="array_api", optimize=False)
    for got, want in zip(f(*[xp.asarray(v) for v in values]), expected):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-13)


def test_the_lstm_gate_gradients_are_scan_outputs_not_copies_per_step():
    """The weight gradients read every step's gate gradients δz_t: the backward scan
    returns them (an output after its two carries), so the graph outside the scans does
    not grow with T (session 9 computed them again outside, T copies)."""
    sizes = {}
    for T in (6, 12):
        inputs, loss, wrt = lstm(T)
        new, scans = _scans([loss] + sg.grad(loss, wrt))
        backward = next(s for s in scans if s.attrs["reverse"])
        assert len(backward.attrs["step"]) > backward.attrs["carries"] == 2
        sizes[T] = len(statement_order(new))
    assert sizes[12] == sizes[6]
