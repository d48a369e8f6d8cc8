"""Compiler optimizations keep results exact: buffer reuse, freeing dead arrays,
the fast argument path, the sigmoid lowering, and the NaN guard."""
import pickle
import tracemalloc

import numpy as np
import pytest

import symgrad as sg


def _mlp():
    x = sg.matrix("x", ("b", 5))
    y = sg.vector("y", "b", dtype="int64")
    W1, b1 = sg.matrix("W1", (5, 4)), sg.vector("b1", 4)
    W2, b2 = sg.matrix("W2", (4, 3)), sg.vector("b2", 3)
    h = sg.sigmoid(x @ W1 + b1)
    logits = h @ W2 + b2
    loss = -sg.mean(sg.sum(sg.one_hot(y, 3) * sg.log_softmax(logits), axis=1))
    params = [W1, b1, W2, b2]
    return [x, y] + params, loss, sg.grad(loss, params)


def _mlp_by_hand(x, y, W1, b1, W2, b2):
    """Loss and gradients derived by hand (softmax - one_hot, sigmoid' = s(1 - s))."""
    h = 1.0 / (1.0 + np.exp(-(x @ W1 + b1)))
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    d2 = (p - np.eye(3)[y]) / n
    d1 = (d2 @ W2.T) * h * (1 - h)
    return [loss, x.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]


def _mlp_values(rng, n=6):
    return [rng.standard_normal((n, 5)), rng.integers(0, 3, n), rng.standard_normal((5, 4)),
            rng.standard_normal(4), rng.standard_normal((4, 3)), rng.standard_normal(3)]


def test_mlp_gradient_matches_hand_derivation_and_leaves_inputs_alone(rng):
    inputs, loss, grads = _mlp()
    f = sg.function(inputs, [loss] + grads)
    body = f.source.split("def f(")[1]
    assert ", out=" in body and "del " in body  # buffers are reused and freed
    values = _mlp_values(rng)
    copies = [v.copy() for v in values]
    for got, want in zip(f(*values), _mlp_by_hand(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for v, c in zip(values, copies):
        np.testing.assert_array_equal(v, c)


def test_outputs_are_fresh_owned_arrays(rng):
    x = sg.vector("x", 4)
    t = sg.exp(x)
    outs = [t, t * 2.0, t.T, x, t + 1.0, t]
    f = sg.function([x], outs)
    value = rng.standard_normal(4)
    results = f(value)
    np.testing.assert_allclose(results[1], 2 * np.exp(value))
    np.testing.assert_allclose(results[4], np.exp(value) + 1)
    for i, a in enumerate(results):
        assert a.flags.writeable
        assert not np.shares_memory(a, value)
        for b in results[i + 1:]:
            assert not np.shares_memory(a, b)
    again = f(value)
    results[0][:] = 0.0
    np.testing.assert_allclose(again[0], np.exp(value))


def test_a_buffer_read_through_a_view_later_is_not_overwritten(rng):
    a = sg.matrix("a", (3, 3))
    t = sg.exp(a)
    u = t.T            # a view of t's buffer
    v = sg.tanh(t)     # t dies here, but its view u is read below
    w = u @ v
    f = sg.function([a], w)
    value = rng.standard_normal((3, 3))
    e = np.exp(value)
    np.testing.assert_allclose(f(value), e.T @ np.tanh(e), rtol=1e-12)


def test_freeing_dead_intermediates_bounds_peak_memory(rng):
    x = sg.vector("x", "n")
    y = x
    for k in range(12):
        y = sg.tanh(y * 0.5 + float(k))
    f = sg.function([x], sg.sum(y))
    value = rng.standard_normal(200_000)
    expected = value
    for k in range(12):
        expected = np.tanh(expected * 0.5 + k)
    tracemalloc.start()
    result = f(value)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_allclose(result, expected.sum(), rtol=1e-12)
    assert peak < 3 * value.nbytes, f"peak {peak} bytes for a {value.nbytes}-byte input"


def test_fast_and_general_argument_paths_agree(rng):
    inputs, loss, grads = _mlp()
    f = sg.function(inputs, [loss] + grads)
    values = _mlp_values(rng, 3)
    fast = f(*values)
    as_lists = f(*[v.tolist() for v in values])
    by_name = f(**{n.name: v for n, v in zip(inputs, values)})
    for a, b, c in zip(fast, as_lists, by_name):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    bad = list(values)
    bad[2] = rng.standard_normal((4, 4))
    with pytest.raises(ValueError, match="W1"):
        f(*bad)
    bad = list(values)
    bad[0] = rng.standard_normal((2, 5))  # contradicts y's length
    with pytest.raises(ValueError, match="'y'|'x'"):
        f(*bad)
    with pytest.raises(TypeError, match="'y'"):
        f(*values[:1], values[1].astype(float), *values[2:])
    with pytest.raises(TypeError, match="takes 6 inputs"):
        f(*values, values[0])


def test_sigmoid_lowering_is_accurate_in_both_tails():
    x = sg.vector("x", 7)
    s = sg.sigmoid(x)
    f = sg.function([x], [s, sg.grad(sg.sum(s), x)])
    value = np.array([-800.0, -700.0, -30.0, 0.0, 1e-3, 30.0, 800.0])
    exact = np.array([0.0, np.exp(-700.0), np.exp(-30) / (1 + np.exp(-30)), 0.5,
                      1 / (1 + np.exp(-1e-3)), 1 / (1 + np.exp(-30)), 1.0])
    out, slope = f(value)
    np.testing.assert_allclose(out, exact, rtol=1e-14, atol=0)
    np.testing.assert_allclose(slope, exact * (1 - exact), rtol=1e-13, atol=0)
    scalar = sg.scalar("s")
    g = sg.function([scalar], sg.sigmoid(scalar))
    assert float(g(-40.0)) == pytest.approx(np.exp(-40.0) / (1 + np.exp(-40.0)), rel=1e-14)


def test_nan_guard_names_the_first_non_finite_node_and_its_operand_ranges():
    x = sg.vector("x", 3)
    y = sg.exp(sg.log(x) * 2.0)
    f = sg.function([x], y, nan_guard=True)
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), [1.0, 4.0, 9.0])
    with pytest.raises(FloatingPointError) as info:
        f(np.array([1.0, -2.0, 3.0]))
    message = str(info.value)
    assert str(sg.log(x)) in message
    assert "1 nan" in message
    assert "min -2, max 3" in message  # the operand's range shows the bad input
    assert "exp" not in message.splitlines()[0]  # the first bad node, not a later one


def test_nan_guard_reports_overflow_and_bad_inputs():
    x = sg.vector("x", 2)
    f = sg.function([x], sg.sum(sg.exp(x) - sg.exp(x)), nan_guard=True)
    with pytest.raises(FloatingPointError, match=r"exp\(x\)[\s\S]*1 inf"):
        f(np.array([1.0, 1000.0]))
    with pytest.raises(FloatingPointError, match="input 'x'"):
        f(np.array([np.nan, 1.0]))
    unguarded = sg.function([x], sg.sum(sg.exp(x) - sg.exp(x)))
    assert np.isnan(unguarded(np.array([1.0, 1000.0])))


def test_nan_guard_in_gradients_and_round_trips_through_pickle(rng):
    inputs, loss, grads = _mlp()
    f = sg.function(inputs, [loss] + grads, nan_guard=True)
    assert ", out=" not in f.source.split("def f(")[1]  # operands stay intact for the report
    values = _mlp_values(rng)
    for got, want in zip(f(*values), _mlp_by_hand(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    g = pickle.loads(pickle.dumps(f))
    assert g.nan_guard
    values[2][0, 0] = np.inf
    with pytest.raises(FloatingPointError, match="input 'W1'"):
        g(*values)


@pytest.mark.parametrize("count", [3, 70])  # the generated checker and the table one
def test_fast_path_checks_every_input_with_many_inputs(count, rng):
    xs = [sg.vector(f"v{i}", "n") for i in range(count)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x * float(len(xs))
    f = sg.function(xs, sg.sum(total))
    values = [rng.standard_normal(3) for _ in xs]
    expected = values[0].sum() + count * sum(v.sum() for v in values[1:])
    assert f(*values) == pytest.approx(expected)
    with pytest.raises(ValueError, match=f"'v{count - 1}'"):
        f(*values[:-1], rng.standard_normal(4))
    with pytest.raises(TypeError, match="'v1'"):
        f(values[0], np.array(["a", "b", "c"]), *values[2:])


def test_sum_of_outer_products_becomes_one_matrix_product(rng):
    """BPTT through an unrolled RNN: dW = Σ_t outer(δ_t, h_{t-1}) is compiled as one
    GEMM of stacked vectors and the U @ X[t] as rows of X @ U.T, and the result
    still equals the hand-written backward pass."""
    T, n, m = 5, 4, 3
    X, W, U = sg.matrix("X", (T, m)), sg.matrix("W", (n, n)), sg.matrix("U", (n, m))
    h = h0 = sg.vector("h0", n)
    for t in range(T):
        h = sg.tanh(W @ h + U @ X[t])
    loss = sg.sum(h)
    f = sg.function([X, W, U, h0], [loss] + sg.grad(loss, [W, U]))
    body = f.source.split("def f(")[1]
    assert "np.outer" not in body and body.count("np.concatenate") == 3
    assert "np.dot(U, " not in body and body.count("np.dot(X, ") == 1  # U @ X[t] batched
    x, w, u, start = (rng.standard_normal((T, m)), rng.standard_normal((n, n)),
                      rng.standard_normal((n, m)), rng.standard_normal(n))
    hs = [start]
    for t in range(T):
        hs.append(np.tanh(w @ hs[-1] + u @ x[t]))
    g, dw, du = np.ones(n), np.zeros((n, n)), np.zeros((n, m))
    for t in reversed(range(T)):
        delta = g * (1 - hs[t + 1] ** 2)
        dw += np.outer(delta, hs[t])
        du += np.outer(delta, x[t])
        g = w.T @ delta
    value, gw, gu = f(x, w, u, start)
    assert value == pytest.approx(hs[-1].sum())
    np.testing.assert_allclose(gw, dw, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gu, du, rtol=1e-12, atol=1e-13)


def test_logdet_of_a_provably_psd_matrix_goes_through_cholesky(rng):
    A, B = sg.matrix("A", (3, 5)), sg.matrix("B", (3, 3))
    f = sg.function([A, B], [sg.logdet(A @ A.T), sg.logdet(B)])
    body = f.source.split("def f(")[1]
    assert "_logdet_psd(" in body and "_logdet(B)" in body  # B is not known to be PSD
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((3, 3)) + 3 * np.eye(3)
    got_a, got_b = f(a, b)
    assert got_a == pytest.approx(np.linalg.slogdet(a @ a.T)[1], rel=1e-12)
    assert got_b == pytest.approx(np.log(np.linalg.det(b)), rel=1e-12)
    singular = np.zeros((3, 5))
    singular[:, 0] = 1.0  # rank one: Cholesky fails, the slogdet fallback gives -inf
    assert f(singular, b)[0] == -np.inf
