"""The compiler's graph rewrites (symgrad.compile.loop_batching) fire where they pay, stay
away where they would change a value or a shape, and keep every result equal
to the unfused code and to hand derivations (up to float rounding)."""
import functools
import operator
from collections import Counter

import numpy as np
import pytest

import symgrad as sg
from symgrad.rewrite import engine
from symgrad.compile.loop_batching import MIN_TERMS, fuse
from symgrad.ir.graph import toposort

N, M = 4, 3  # hidden and input sizes of the small RNNs


def _rnn(T, step="tanh, bias last"):
    """Inputs and [loss, dW, dU, db] of an unrolled RNN, loss = sum(h_T)."""
    X, W, U = sg.matrix("X", (T, M)), sg.matrix("W", (N, N)), sg.matrix("U", (N, M))
    b, h = sg.vector("b", N), sg.vector("h0", N)
    inputs = [X, W, U, b, h]
    for t in range(T):
        if step == "tanh, bias last":
            h = sg.tanh(W @ h + U @ X[t] + b)
        elif step == "tanh, bias first":
            h = sg.tanh(b + U @ X[t] + W @ h)
        elif step == "row vectors":
            h = sg.tanh(h @ W.T + X[t] @ U.T + b)
        else:
            h = sg.sigmoid(W @ h + U @ X[t] + b)
    loss = sg.sum(h)
    return inputs, [loss] + sg.grad(loss, [W, U, b])


def _values(rng, T):
    return [rng.standard_normal((T, M)), rng.standard_normal((N, N)) / 2,
            rng.standard_normal((N, M)) / 2, rng.standard_normal(N) / 4, rng.standard_normal(N)]


def _hand_bptt(x, w, u, b, h0):
    """Loss and gradients of the tanh RNN, backward through time by hand (tanh' = 1 - h²)."""
    hs = [h0]
    for row in x:
        hs.append(np.tanh(w @ hs[-1] + u @ row + b))
    g, dw, du, db = np.ones(N), np.zeros((N, N)), np.zeros((N, M)), np.zeros(N)
    for t in reversed(range(len(x))):
        delta = g * (1 - hs[t + 1] ** 2)
        dw += np.outer(delta, hs[t])
        du += np.outer(delta, x[t])
        db += delta
        g = w.T @ delta
    return [hs[-1].sum(), dw, du, db]


def _unfused(monkeypatch, inputs, outputs):
    """The same function compiled with every rewrite off."""
    with monkeypatch.context() as patch:
        patch.setitem(engine.PHASES, "loop batching",
                      engine.Phase("loop batching", run=lambda outs, order: (outs, order)))
        return sg.function(inputs, outputs)


def _assert_matches_unfused(monkeypatch, inputs, outputs, values):
    """The compiled function gives what it gives with every rewrite off."""
    fused, unfused = sg.function(inputs, outputs), _unfused(monkeypatch, inputs, outputs)
    _assert_close(fused(*values), unfused(*values))


def _ops(nodes) -> Counter:
    """(op name, rank) of every node the nodes depend on."""
    return Counter((n.op.name, n.ndim) for n in toposort(nodes))


def _add_all(terms):
    return functools.reduce(operator.add, terms)


def _assert_close(got, expected, rtol=1e-12):
    assert len(got) == len(expected)
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-13)


def test_rnn_bias_gradient_rows_and_tanh_derivative_are_batched(rng):
    """Bias added once to the batched input product, its gradient one column sum of
    the δ stack (shared by dW and dU), the input rows read as X itself (no copy),
    1 - h² computed on the stacked states; values as the hand BPTT."""
    T = 6
    inputs, outputs = _rnn(T)
    X, b = inputs[0], inputs[3]
    fused, _ = fuse(outputs)
    ops = _ops(fused)
    adds_of_b = [n for n in toposort(fused) if n.op.name == "add" and b in n.operands]
    assert [n.shape for n in adds_of_b] == [(T, N)]
    assert fused[3].op.name == "sum" and fused[3].attrs["axis"] == (0,)
    assert fused[3].operands[0].ndim == 2
    assert fused[2].op.name == "matmul" and fused[2].operands[1] is X
    assert ops[("concatenate", 1)] == 2  # δ's once (dW and dU), states once
    assert ops[("multiply", 2)] == 1 and ops[("subtract", 2)] == 1  # 1 - H * H
    assert ops[("subtract", 1)] == 1  # only h_T's derivative is left per step
    assert ops[("outer", 2)] == 0 and ops[("add", 1)] == T  # one add per forward step
    values = _values(rng, T)
    _assert_close(sg.function(inputs, outputs)(*values), _hand_bptt(*values))


@pytest.mark.parametrize("step", ["tanh, bias last", "tanh, bias first", "row vectors", "sigmoid"])
def test_rnn_forms_fold_the_bias_and_match_unfused_code_and_finite_differences(rng, monkeypatch, step):
    T = 5
    inputs, outputs = _rnn(T, step)
    b = inputs[3]
    fused, _ = fuse(outputs)
    assert [n.shape for n in toposort(fused) if n.op.name == "add" and b in n.operands] == [(T, N)]
    assert fused[3].op.name == "sum" and _ops(fused)[("outer", 2)] == 0
    values = _values(rng, T)
    _assert_matches_unfused(monkeypatch, inputs, outputs, values)
    report = sg.check_grad(outputs[0], inputs[1:4], trials=3)
    assert report.ok, report


def test_batched_sequence_input_compiles_like_the_vector_rnn(rng, monkeypatch):
    """X of shape (T, batch, m), states (batch, n): every X[t] @ U.T is a block of one
    product of X viewed as (T * batch, m), the bias is added once, dW and dU are one
    GEMM each over the stacked blocks, db one sum, 1 - h² one pass over the stack."""
    T, batch = 5, 2
    X, W, U = sg.tensor("X", (T, batch, M)), sg.matrix("W", (N, N)), sg.matrix("U", (N, M))
    b, h0 = sg.vector("b", N), sg.matrix("H0", (batch, N))
    h = h0
    for t in range(T):
        h = sg.tanh(h @ W.T + X[t] @ U.T + b)
    loss = sg.sum(h)
    inputs, outputs = [X, W, U, b, h0], [loss] + sg.grad(loss, [W, U, b])
    fused, _ = fuse(outputs)
    ops = _ops(fused)
    adds_of_b = [n for n in toposort(fused) if n.op.name == "add" and b in n.operands]
    assert [n.shape for n in adds_of_b] == [(T, batch, N)]
    assert ops[("matmul", 2)] == 2 * T + 2  # T + (T - 1) steps, X @ U.T, dW, dU (unfused: 5T - 1)
    assert ops[("concatenate", 2)] == 2 and ops[("multiply", 3)] == 1 and ops[("subtract", 3)] == 1
    assert fused[3].op.name == "sum" and fused[3].operands[0].ndim == 3
    values = [rng.standard_normal((T, batch, M)), rng.standard_normal((N, N)) / 2,
              rng.standard_normal((N, M)) / 2, rng.standard_normal(N) / 4,
              rng.standard_normal((batch, N))]
    _assert_matches_unfused(monkeypatch, inputs, outputs, values)
    assert sg.check_grad(loss, [W, U, b], trials=3).ok


def test_too_few_steps_leave_the_graph_alone():
    inputs, outputs = _rnn(MIN_TERMS - 1)
    fused, _ = fuse(outputs)
    assert fused == outputs


def test_an_invariant_larger_than_a_row_is_not_folded(rng, monkeypatch):
    """X[t] + B with B of shape (2, n) or (1, n) is larger than the row (n,): (X + B)[t]
    would have another shape, so nothing is lifted; X[t] + c with c of shape (1,) is."""
    T = 5
    X, c = sg.matrix("X", (T, N)), sg.vector("c", 1)
    inputs = [X, sg.matrix("B", (2, N)), sg.matrix("B1", (1, N)), c]
    outputs = [sum(sg.sum(sg.exp(X[t] + B)) for t in range(T)) for B in inputs[1:]]
    fused, _ = fuse(outputs)
    for wide in fused[:2]:
        assert _ops([wide])[("exp", 2)] == T and _ops([wide])[("add", 2)] == T
    assert _ops(fused[2:])[("add", 2)] == 1 and _ops(fused[2:])[("exp", 2)] == 1
    assert _ops(fused[2:])[("exp", 1)] == 0
    values = [rng.standard_normal((T, N)), rng.standard_normal((2, N)), rng.standard_normal((1, N)),
              rng.standard_normal(1)]
    _assert_matches_unfused(monkeypatch, inputs, outputs, values)


def test_rows_are_lifted_only_when_half_of_the_matrix_is_used():
    X = sg.matrix("X", (10, N))
    few = sum(sg.sum(sg.exp(X[t])) for t in range(4))
    most = sum(sg.sum(sg.exp(X[t])) for t in range(5))
    assert _ops(fuse([few])[0])[("exp", 1)] == 4
    assert _ops(fuse([most])[0])[("exp", 1)] == 0 and _ops(fuse([most])[0])[("exp", 2)] == 1


def test_an_invariant_computed_from_lifted_rows_waits_for_the_next_round(rng, monkeypatch):
    """c = sum(X[0] + b) depends on a node lifted in the same round as X[t] * c: it is
    lifted one round later, from the rebuilt c, so no replacement depends on itself."""
    T = 4
    X, b = sg.matrix("X", (T, N)), sg.vector("b", N)
    c = sg.sum(X[0] + b)
    loss = sum(sg.sum((X[t] + b) * (X[t] * c)) for t in range(T))
    fused, _ = fuse([loss])
    ops = _ops(fused)
    assert ops[("add", 2)] == 1 and ops[("multiply", 2)] == 2
    assert ops[("add", 1)] == 0 and ops[("multiply", 1)] == 0  # X[0] + b is not computed twice
    values = [rng.standard_normal((T, N)), rng.standard_normal(N)]
    _assert_matches_unfused(monkeypatch, [X, b], [loss], values)


def test_a_stacked_state_read_by_the_forward_pass_is_not_lifted(rng, monkeypatch):
    """h_{t+1} = tanh(W h_t + U x_t + h_t * h_t): the states are stacked for dW, and
    h_t * h_t (also tanh's derivative) feeds the later states, so lifting it onto their
    stack would need the stack before the states exist: the forward pass twice."""
    T = 5
    X, W, U = sg.matrix("X", (T, M)), sg.matrix("W", (N, N)), sg.matrix("U", (N, M))
    h = h0 = sg.vector("h0", N)
    inputs = [X, W, U, h0]
    for t in range(T):
        h = sg.tanh(W @ h + U @ X[t] + h * h)
    loss = sg.sum(h)
    outputs = [loss] + sg.grad(loss, [W, U])
    ops = _ops(fuse(outputs)[0])
    assert ops[("tanh", 1)] == T and ops[("multiply", 2)] == 0  # the forward pass once
    values = [rng.standard_normal((T, M)), rng.standard_normal((N, N)) / 2,
              rng.standard_normal((N, M)) / 2, rng.standard_normal(N) / 2]
    _assert_matches_unfused(monkeypatch, inputs, outputs, values)
    assert sg.check_grad(loss, [W, U], trials=3).ok


def test_outer_sum_over_evenly_spaced_rows_reads_a_slice(rng, monkeypatch):
    """Σ_k outer(a_k, X[2k]), summed in reverse: terms reordered by row, the stack is X[0:7:2]."""
    X = sg.matrix("X", (8, M))
    a = [sg.vector(f"a{k}", N) for k in range(4)]
    total = _add_all([sg.outer(a[k], X[2 * k]) for k in reversed(range(4))])
    fused, _ = fuse([total])
    product = fused[0]
    assert product.op.name == "matmul" and _ops(fused)[("concatenate", 1)] == 1
    right = product.operands[1]
    assert right.op.name == "getitem" and right.operands[0] is X
    assert right.attrs["index"][0] == ("slice", 0, 7, 2)
    values = [rng.standard_normal((8, M))] + [rng.standard_normal(N) for _ in a]
    expected = sum(np.outer(values[1 + k], values[0][2 * k]) for k in range(4))
    _assert_close(sg.function([X] + a, fused)(*values), [expected])


def test_column_sum_needs_every_stacked_vector(rng):
    """The sum of all the a's (plus another term) becomes a column sum of their stack;
    a sum of only some of them does not."""
    x = sg.matrix("X", (4, M))
    a, extra = [sg.vector(f"a{k}", N) for k in range(4)], sg.vector("e", N)
    weight = _add_all([sg.outer(a[k], x[k]) for k in range(4)])
    every = a[0] + a[1] + extra + a[2] + a[3]
    some = a[2] + a[1] + a[0]  # not a[0] + a[1] + ...: that node is shared with every
    fused, _ = fuse([weight, every, some])
    assert any(n.op.name == "sum" for n in toposort(fused[1:2]))
    assert not any(n.op.name == "sum" for n in toposort(fused[2:]))
    values = [rng.standard_normal((4, M))] + [rng.standard_normal(N) for _ in range(5)]
    got = sg.function([x] + a + [extra], fused)(*values)
    _assert_close(got[1:], [sum(values[1:6]), sum(values[1:4])], rtol=1e-14)


def test_weight_shared_over_rows_compiles_to_matrix_code(rng, monkeypatch):
    """Σ_k sum(tanh(W x_k)) over every row of X: the products, the tanh, its derivative
    and the weight gradient all become whole-matrix operations."""
    T = 6
    X, W = sg.matrix("X", (T, M)), sg.matrix("W", (N, M))
    loss = sum(sg.sum(sg.tanh(W @ X[k])) for k in range(T))
    outputs = [loss, sg.grad(loss, W)]
    ops = _ops(fuse(outputs)[0])
    assert ops[("tanh", 1)] == 0 and ops[("tanh", 2)] == 1 and ops[("outer", 2)] == 0
    x, w = rng.standard_normal((T, M)), rng.standard_normal((N, M))
    h = np.tanh(x @ w.T)
    _assert_close(sg.function([X, W], outputs)(x, w), [h.sum(), (1 - h * h).T @ x])
    _assert_matches_unfused(monkeypatch, [X, W], outputs, [x, w])
