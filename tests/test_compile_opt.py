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
    body = f.executed_source.split("def f(")[1]
    assert ", out=" in body and "del " in body  # buffers are reused and freed
    readable = f.source.split("def f(")[1]
    assert ", out=" not in readable and "del " not in readable  # what a person reads
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


def test_a_buffer_read_through_a_view_of_a_view_is_not_overwritten(rng):
    """The plan takes a buffer's last read as the latest last read of any view
    chained onto it (here a reshape, then a transpose of that)."""
    x = sg.vector("x_view_chain", 3)
    t = sg.exp(x)
    u = sg.reshape(t, (3, 1)).T     # (1, 3), a view of a view of t's buffer
    v = sg.tanh(t)                  # t's last direct read; u is read after it
    f = sg.function([x], [u * v, sg.sum(u)])
    value = rng.standard_normal(3)
    e = np.exp(value)
    product, total = f(value)
    np.testing.assert_array_equal(product, (e * np.tanh(e))[None, :])
    np.testing.assert_array_equal(total, np.sum(e))
    assert "out=exp" not in f.source                 # tanh is not written into t's buffer

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
    unguarded = sg.function([x], sg.sum(sg.exp(x) - sg.exp(x)), optimize=False)
    assert np.isnan(unguarded(np.array([1.0, 1000.0])))
    # optimized by default: exp(x) - exp(x) is 0 before anything overflows
    assert sg.function([x], sg.sum(sg.exp(x) - sg.exp(x)))(np.array([1.0, 1000.0])) == 0.0


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
    assert "np.outer" not in body and body.count("np.concatenate") == 2  # the δs and states; X's rows are X itself
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


def _scalar_chain(depth, tag):
    """u_i = sigmoid(w_i u_{i-1} + b_i): inputs and the cost u_depth."""
    x = sg.scalar(f"x{tag}")
    ws = [sg.scalar(f"w{i}{tag}") for i in range(depth)]
    bs = [sg.scalar(f"b{i}{tag}") for i in range(depth)]
    u = x
    for w, b in zip(ws, bs):
        u = sg.sigmoid(w * u + b)
    return [x] + ws + bs, u


def _chain_by_hand(values, depth):
    """Forward, then ū_d = 1, z̄_i = ū_i u_i (1 - u_i), w̄_i = z̄_i u_{i-1}, b̄_i = z̄_i."""
    x, ws, bs = values[0], values[1:depth + 1], values[depth + 1:]
    us = [x]
    for w, b in zip(ws, bs):
        us.append(1.0 / (1.0 + np.exp(-(w * us[-1] + b))))
    ubar, gw, gb = 1.0, [0.0] * depth, [0.0] * depth
    for i in reversed(range(depth)):
        zbar = ubar * us[i + 1] * (1 - us[i + 1])
        gw[i], gb[i] = zbar * us[i], zbar
        ubar = zbar * ws[i]
    return [us[-1], ubar] + gw + gb


def test_the_w4_chain_runs_on_python_floats(rng):
    """The depth-80 chain of benchmarks/w4_chain.py compiles to the scalar code
    (symgrad.compile.scalar_code): no NumPy call in the body, NumPy scalars returned."""
    depth = 80
    inputs, cost = _scalar_chain(depth, "_w4")
    outputs = [cost] + sg.grad(cost, inputs)
    f = sg.function(inputs, outputs)
    body = f.executed_source.split("\ndef f(")[1]
    assert f._scalar and "np." not in body and "_scalar_sigmoid(" in body
    values = [0.3] + list(rng.standard_normal(2 * depth))
    got = f(*values)
    assert len(got) == 2 * depth + 2 and all(type(v) is np.float64 for v in got)
    np.testing.assert_allclose(got, _chain_by_hand(values, depth), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got, sg.function(inputs, outputs, optimize=False)(*values),
                               rtol=1e-13, atol=1e-300)


def test_single_use_scalars_are_inlined_and_values_stay_exact(rng):
    depth = 300
    inputs, cost = _scalar_chain(depth, "_inl")
    outputs = [cost] + sg.grad(cost, inputs)
    f = sg.function(inputs, outputs)
    statements = [line for line in f.source.splitlines() if line.startswith("    ") and " = " in line]
    assert len(statements) < sg.op_count(outputs) / 2    # one-use temporaries went inline
    assert "_sigmoid(w0_inl * x_inl + b0_inl)" in f.source  # no parentheses Python does not need
    values = list(rng.uniform(-1, 1, len(inputs)))
    np.testing.assert_allclose(f(*values), _chain_by_hand(values, depth), rtol=1e-12, atol=1e-300)
    guarded = sg.function(inputs, outputs, nan_guard=True)      # the guard names every node
    assert guarded.executed_source.count(" = ") > len(statements)
    numpy_code = sg.function(inputs, outputs, optimize=False)   # f runs Python floats (libm exp)
    assert numpy_code.executed_source.count(" = ") < guarded.executed_source.count(" = ") / 2
    np.testing.assert_allclose(guarded(*values), numpy_code(*values), rtol=0, atol=0)
    np.testing.assert_allclose(f(*values), numpy_code(*values), rtol=1e-13, atol=1e-300)


def test_inlined_scalars_keep_the_parentheses_python_needs(rng):
    """Same-precedence right operands, looser operands and opaque lowerings stay
    parenthesized; the rest go in bare; values equal the guarded (uninlined)
    function bit for bit, so every expression parsed as its graph."""
    a, b, c = sg.scalar("a"), sg.scalar("b"), sg.scalar("c")
    cases = {"a - (b - c)": a - (b - c), "a - b - c": (a - b) - c, "a / (b / c)": a / (b / c),
             "a * b * c": (a * b) * c, "c * (b * a)": c * (b * a), "-(a * c)": -(a * c),
             "-(-a - b)": -(-a - b), "(a + b) ** 2.0": (a + b) ** 2.0,
             "np.exp(c + b) * a": sg.exp(c + b) * a, "a - -b * c": a - (-b) * c,
             "-c ** a": -(c ** a), "(-c) ** 3.0": (-c) ** 3.0, "(b ** a) ** c": (b ** a) ** c,
             "b ** a ** c": b ** (a ** c), "a ** -(c * b)": a ** -(c * b),
             "np.maximum(b * c - a, 0.5 * a)": sg.maximum(b * c - a, 0.5 * a),
             "2.0 * _sigmoid(b / a)": sg.sigmoid(b / a) * 2.0,
             "2.0 * (-np.logaddexp(0.0, -(c / a)))": sg.log_sigmoid(c / a) * 2.0}
    outputs = list(cases.values())
    f = sg.function([a, b, c], outputs, optimize=False)  # the graph as written
    returns = f.executed_source.splitlines()[-1]
    assert returns == "    return " + ", ".join(cases)
    for i, case in enumerate(cases):  # the readable source parenthesizes alike
        assert f"    out{i} = {case}\n" in f.source
    guarded = sg.function([a, b, c], outputs, nan_guard=True)
    assert guarded.executed_source.count(" = ") > f.executed_source.count(" = ")
    for values in rng.uniform(0.5, 2.0, (20, 3)):
        assert [float(v) for v in f(*values)] == [float(v) for v in guarded(*values)]


def _max_nesting(source: str) -> int:
    depth = deepest = 0
    for char in source:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    return deepest


def test_inlining_depth_is_bounded_for_long_scalar_sums(rng):
    """A sum of 2000 scalars nests 2000 deep; inlined whole it would exceed the parser's limit."""
    xs = [sg.scalar(f"s{i}") for i in range(2000)]
    total = xs[0]
    for x in xs[1:]:
        total = total * 1.0001 + x
    f = sg.function(xs, [total, sg.grad(total, xs[0])])
    body = f.source.split('float64."""\n')[-1]
    assert _max_nesting(body) <= 4 + 1          # INLINE_DEPTH, plus the tuple's own level
    values = rng.standard_normal(2000)
    want = values[0]
    for v in values[1:]:
        want = want * 1.0001 + v
    got, slope = f(*values)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(slope, 1.0001 ** 1999, rtol=1e-12)


def test_interned_nodes_leave_the_table_when_unreferenced():
    import gc
    from symgrad.ir.graph import _TABLE
    x = sg.scalar("x_weak_table")
    gc.collect()
    size = len(_TABLE)
    nodes = [sg.exp(x * (i + 2.0123456789)) for i in range(50)]  # constants new to the table
    assert len(_TABLE) >= size + 150                           # 50 constants, products, exps
    assert sg.exp(x * 5.0123456789) is nodes[3]                         # still interned while alive
    del nodes
    gc.collect()
    assert len(_TABLE) <= size + 1
