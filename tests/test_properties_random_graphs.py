"""Properties of random expression graphs (see tests/strategies.py).

Each property is its own test: derivatives against finite differences and
each other, the compiled function against a node-by-node evaluation, and the
simplifier and SymPy bridge against the original values. Examples whose values
sit near a kink or overflow are rejected (``assume``), never forced through.
Run deeper with ``pytest --hypothesis-profile=long``.
"""
import contextlib
import signal

import numpy as np
from hypothesis import assume, given, note

import symgrad as sg
from symgrad.check.numeric import central_difference, directional_difference
from strategies import eager, float_inputs, graphs, inputs_for, well_conditioned


def _extrapolated(difference, h: float = 1e-5):
    """Central differences at steps h and h/2, Richardson-extrapolated: truncation
    error O(h⁴) instead of O(h²), so steep random graphs are judged fairly."""
    return (4 * np.asarray(difference(h / 2)) - np.asarray(difference(h))) / 3


def _scale(*arrays) -> float:
    return max([1.0] + [float(np.max(np.abs(a))) for a in arrays if np.size(a)])


def _close(actual, expected, rtol: float, what: str, scale: float = 1.0):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def _setup(case):
    """(cost, inputs, values): ``cost = sum(out * v)`` with a random weight input ``v``,
    the case rejected unless every node is finite, moderate and away from kinks."""
    v = sg.tensor("v", case.out.shape)
    cost = sg.sum(case.out * v)
    inputs = inputs_for([cost, *case.built])
    values = case.values(inputs)
    try:
        env = eager([cost, *case.built], inputs, values, case.sizes)
    except np.linalg.LinAlgError:  # an exactly singular matrix inverted: not well-conditioned
        assume(False)
    assume(well_conditioned(env))
    note(f"inputs: {dict(zip([n.name for n in inputs], values))}")
    return cost, inputs, values


def _directions(case, nodes):
    rng = np.random.default_rng(case.seed + 1)
    return [rng.standard_normal(tuple(case.sizes.get(d, d) for d in n.shape)) for n in nodes]


@given(graphs())
def test_grad_matches_central_differences(case):
    cost, inputs, values = _setup(case)
    wrt = float_inputs(inputs)
    f = sg.function(inputs, [cost] + sg.grad(cost, wrt))
    results = f(*values)
    for k, node in enumerate(wrt):
        i = inputs.index(node)
        numeric = _extrapolated(lambda h: central_difference(lambda *vals: f(*vals)[0],
                                                             values, i, eps=h))
        _close(results[1 + k], numeric, 1e-4, f"d cost / d {node.name}",
               _scale(results[0], numeric))


@given(graphs())
def test_jvp_matches_directional_differences(case):
    cost, inputs, values = _setup(case)
    wrt = float_inputs(inputs)
    dirs = [sg.tensor(f"d_{n.name}", n.shape) for n in wrt]
    tangent = sg.jvp(case.out, wrt, dirs)
    assert tangent.shape == case.out.shape
    u = _directions(case, wrt)
    f_out = sg.function(inputs, case.out)
    f_tan = sg.function(inputs + dirs, tangent)
    steps = [u[wrt.index(n)] if n in wrt else None for n in inputs]
    numeric = _extrapolated(lambda h: directional_difference(f_out, values, steps, eps=h))
    symbolic = f_tan(*values, *u)
    _close(symbolic, numeric, 1e-4, "jvp", _scale(f_out(*values), numeric))


@given(graphs())
def test_jvp_and_grad_satisfy_the_dot_product_identity(case):
    """<J u, v> = <u, Jᵀ v> for the output's Jacobian J, random u and v."""
    cost, inputs, values = _setup(case)
    wrt = float_inputs([n for n in inputs if n.name != "v"])
    assume(wrt)
    v = next(n for n in inputs if n.name == "v")
    dirs = [sg.tensor(f"d_{n.name}", n.shape) for n in wrt]
    lhs = sg.sum(sg.jvp(case.out, wrt, dirs) * v)
    rhs = sum(sg.sum(g * d) for g, d in zip(sg.grad(cost, wrt), dirs))
    a, b = sg.function(inputs + dirs, [lhs, rhs])(*values, *_directions(case, wrt))
    _close(a, b, 1e-8, "<J u, v> vs <u, J^T v>", _scale(a, b))


@given(graphs())
def test_hvp_matches_differences_of_grad(case):
    cost, inputs, values = _setup(case)
    wrt = float_inputs(inputs)
    dirs = [sg.tensor(f"d_{n.name}", n.shape) for n in wrt]
    f_grad = sg.function(inputs, sg.grad(cost, wrt))
    f_hvp = sg.function(inputs + dirs, sg.hvp(cost, wrt, dirs))
    u = _directions(case, wrt)
    symbolic = f_hvp(*values, *u)
    steps = [u[wrt.index(n)] if n in wrt else None for n in inputs]
    gradient = f_grad(*values)
    for k, node in enumerate(wrt):
        numeric = _extrapolated(lambda h: directional_difference(
            lambda *vals: f_grad(*vals)[k], values, steps, eps=h))
        _close(symbolic[k], numeric, 1e-4, f"hvp wrt {node.name}", _scale(gradient[k], numeric))


@given(graphs())
def test_compiled_function_equals_node_by_node_evaluation(case):
    cost, inputs, values = _setup(case)
    outputs = [case.out, cost, *case.built, *sg.grad(cost, float_inputs(inputs))]
    results = sg.function(inputs, outputs)(*values)
    env = eager(outputs, inputs, values, case.sizes)
    for node, result in zip(outputs, results):
        assert np.shape(result) == np.shape(env[node]), repr(node)
        assert np.asarray(result).dtype == np.dtype(node.dtype), repr(node)
        _close(result, env[node], 1e-9, repr(node), _scale(env[node]))


def _values_of(nodes, inputs, values):
    """Values of ``nodes`` compiled as functions of ``inputs`` (some may be unused)."""
    return sg.function(inputs, list(nodes))(*values)


@given(graphs())
def test_simplify_preserves_values_and_never_grows(case):
    cost, inputs, values = _setup(case)
    nodes = [case.out, *sg.grad(cost, float_inputs(inputs))]
    simplified = sg.simplify(nodes)
    assert len(simplified) == len(nodes)
    assert sg.op_count(simplified) <= sg.op_count(nodes)  # the documented size measure
    for before, after in zip(nodes, simplified):
        assert after.shape == before.shape and after.dtype == before.dtype
    expected = _values_of(nodes, inputs, values)
    for node, got, want in zip(nodes, _values_of(simplified, inputs, values), expected):
        _close(got, want, 1e-7, f"simplify changed {node!r}", _scale(want))


class _SympyTooSlow(Exception):
    pass


@contextlib.contextmanager
def _sympy_time_limit(seconds: float):
    """Raise _SympyTooSlow in the main thread after ``seconds`` (SIGALRM)."""
    def expire(signum, frame):
        raise _SympyTooSlow()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@given(graphs(kind="scalar") | graphs(kind="matrix"))
def test_sympy_round_trip_preserves_values(case):
    cost, inputs, values = _setup(case)
    try:
        with _sympy_time_limit(10.0):
            expr = sg.to_sympy(case.out)
    except _SympyTooSlow:
        # SymPy's automatic evaluation (assumptions on nested exp/power) can
        # take minutes on some random graphs; that is SymPy's cost, not a
        # round-trip error, so the example is rejected rather than hung on.
        assume(False)
    except ValueError as err:
        # Nested data-dependent where: refused on purpose (SymPy's Piecewise
        # construction is exponential in the nesting); anything else is a bug.
        assert "no practical SymPy form" in str(err), err
        assume(False)
    back = sg.from_sympy(expr)
    assert back.shape == case.out.shape
    got, want = _values_of([back, case.out], inputs, values)
    _close(got, want, 1e-7, "to_sympy -> from_sympy changed the value", _scale(want))


@given(graphs())
def test_repeated_calls_with_every_scratch_buffer_kept_stay_exact(case):
    """Scratch buffers kept across calls (all of them, however small) and recycled
    outputs (here all of them too) never change an earlier call's results nor leak
    into a later call's."""
    cost, inputs, values = _setup(case)
    outputs = [case.out, cost, *sg.grad(cost, float_inputs(inputs))]
    f = sg.function(inputs, outputs)
    f._fn.__globals__["_KEPT_BYTES"] = 0  # every output recycled (absent without any: harmless)
    other = [np.asarray(v) * 0.5 if np.asarray(v).dtype.kind == "f" else v for v in values]
    expected = [eager(outputs, inputs, vals, case.sizes) for vals in (values, other)]
    first = f(*values)
    kept = [np.array(r, copy=True) for r in first]
    second = f(*other)
    third = f(*values)
    for k, node in enumerate(outputs):
        np.testing.assert_array_equal(first[k], kept[k], err_msg=f"call 2 changed {node!r}")
        _close(second[k], expected[1][node], 1e-9, repr(node), _scale(expected[1][node]))
        _close(third[k], expected[0][node], 1e-9, repr(node), _scale(expected[0][node]))
