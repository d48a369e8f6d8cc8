"""Recurrences of unrolled graphs as loops (branch rnn13): the loop batching pass finds
the repeated step of an RNN's forward and backward sweeps and, on the JAX backend,
makes each one ``scan`` node (``jax.lax.scan``). The recognition and the scan's
portable lowering (a Python loop) are checked without JAX, under array-api-strict;
the JAX backend against the NumPy backend when JAX is installed."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.compile import loop_batching as lb
from symgrad.compile.memory_plan import statement_order
from symgrad.ir.graph import toposort
from symgrad.ops.scans import scan_op

HIDDEN, INPUT = 6, 3


def rnn(T, batch=None, loss_of=lambda states: sg.sum(states[-1])):
    """(inputs, [loss, dW, dU, db], values): h_t = tanh(W h_{t-1} + U x_t + b)."""
    X = sg.matrix("X", (T, INPUT)) if batch is None else sg.tensor("X", (T, batch, INPUT))
    W, U = sg.matrix("W", (HIDDEN, HIDDEN)), sg.matrix("U", (HIDDEN, INPUT))
    b = sg.vector("b", HIDDEN)
    h = h0 = sg.vector("h0", HIDDEN) if batch is None else sg.matrix("h0", (batch, HIDDEN))
    states = []
    for t in range(T):
        h = sg.tanh(W @ h + U @ X[t] + b) if batch is None else sg.tanh(h @ W.T + X[t] @ U.T + b)
        states.append(h)
    loss = loss_of(states)
    rng = np.random.default_rng(T)
    values = [rng.standard_normal(X.shape), rng.standard_normal((HIDDEN, HIDDEN)) / 2,
              rng.standard_normal((HIDDEN, INPUT)), rng.standard_normal(HIDDEN) * 0.1,
              rng.standard_normal(h0.shape) * 0.1]
    return [X, W, U, b, h0], [loss] + sg.grad(loss, [W, U, b]), values


def scanned(outputs):
    """The outputs after the JAX backend's loop batching (scans formed)."""
    outputs = sg.simplify(list(outputs))
    return lb.fuse(outputs, statement_order(outputs), backend="jax")


def scans_of(order):
    return [node for node in order if node.op is scan_op]


@pytest.mark.parametrize("T", [4, 10, 40])
def test_the_forward_and_backward_sweeps_are_recognised(T):
    _, outputs, _ = rnn(T)
    outputs = sg.simplify(outputs)
    order = statement_order(outputs)
    fused, fused_order = lb.fuse(outputs, order)  # the NumPy backend's graph: no scan
    assert not scans_of(fused_order)
    found = lb.recurrences(fused, fused_order)
    assert sorted((len(r.members), r.shift) for r in found) == sorted([(T, 1), (T - 1, -1)])
    forward = next(r for r in found if r.shift == 1)
    assert forward.init.name == "h0"
    assert all(m.op is sg.REGISTRY["tanh"] for m in forward.members)


@pytest.mark.parametrize("T", [4, 10, 40])
def test_the_scanned_graph_does_not_grow_with_T(T):
    _, outputs, _ = rnn(T)
    _, order = scanned(outputs)
    scans = scans_of(order)
    assert sorted((s.attrs["length"], s.attrs["reverse"]) for s in scans) == [(T - 1, True), (T, False)]
    assert sum(node.op is sg.REGISTRY["tanh"] for node in order) == 0  # only in the step
    assert len(order) <= 40  # every step's statements once, not T times


def _transposed_products(nodes) -> list:
    """The products ``Aᵀ v`` (a transposed matrix times a vector) among ``nodes``."""
    return [n for n in nodes if n.op is sg.REGISTRY["matmul"] and n.operands[1].ndim == 1
            and n.operands[0].op is sg.REGISTRY["transpose"]]


def test_the_backward_scan_reads_the_weight_itself_and_multiplies_vector_first():
    """The backward sweep's ``Wᵀ δ`` is ``δ W`` in the scan's step, which reads W (not a
    transposed copy made before the loop); no ``Aᵀ v`` is left outside the loops either
    (XLA computes those elementwise from a transposed copy)."""
    inputs, outputs, _ = rnn(6)
    W = inputs[1]
    _, order = scanned(outputs)
    backward = next(s for s in scans_of(order) if s.attrs["reverse"])
    assert W in backward.operands and not any(o.op is sg.REGISTRY["transpose"] for o in backward.operands)
    step = toposort(list(backward.attrs["step"]))
    products = [n for n in step if n.op is sg.REGISTRY["matmul"]]
    assert len(products) == 1 and products[0].operands[0].ndim == 1  # δ W
    assert not _transposed_products(step) and not _transposed_products(order)


def test_the_weight_gradients_read_the_deltas_stacked_as_columns():
    """dW = Δᵀ H and dU = Δᵀ X read one matrix Δᵀ made column block after column block
    (the scan's rows and the unrolled step's δ, each transposed), not a transpose of
    the row-stacked Δ (which XLA folds into a slower generic dot)."""
    inputs, outputs, values = rnn(7)  # T = 7: X Uᵀ is (7, 6), dW (6, 6), dU (6, 3)
    new, order = scanned(outputs)
    X, W = inputs[:2]
    products = [n for n in order if n.op is sg.REGISTRY["matmul"] and n.shape in (W.shape, (HIDDEN, INPUT))]
    assert len(products) == 2 and products[0].operands[0] is products[1].operands[0]
    columns = products[0].operands[0]
    assert columns.op is sg.REGISTRY["concatenate"] and columns.attrs["axis"] == 1
    assert all(piece.op is sg.REGISTRY["transpose"] for piece in columns.operands)
    for got, want in zip(_portable(inputs, new, values), sg.function(inputs, outputs)(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def _portable(inputs, outputs, values):
    """The scanned graph compiled for the array API and run under array-api-strict."""
    xp = pytest.importorskip("array_api_strict", reason="needs array-api-strict")
    pytest.importorskip("array_api_compat", reason="needs array-api-compat")
    f = sg.function(inputs, outputs, backend="array_api", optimize=False)
    assert "_xp_scan(xp, _scan_step_" in f.executed_source
    return [np.asarray(r) for r in f(*[xp.asarray(v) for v in values])]


@pytest.mark.parametrize("T,batch", [(4, None), (7, None), (12, None), (5, 2)])
def test_the_scans_compute_the_numpy_backends_values(T, batch):
    inputs, outputs, values = rnn(T, batch)
    if batch is not None:
        values[4] = values[4].reshape(batch, HIDDEN)
    expected = sg.function(inputs, outputs)(*values)
    new_outputs, order = scanned(outputs)
    assert len(scans_of(order)) == 2
    for got, want in zip(_portable(inputs, new_outputs, values), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def _shared_weights(step, n):
    """(the scanned graph's order, its values and the NumPy backend's) of n steps
    x <- step(A, x, c) from x = h, loss sum(x * x) and its gradient wrt A, c, h."""
    A, c, h = sg.matrix("A", (4, 4)), sg.vector("c", 4), sg.vector("h", 4)
    x = h
    for _ in range(n):
        x = step(A, x, c)
    loss = sg.sum(x * x)
    outputs = [loss] + sg.grad(loss, [A, c, h])
    rng = np.random.default_rng(n)
    values = [rng.standard_normal((4, 4)) / 2, rng.standard_normal(4), rng.standard_normal(4)]
    expected = sg.function([A, c, h], outputs)(*values)
    new_outputs, order = scanned(outputs)
    return order, _portable([A, c, h], new_outputs, values), expected


def test_a_chain_whose_gradient_reads_an_inner_value_is_two_scans():
    """h <- sin(A h) + c: the backward sweep reads cos(A h_t), of an inner value of the
    forward step, which the forward scan returns as its second output (JAX's ys: no
    product computed again outside); a second round finds the backward sweep over
    those rows, all 8 steps; dc, the sum of its rows but the first, is one sum."""
    order, got, expected = _shared_weights(lambda A, x, c: sg.sin(A @ x) + c, 8)
    scans = sorted(scans_of(order), key=lambda s: s.attrs["reverse"])
    assert [(s.attrs["reverse"], s.attrs["length"], len(s.attrs["step"])) for s in scans] \
        == [(False, 8, 2), (True, 8, 2)]
    assert [n.op for n in scans[0].attrs["step"]] == [sg.REGISTRY["add"], sg.REGISTRY["matmul"]]
    assert sum(n.op is sg.REGISTRY["cos"] for n in order) == 1  # over the exported rows
    assert sum(n.op is sg.REGISTRY["matmul"] for n in order) == 1  # dA only
    assert sum(n.op is sg.REGISTRY["sum"] for n in order) == 2  # the loss, dc
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)


def test_a_chain_without_sequences_is_a_scan():
    """Weight sharing with no input sequence: h <- tanh(A h + c), ten times."""
    order, got, expected = _shared_weights(lambda A, x, c: sg.tanh(A @ x + c), 10)
    assert sorted(s.attrs["sequences"] for s in scans_of(order)) == [0, 1]  # forward, backward
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", ["both", "states"])
def test_a_step_value_read_outside_its_step_is_an_output_of_the_scan(kind):
    """The loss reads every pre-activation (and every state): the chain is still one
    loop, which returns the pre-activations as a second output (JAX's ys), not computed
    again outside from its rows; the rotation reading fewer inner values is the one
    chosen."""
    T = 6
    X, W, h0 = sg.matrix("X", (T, INPUT)), sg.matrix("W", (INPUT, INPUT)), sg.vector("h", INPUT)
    pre, h = [], h0
    for t in range(T):
        a = W @ h + X[t]
        pre.append(a)
        h = sg.tanh(a)
    states = sum(sg.sum(sg.tanh(a)) for a in pre)
    loss = states + sum(sg.sum(a * a) for a in pre) if kind == "both" else states
    outputs = sg.simplify([loss] + sg.grad(loss, [W]))
    found = lb.recurrences(outputs, statement_order(outputs))
    assert sorted(len(r.members) for r in found)[-1] == T
    rng = np.random.default_rng(5)
    values = [rng.standard_normal((T, INPUT)), rng.standard_normal((INPUT, INPUT)) / 2,
              rng.standard_normal(INPUT)]
    expected = sg.function([X, W, h0], outputs)(*values)
    new_outputs, order = scanned(outputs)
    lengths = sorted(s.attrs["length"] for s in scans_of(order))
    # the sum of squares is no loop; with only the states read, the backward sweep is one
    assert lengths == ([T] if kind == "both" else [T - 1, T])
    forward = next(s for s in scans_of(order) if s.attrs["length"] == T)
    assert [n.op for n in forward.attrs["step"]] == [sg.REGISTRY["tanh"]] + (
        [sg.REGISTRY["add"]] if kind == "both" else [])  # W h_{t-1} + x_t, returned
    assert sum(n.op is sg.REGISTRY["tanh"] for n in order) == 0  # only in the step
    for got, want in zip(_portable([X, W, h0], new_outputs, values), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("T", [2, 10, 60])
def test_the_jax_backend_equals_the_numpy_backend(T):
    jax = pytest.importorskip("jax", reason="the JAX backend needs jax")
    pytest.importorskip("array_api_compat", reason="needs array-api-compat")
    jax.config.update("jax_enable_x64", True)
    inputs, outputs, values = rnn(T)
    expected = sg.function(inputs, outputs)(*values)
    f = sg.function(inputs, outputs, backend="jax")
    assert ("_xp_scan(xp" in f.executed_source) == (T >= lb.MIN_STEPS)
    for got, want in zip(f(*[jax.numpy.asarray(v) for v in values]), expected):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-13)


def _variant(kind, T=6):
    X, W, h0 = sg.matrix("X", (T, INPUT)), sg.matrix("W", (INPUT, INPUT)), sg.vector("h0", INPUT)
    h = h0
    steps = range(T - 1, -1, -1) if kind == "reversed" else range(1, T) if kind == "two rows" else range(T)
    for t in steps:
        if kind == "residual":
            h = h + sg.tanh(W @ h + X[t])
        elif kind == "two rows":
            h = sg.tanh(W @ h + X[t] - 0.5 * X[t - 1])
        else:
            h = sg.tanh(W @ h + X[t])
    loss = sg.sum(h * h)
    rng = np.random.default_rng(3)
    values = [rng.standard_normal((T, INPUT)), rng.standard_normal((INPUT, INPUT)) / 2,
              rng.standard_normal(INPUT)]
    return [X, W, h0], [loss] + sg.grad(loss, [X, W, h0]), values


@pytest.mark.parametrize("kind", ["reversed", "two rows", "residual"])
def test_other_recurrences_keep_their_values(kind):
    """A loop over the rows backwards (a forward scan with reverse=True), a step
    reading two rows of X, a residual step (its tanh is read by the gradient, the
    backward sweep's δ by dW's product: both computed again from the scans' rows)."""
    inputs, outputs, values = _variant(kind)
    expected = sg.function(inputs, outputs)(*values)
    new_outputs, order = scanned(outputs)
    scans = scans_of(order)
    assert scans
    if kind == "reversed":
        assert any(s.attrs["reverse"] and s.attrs["length"] == 6 for s in scans)
    if kind == "two rows":
        assert any(s.attrs["sequences"] == 2 for s in scans)
    for got, want in zip(_portable(inputs, new_outputs, values), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_the_jax_backend_checks_every_new_argument_signature():
    """Signatures already checked are passed without checking again; a new shape is
    checked (and refused) as on the first call."""
    jax = pytest.importorskip("jax", reason="the JAX backend needs jax")
    pytest.importorskip("array_api_compat", reason="needs array-api-compat")
    jax.config.update("jax_enable_x64", True)
    x, w = sg.matrix("x", ("n", 3)), sg.vector("w", 3)
    f = sg.function([x, w], sg.sum(x @ w), backend="jax")
    good = [jax.numpy.ones((4, 3)), jax.numpy.ones(3)]
    for _ in range(2):
        assert float(f(*good)) == 12.0
    assert len(f._accepted) == 1
    with pytest.raises(ValueError, match="input 'w'"):
        f(jax.numpy.ones((4, 3)), jax.numpy.ones(4))
    with pytest.raises(TypeError, match="input 'x'"):
        f(jax.numpy.ones((4, 3), dtype=bool), jax.numpy.ones(3))
    assert float(f(jax.numpy.ones((2, 3)), jax.numpy.ones(3))) == 6.0
    assert len(f._accepted) == 2
