"""An op defined entirely in this module (a record only, no edit elsewhere) is built,
differentiated to second order, printed in Unicode and LaTeX, round-tripped through
SymPy, written in place by the compiler and parsed by the command line (issue 10)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.cli.parse import parse_expression
from symgrad.ir.graph import unregister
from symgrad.ops.base import sympy_function, unary


@pytest.fixture(scope="module")
def arctan_test():
    """NumPy's arctan under a fresh name, declared as one record; removed afterwards so
    the rest of the suite sees the registry unchanged."""
    record = unary(
        "arctan_test", "np.arctan({0})", lambda g, out, x: [g / (1.0 + x * x)],
        out_form="np.arctan({0}, out={out})",
        symbol="atan", latex_symbol=r"\arctan",
        to_sympy=sympy_function(lambda sp: sp.atan), from_sympy=lambda sp: sp.atan,
        cli=(("node", None),))
    yield record
    unregister(record)


def central_differences(f, x, h=1e-6):
    """The derivative of f (array -> array) at x, by central differences, per entry."""
    columns = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        columns.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(columns, axis=-1)


def test_built(arctan_test):
    x = sg.vector("x", 3)
    node = arctan_test(x)
    assert node.op is arctan_test and node.shape == (3,) and node.dtype == "float64"
    assert arctan_test(x) is node  # interned like every node


def test_second_order_derivatives_match_finite_differences(arctan_test):
    x = sg.vector("x", 3)
    cost = sg.sum(arctan_test(x) * x)
    gradient = sg.grad(cost, x)
    hessian = sg.hessian(cost, x)
    value = np.array([0.3, -1.2, 2.0])
    g, H = sg.function([x], [gradient, hessian])(value)
    np.testing.assert_allclose(g, np.arctan(value) + value / (1 + value ** 2), rtol=1e-12)
    gradient_at = sg.function([x], gradient)
    np.testing.assert_allclose(H, central_differences(gradient_at, value), rtol=1e-6, atol=1e-8)


def test_printed(arctan_test):
    x = sg.vector("x", 3)
    assert str(arctan_test(x) + 1.0) == "atan(x) + 1"
    assert sg.latex(arctan_test(x)) == r"\arctan\left(x\right)"


def test_sympy_round_trip(arctan_test):
    sympy = pytest.importorskip("sympy", reason="the SymPy bridge needs sympy")
    w = sg.scalar("w")
    expr = sg.to_sympy(arctan_test(w))
    assert expr == sympy.atan(sympy.Symbol("w", real=True))
    assert sg.from_sympy(expr) is arctan_test(w)


def test_written_in_place(arctan_test):
    x = sg.vector("x", 3)
    f = sg.function([x], arctan_test(sg.exp(x)))
    assert "np.arctan(exp_0, out=exp_0)" in f.executed_source  # into the dying exp's buffer
    value = np.array([0.1, 0.5, -2.0])
    np.testing.assert_allclose(f(value), np.arctan(np.exp(value)), rtol=1e-14)


def test_parsed_by_the_command_line(arctan_test):
    assert parse_expression("arctan_test(x) * 2", {"x": (3,)}) is arctan_test(sg.vector("x", 3)) * 2.0


def test_the_registry_is_left_as_found(arctan_test):
    assert sg.REGISTRY["arctan_test"] is arctan_test


def test_an_api_function_declared_once_is_a_command_line_function():
    """An API function that is not one op declares its command-line parameters where it
    is defined (``command_line``); keywords and defaults come from its signature."""
    from symgrad.ir.graph import COMMAND_LINE, command_line

    @command_line(a="node", scale="dim")
    def scaled_test(a, scale=3):
        return a * scale
    try:
        x = sg.vector("x", 3)
        shapes = {"x": (3,)}
        assert parse_expression("scaled_test(x)", shapes) is scaled_test(x, 3)
        assert parse_expression("scaled_test(x, scale=2)", shapes) is scaled_test(x, 2)
        with pytest.raises(Exception, match="no keyword argument 'factor'"):
            parse_expression("scaled_test(x, factor=2)", shapes)
    finally:
        del COMMAND_LINE["scaled_test"]


def test_command_line_keywords_are_the_api_names():
    x, shapes = sg.vector("x", 3), {"x": (3,)}
    assert parse_expression("sum(x, keepdims=True)", shapes) is sg.sum(x, keepdims=True)
    assert parse_expression("logsumexp(a=x, axis=0)", shapes) is sg.logsumexp(x, axis=0)
    assert parse_expression("var(x, ddof=1)", shapes) is sg.var(x, ddof=1)
    assert parse_expression("expit(x)", shapes) is sg.sigmoid(x)


# A reduction, declared as one record the same way ----------------------------------------

@pytest.fixture(scope="module")
def sumsq_test():
    """``sum(x², axis)`` as a reduction record of its own (NumPy's axis/keepdims
    semantics through the shared reduction pieces), removed afterwards."""
    from symgrad.ops.base import op
    from symgrad.ops.reductions import (REDUCE_SAMPLES, _reduce_prepare, _reduced_shape,
                                        expand_reduced, print_reduction, sum_)

    def numpy(args, attrs, ctx):
        return f"np.sum(np.square({args[0]}), axis={attrs['axis']!r}, keepdims={attrs['keepdims']})"

    record = op("sumsq_test", prepare=_reduce_prepare, numpy=numpy,
                infer=lambda x, axis, keepdims: (_reduced_shape(x.shape, axis, keepdims), x.dtype),
                vjp=lambda g, out, x, axis, keepdims: [2.0 * x * expand_reduced(g, x, axis, keepdims)],
                jvp=lambda ts, out, x, axis, keepdims: sum_(2.0 * x * ts[0], axis=axis,
                                                            keepdims=keepdims),
                samples=REDUCE_SAMPLES(), unicode=print_reduction, cli=(("node", None),))
    yield record
    unregister(record)


def test_a_reduction_record_alone_is_built_differentiated_printed_and_parsed(sumsq_test):
    X = sg.matrix("X", (2, 3))
    node = sumsq_test(X, axis=0, keepdims=True)
    assert node.shape == (1, 3) and node.attrs["axis"] == (0,)
    assert sumsq_test(X, axis=-2, keepdims=True) is node  # prepared, then interned
    cost = sg.sum(sg.sin(sumsq_test(X, axis=1)))
    value = np.array([[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]])
    gradient = sg.function([X], sg.grad(cost, X))
    expected = 2 * value * np.cos(np.sum(value ** 2, axis=1, keepdims=True))
    np.testing.assert_allclose(gradient(value), expected, rtol=1e-12)
    hessian = sg.function([X], sg.hessian(cost, X))(value)
    flat = lambda v: gradient(v.reshape(2, 3)).ravel()  # noqa: E731
    np.testing.assert_allclose(hessian.reshape(6, 6), central_differences(flat, value.ravel()),
                               rtol=1e-6, atol=1e-7)
    assert str(sumsq_test(X, axis=0)) == "sumsq_test(X, axis=0)"
    assert parse_expression("sumsq_test(X)", {"X": (2, 3)}) is sumsq_test(X)
