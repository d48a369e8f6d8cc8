"""Scratch buffers kept across calls: intermediates reuse per-thread memory, and
no output, argument or earlier result ever shares memory with them."""
import threading

import numpy as np
import pytest

import symgrad as sg
from symgrad.compile.buffers import assign_slots
from symgrad.compile.memory_plan import plan


def _mlp():
    x = sg.matrix("x", ("b", 5))
    W1, b1, W2 = sg.matrix("W1", (5, 4)), sg.vector("b1", 4), sg.matrix("W2", (4, 3))
    h = sg.tanh(x @ W1 + b1)
    loss = sg.sum(sg.square(h @ W2))
    params = [W1, b1, W2]
    return [x] + params, [loss] + sg.grad(loss, params)


def _mlp_by_hand(x, W1, b1, W2):
    h = np.tanh(x @ W1 + b1)
    z = h @ W2
    dz = 2 * z
    dh = (dz @ W2.T) * (1 - h * h)
    return [np.sum(z * z), x.T @ dh, dh.sum(0), h.T @ dz]


def _values(rng, batch):
    return [rng.standard_normal((batch, 5)), rng.standard_normal((5, 4)),
            rng.standard_normal(4), rng.standard_normal((4, 3))]


def test_intermediates_go_to_scratch_and_results_stay_the_callers(rng):
    inputs, outputs = _mlp()
    f = sg.function(inputs, outputs)
    assert "out=_slots[0])" in f.executed_source and "return ((b, 4)," in f.executed_source
    assert "_slots" not in f.source and "threading" not in f.source
    first_values = _values(rng, 5000)  # (5000, 4) buffers: 160 kB, kept across calls
    first = f(*first_values)
    kept = [np.array(r) for r in first]
    for batch in (5000, 6, 4200, 5000, 2):  # slots are reallocated when the batch changes
        values = _values(rng, batch)
        for got, want in zip(f(*values), _mlp_by_hand(*values)):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    for old, copy in zip(first, kept):  # later calls never wrote into earlier results
        np.testing.assert_array_equal(old, copy)
    for old, want in zip(first, _mlp_by_hand(*first_values)):
        np.testing.assert_allclose(old, want, rtol=1e-9, atol=1e-9)


def test_scratch_buffers_are_kept_while_the_sizes_stay(rng):
    inputs, outputs = _mlp()
    f = sg.function(inputs, outputs)
    kept = lambda: f._fn.__globals__["_thread_state"].scratch  # noqa: E731  (sizes, buffers)
    f(*_values(rng, 100))
    sizes, buffers = kept()
    assert sizes == (100,) and buffers and all(b.shape[0] == 100 for b in buffers)
    f(*_values(rng, 100))
    assert kept()[1] is buffers and all(a is b for a, b in zip(kept()[1], buffers))
    f(*_values(rng, 7))  # another batch: made again, for it
    assert kept()[0] == (7,) and all(b.shape[0] == 7 for b in kept()[1])


def test_no_output_is_built_in_a_scratch_buffer(rng):
    x, W, b = sg.matrix("x", (3, 4)), sg.matrix("W", (4, 2)), sg.vector("b", 2)
    z = x @ W + b  # matmul, then an in-place add: the buffer is the output's
    f = sg.function([x, W, b], [z, (x @ W).T, sg.tanh(z)])
    assert "_slots" not in f.executed_source
    xv, Wv, bv = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    out = f(xv, Wv, bv)
    again = f(xv + 1.0, Wv, bv)
    assert not any(np.shares_memory(a, c) for a in out for c in again)


def test_slots_are_shared_by_buffers_whose_lifetimes_do_not_overlap(rng):
    x, W = sg.matrix("x", ("n", 4)), sg.matrix("W", (4, 4))
    z = x
    for _ in range(6):
        z = sg.tanh(z @ W)
    outputs = [sg.sum(z)]
    order = sg.toposort(outputs)
    memory = plan(order, outputs)
    slots = assign_slots(order, outputs, memory)
    assert len(slots) == 6 and len(set(slots.values())) == 2  # ping-pong between two
    root = {}
    for node in order:  # the buffer each value lives in: in-place writes keep it
        target = memory.reuse.get(node)
        root[node] = root.get(target, target) if target is not None else node
    last_read = {}
    for i, node in enumerate(order):
        for operand in node.operands:
            last_read[root[operand]] = i
    position = {node: i for i, node in enumerate(order)}
    for a in slots:
        for b in slots:
            if a is not b and slots[a] == slots[b] and position[a] < position[b]:
                assert last_read[a] < position[b], "a slot was reused while still read"
    f = sg.function([x, W], outputs)
    xv, Wv = rng.standard_normal((5, 4)), rng.standard_normal((4, 4))
    want = xv
    for _ in range(6):
        want = np.tanh(want @ Wv)
    for _ in range(2):
        assert f(xv, Wv) == pytest.approx(want.sum(), rel=1e-12)


def _wide_cases():
    return [[np.random.default_rng(s).standard_normal((400 + s, 400)),
             np.random.default_rng(s + 9).standard_normal((400, 100))] for s in range(4)]


@pytest.mark.parametrize("kind", ["scratch", "recycled outputs"])
def test_threads_use_their_own_buffers(rng, kind):
    inputs, outputs = _mlp() if kind == "scratch" else _wide_layer()
    f = sg.function(inputs, outputs)
    by_hand = _mlp_by_hand if kind == "scratch" else _wide_by_hand
    cases = ([_values(np.random.default_rng(seed), 4500 + seed) for seed in range(4)]
             if kind == "scratch" else _wide_cases())
    wanted = [by_hand(*values) for values in cases]
    errors = []

    def work(k):
        for _ in range(30):
            for got, want in zip(f(*cases[k]), wanted[k]):
                if not np.allclose(got, want, rtol=1e-9, atol=1e-9):
                    errors.append(k)
                    return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_the_nan_guard_variant_keeps_fresh_arrays(rng):
    inputs, outputs = _mlp()
    f = sg.function(inputs, outputs, nan_guard=True)
    assert "_slots" not in f.executed_source
    values = _values(rng, 3)
    for got, want in zip(f(*values), _mlp_by_hand(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_non_float_products_allocate_as_before(rng, dtype):
    a = sg.matrix("a", (3, 3), dtype=dtype)
    f = sg.function([a], sg.sum(a @ a))
    assert "_slots" not in f.executed_source
    value = rng.integers(0, 2, size=(3, 3)).astype(dtype)
    as_float = value.astype(np.float64)  # the product is typed (and computed in) float64
    assert f(value) == np.sum(as_float @ as_float)


def _address(array) -> int:
    return array.__array_interface__["data"][0]


def _wide_layer():
    """Outputs of 320 kB (recycled): a product, one written in place, and a swapped
    product ``xᵀ d`` (tall: formed as ``(dᵀ x)ᵀ``, an F-ordered result)."""
    x, W = sg.matrix("x", ("b", 400)), sg.matrix("W", (400, 100))
    z = x @ W
    return [x, W], [z, sg.tanh(x @ W) * 2.0, x.T @ z]


def _wide_by_hand(x, W):
    z = x @ W
    return [z, np.tanh(z) * 2.0, x.T @ z]


def test_a_dropped_large_output_is_recycled_by_the_next_call(rng):
    inputs, outputs = _wide_layer()
    f = sg.function(inputs, outputs)
    assert f.executed_source.count("_recycled(_pool, ") == 3
    assert ".T, out=_recycled(_pool, 2, (100, 400))).T" in f.executed_source  # the swapped product
    values = [rng.standard_normal((400, 400)), rng.standard_normal((400, 100))]
    f(*values)  # fills the pool
    addresses = [_address(r) for r in f(*values)]  # dropped at once
    again = f(*[v * 0.5 for v in values])
    assert [_address(r) for r in again] == addresses
    for got, want in zip(again, _wide_by_hand(*[v * 0.5 for v in values])):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert again[2].flags.f_contiguous and again[2].shape == (400, 100)


def test_a_held_output_or_a_view_of_it_is_never_written_again(rng):
    inputs, outputs = _wide_layer()
    f = sg.function(inputs, outputs)
    values = [rng.standard_normal((400, 400)), rng.standard_normal((400, 100))]
    held = f(*values)
    views = [r.T for r in f(*values)] + [f(*values)[2][3:7]]  # only the views survive
    copies = [np.array(a) for a in list(held) + views]
    for scale in (0.5, 2.0, 3.0, 0.25):
        later = f(*[v * scale for v in values])
        for got, want in zip(later, _wide_by_hand(*[v * scale for v in values])):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        for old in list(held) + views:
            assert not any(np.shares_memory(old, new) for new in later)
    for old, copy in zip(list(held) + views, copies):
        np.testing.assert_array_equal(old, copy)


def test_a_recycled_buffer_passed_back_as_an_argument_is_not_overwritten(rng):
    x, W = sg.matrix("x", (400, 400)), sg.matrix("W", (400, 400))
    f = sg.function([x, W], x @ W)
    xv, Wv = rng.standard_normal((400, 400)), rng.standard_normal((400, 400)) * 0.05
    f(xv, Wv)
    h = f(xv, Wv)
    for _ in range(4):  # the argument holds the only reference the caller keeps
        want = h @ Wv
        h = f(h, Wv)
        np.testing.assert_allclose(h, want, rtol=1e-12, atol=1e-12)


def test_the_last_two_buffers_of_an_output_are_kept(rng):
    x = sg.matrix("x", (200, 200))
    f = sg.function([x], sg.exp(x))
    value = rng.standard_normal((200, 200))
    results = [f(value) for _ in range(5)]  # all held: a fresh array each call
    assert len({_address(r) for r in results}) == 5
    pool = f._fn.__globals__["_output_state"].pool
    assert [len(kept) for kept in pool] == [2]
    assert all(any(k is r for r in results[-2:]) for k in pool[0])


def test_small_or_view_outputs_are_not_recycled(rng):
    x = sg.matrix("x", (30, 40))
    f = sg.function([x], [sg.exp(x), (x @ x.T).T])
    assert "_recycled(" not in f.executed_source and "import sys" not in f.executed_source
    y = sg.matrix("y", (300, 400))
    g = sg.function([y], [sg.exp(y.T)])  # 960 kB: recycled
    assert "_recycled(" in g.executed_source and "import sys" in g.executed_source
