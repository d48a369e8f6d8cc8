"""Loop rolling of Python float code (symgrad.compile.rolling): a rolled function
returns bitwise what the same graph's straight code returns, on random layer chains
(with their gradients: backward runs reading forward values in reverse) and on random
scalar graphs rolled from runs of two; the W4 chain rolls into three loops whose
values equal a hand-written backward pass; slices pick exactly the elements meant."""
import contextlib
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symgrad as sg
from benchmarks.w4_eval import hand_floats  # the W4 chain's backward pass on floats
from symgrad.compile import rolling
from symgrad.ir.graph import inputs_of
from strategies import graphs

#: Layer templates: (name, how a layer's value follows from the previous one, its own
#: inputs p and q, a shared input s); each reads ``u`` at least once.
LAYERS = {
    "affine sigmoid": lambda u, p, q, s: sg.sigmoid(p * u + q),
    "tanh with a shared scale": lambda u, p, q, s: sg.tanh(s * u) + p,
    "constants and two reads": lambda u, p, q, s: u * (1.0 - u) * p + 0.25 * q,
    "deep inlining": lambda u, p, q, s: sg.sin(sg.sin(sg.sin(sg.sin(sg.sin(u * p) + q)))),
    "division": lambda u, p, q, s: u / (1.5 + sg.exp(-p * p)) - q,
    "maximum": lambda u, p, q, s: sg.maximum(u, p) * s + sg.minimum(u, q),
}


@pytest.fixture(autouse=True)
def roll_small_modules(monkeypatch):
    """Roll modules of any size here (by default only large ones roll)."""
    monkeypatch.setattr(rolling, "MIN_STATEMENTS", 0)


@contextlib.contextmanager
def min_run(n: int):
    """Roll runs of at least ``n`` members meanwhile (huge: roll nothing)."""
    saved = rolling.MIN_RUN
    rolling.MIN_RUN = n
    try:
        yield
    finally:
        rolling.MIN_RUN = saved


def _bits(values) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64).view(np.int64)


def _body(f) -> str:
    """The generated function's body (the helpers' docstrings say "for" too)."""
    return f.executed_source.split("def f(arguments):\n", 1)[1]


def _rolled_and_straight(inputs, outputs):
    rolled = sg.function(inputs, outputs)
    with min_run(10 ** 9):
        straight = sg.function(inputs, outputs)
    assert rolled._scalar and straight._scalar
    assert " for " not in _body(straight)
    return rolled, straight


def _chain(layer, depth: int, tag: str):
    x, s = sg.scalar(f"x_{tag}"), sg.scalar(f"s_{tag}")
    ps = [sg.scalar(f"p{i}_{tag}") for i in range(depth)]
    qs = [sg.scalar(f"q{i}_{tag}") for i in range(depth)]
    u = x
    for p, q in zip(ps, qs):
        u = layer(u, p, q, s)
    return [x, s] + ps + qs, u


_TAGS = itertools.count()


@settings(max_examples=60)
@given(st.sampled_from(sorted(LAYERS)), st.integers(1, 30), st.booleans(),
       st.lists(st.floats(-2, 2), min_size=62, max_size=62))
def test_rolled_chains_and_gradients_are_bitwise_the_straight_code(name, depth, reverse, values):
    inputs, u = _chain(LAYERS[name], depth, str(next(_TAGS)))
    grads = sg.grad(u, inputs)
    outputs = [u] + (grads[::-1] if reverse else grads)
    rolled, straight = _rolled_and_straight(inputs, outputs)
    if name == "affine sigmoid" and depth >= 2 * rolling.MIN_RUN:  # one statement per layer: loops
        assert " for " in _body(rolled)
    args = values[:len(inputs)]
    assert np.array_equal(_bits(rolled(*args)), _bits(straight(*args)))


@settings(max_examples=150)
@given(graphs(kind="scalar"), st.integers(0, 2 ** 32 - 1))
def test_random_scalar_graphs_rolled_from_runs_of_two_are_bitwise_the_straight_code(case, seed):
    outputs = [case.out] + case.built[::-1]
    inputs = sorted(inputs_of(outputs), key=lambda n: n.name)
    if any(o.shape or o.dtype != "float64" for o in outputs + inputs):
        return
    outputs += sg.grad(case.out, inputs)
    with min_run(2):
        rolled = sg.function(inputs, outputs)
    if not rolled._scalar:  # an op without a Python float form
        return
    with min_run(10 ** 9):
        straight = sg.function(inputs, outputs)
    assert " for " not in _body(straight)
    args = np.random.default_rng(seed).uniform(0.1, 2.0, len(inputs)).tolist()
    with np.errstate(all="ignore"):
        assert np.array_equal(_bits(rolled(*args)), _bits(straight(*args)))


def _w4(d: int):
    """(inputs, compiled value and gradients) of the W4 chain ``u_i = σ(w_i u_{i-1} + b_i)``."""
    inputs, u = _chain(LAYERS["affine sigmoid"], d, f"w4roll{next(_TAGS)}")
    inputs = inputs[:1] + inputs[2:]  # no shared input
    return inputs, sg.function(inputs, [u] + sg.grad(u, inputs))


def test_the_w4_chain_rolls_into_three_loops_that_match_a_hand_backward_pass():
    d = 300
    inputs, f = _w4(d)
    body = _body(f)
    assert body.count(" for ") == 3  # forward, backward, and the weights' gradients
    assert len(body.splitlines()) < 30
    rng = np.random.default_rng(0)
    ws, bs = rng.standard_normal(d).tolist(), rng.standard_normal(d).tolist()
    got = np.array(f(0.3, *ws, *bs))
    u, du_dx, du_dw, du_db = hand_floats(0.3, ws, bs)
    np.testing.assert_allclose(got, [u, du_dx, *du_dw, *du_db], rtol=1e-12, atol=1e-300)


def test_the_rolled_source_does_not_grow_with_the_depth():
    sizes = [len(_body(_w4(d)[1])) for d in (100, 1000)]
    assert sizes[1] - sizes[0] < 40  # longer numbers in the slices only


def test_a_run_shorter_than_the_minimum_stays_straight_code():
    _, short = _w4(rolling.MIN_RUN - 1)
    _, long = _w4(rolling.MIN_RUN + 2)
    assert " for " not in _body(short) and " for " in _body(long)


def test_by_default_only_large_modules_roll(monkeypatch):
    """Straight code is faster to call (W4 at d = 80 keeps its one-evaluation speed);
    loops only where ``compile()`` of the straight module would be what a user waits
    for."""
    monkeypatch.setattr(rolling, "MIN_STATEMENTS", 2048)
    _, small = _w4(80)  # ~240 statements
    _, large = _w4(1200)  # ~3,600 statements
    assert " for " not in _body(small) and " for " in _body(large)


def test_slices_pick_the_elements_meant():
    for length in range(1, 7):
        items = list(range(length))
        for start, step in itertools.product(range(length), (-3, -2, -1, 1, 2, 3)):
            for count in range(1, length + 1):
                last = start + (count - 1) * step
                if not 0 <= last < length:
                    continue
                text = rolling.sliced("items", length, start, step, count)
                assert eval(text) == [start + k * step for k in range(count)], text


def test_a_chain_without_inputs_per_layer_rolls_over_a_range_and_strides_of_three():
    """u_i = tanh(u_{i-1}): the forward loop steps through no sequence (``range``); the
    backward statements each inline three layers, so they read the forward results at
    a step of -3; the intermediate values returned in reverse are one starred slice."""
    x = sg.scalar("x_tanh_roll")
    u, us = x, []
    for _ in range(60):
        u = sg.tanh(u)
        us.append(u)
    outputs = [u] + sg.grad(u, [x]) + us[::-1]
    rolled, straight = _rolled_and_straight([x], outputs)
    body = _body(rolled)
    assert "in range(60)" in body and "::-3]" in body and "*tanh_results[::-1]" in body
    assert np.array_equal(_bits(rolled(0.3)), _bits(straight(0.3)))
