"""Hostile input never executes and never crashes uncleanly.

Names: any string as an input or dimension name is rejected at creation with
ValueError or mangled; the generated module always parses, holds the raw name
in no identifier and no string other than an escaped ASCII docstring, runs,
and has no side effect. Call-time arguments: every odd argument either works
(and matches NumPy) or raises a TypeError/ValueError naming the input; a
compiled function never mutates its arguments.
"""
import ast
import contextlib
import io
import os
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.cli import parse
from symgrad.compile import emit, lowering
from symgrad.cli.main import main as cli_main
from strategies import float_inputs, graphs, inputs_for

MARKER = os.path.join(tempfile.gettempdir(), "symgrad-pwned-marker")
INJECTIONS = [
    "x", "", " ", "x y", "1x", "class", "lambda", "None", "True", "def", "import",
    "__import__", "__builtins__", "__class__", "_", "np", "numpy", "f", "arg0", "print",
    "exec", "eval", "x\n", "a\nb", "\r", "\t", "'", '"', "'''", '"""', "\\", "x\\",
    '"""; import os; os.system("touch %s"); """' % MARKER,
    "'''; import os; os.system('touch %s'); '''" % MARKER,
    "__import__('os').system('touch %s')" % MARKER,
    "x): pass\nimport os; os.system('touch %s')\ndef g(" % MARKER,
    "x=__import__('os').system('touch %s')" % MARKER,
    "#", "x # comment", "{0}", "{name}", "%s", "f'{1}'", "ω", "Ω", "é", "ﬁ", "x\u200b",
    "\u202eevil", "\x00", "\ud800", "\U0001f600", "a" * 10000, "dim0", "t0", "_c0",
    "_sigmoid", "sum_0", "\N{LATIN SMALL LETTER DOTLESS I}",
]


def _identifiers(tree) -> set:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def _docstrings(tree) -> set:
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    return {id(n.body[0].value) for n in nodes
            if n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}


def check_source_is_safe(source: str, names) -> None:
    """Parses; unsafe names appear in no identifier and no string but an escaped docstring."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    identifiers = _identifiers(tree)
    arguments = {a.arg for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) for a in n.args.args}
    assert all(emit.is_safe_identifier(a) for a in arguments), arguments
    for name in names:
        legitimate = name in lowering.RESERVED or name.startswith("_")  # np, helpers
        if not emit.is_safe_identifier(name) and not legitimate:
            assert name not in identifiers, f"raw name {name!r} is an identifier"
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            assert all(c in "0123456789abcdef" for c in node.value), \
                f"unexpected string constant {node.value[:40]!r} in generated source"
    for line in source.splitlines():
        assert line.isascii() and line.isprintable(), f"raw character in source: {line[:60]!r}"


def exercise_name(name: str) -> None:
    """Build, generate, compile and call with ``name`` as input and dimension name."""
    try:
        x = sg.tensor(name, (name, 2))
    except ValueError:
        return  # rejected at creation: allowed
    other = "y" if name != "y" else "z"
    y = sg.scalar(other)
    out = [sg.sum(sg.tanh(x) * y), sg.grad(sg.sum(x * x) * y, x)]
    source = sg.codegen([x, y], out)
    check_source_is_safe(source, [name])
    f = sg.function([x, y], out)
    assert f.source == source
    value = np.arange(6.0).reshape(3, 2) / 6
    total, gradient = f(value, 2.0)
    np.testing.assert_allclose(total, np.sum(np.tanh(value) * 2.0))
    np.testing.assert_allclose(gradient, 4.0 * value)
    total_by_name, _ = f(**{name: value, other: 2.0})
    np.testing.assert_allclose(total_by_name, total)


@pytest.fixture(autouse=True)
def no_marker():
    if os.path.exists(MARKER):
        os.remove(MARKER)
    yield
    assert not os.path.exists(MARKER), "a hostile name executed code"


@pytest.mark.parametrize("name", INJECTIONS, ids=range(len(INJECTIONS)))
def test_classic_injection_names_are_rejected_or_mangled(name):
    exercise_name(name)


@given(st.text(max_size=30))
def test_any_text_is_a_safe_input_name(name):
    exercise_name(name)


@given(st.text(alphabet=st.sampled_from("'\"\\\n#(){}:;=_ xa1é"), max_size=12))
def test_quote_heavy_text_is_a_safe_input_name(name):
    exercise_name(name)


@pytest.mark.parametrize("name", INJECTIONS, ids=range(len(INJECTIONS)))
def test_hostile_function_names_are_rejected(name):
    x = sg.scalar("x")
    try:
        f = sg.function([x], x + 1.0, name=name)
    except ValueError as err:
        assert "name" in str(err)
        return
    assert emit.is_safe_identifier(name)
    check_source_is_safe(f.source, [name])
    assert f(1.0) == 2.0


def test_non_string_names_are_rejected_with_type_error():
    for bad in (None, 3, b"x", ("x",)):
        with pytest.raises(TypeError):
            sg.scalar(bad)


# Call-time arguments -------------------------------------------------------------

X = sg.matrix("X", ("n", 3))
L = sg.vector("labels", "n", dtype="int64")
COST = sg.sum(sg.log_softmax(X, axis=1) * sg.one_hot(L, 3))
GRAD = sg.grad(COST, X)


@pytest.fixture(scope="module")
def f():
    return sg.function([X, L], [COST, GRAD])


def _expected(x, labels):
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = np.eye(3)[labels]
    return np.sum(logp * onehot), onehot - np.exp(logp) * onehot.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("value,error", [
    (np.ones((2, 3), dtype=complex), TypeError), (np.array([["a"] * 3] * 2), TypeError),
    (np.array([[object()] * 3] * 2), TypeError), (np.ones(3), ValueError),
    (np.ones((2, 3, 1)), ValueError), (np.ones((2, 4)), ValueError), ("abc", TypeError),
    (None, TypeError), ({"a": 1}, TypeError)])
def test_bad_argument_raises_naming_the_input(f, value, error):
    with pytest.raises(error, match=r"\bX\b"):
        f(value, np.zeros(2, dtype=np.int64))


def test_float_labels_and_contradicting_sizes_raise_naming_the_input(f):
    with pytest.raises(TypeError, match="labels"):
        f(np.ones((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="labels"):
        f(np.ones((2, 3)), np.zeros(5, dtype=np.int64))
    with pytest.raises(TypeError, match="labels"):
        f(np.ones((2, 3)))


@pytest.mark.parametrize("make", [
    lambda a: a, lambda a: np.asfortranarray(a), lambda a: np.repeat(a, 2, axis=1)[:, ::2],
    lambda a: a.T.copy().T, lambda a: a.astype(np.float32), lambda a: a.astype(np.int32),
    lambda a: a.tolist(), lambda a: a > 0, lambda a: np.broadcast_to(a[1], a.shape)],
    ids=["plain", "fortran", "strided", "transposed", "float32", "int32", "list", "bool",
         "zero-stride"])
def test_odd_but_valid_arrays_work(f, make):
    base = np.linspace(-2.0, 3.0, 12).reshape(4, 3)
    value = make(base)
    labels = np.array([0, 2, 1, 2])
    expected = _expected(np.asarray(value, dtype=np.float64), labels)
    for got, want in zip(f(value, labels.tolist()), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_read_only_inputs_work(f):
    value = np.linspace(-2.0, 3.0, 12).reshape(4, 3)
    labels = np.array([0, 2, 1, 2])
    value.flags.writeable = False
    labels.flags.writeable = False
    for got, want in zip(f(value, labels), _expected(value, labels)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_python_scalars_and_lists():
    a, v = sg.scalar("a"), sg.vector("v", "n")
    g = sg.function([a, v], [a * sg.sum(v), sg.grad(a * sg.sum(v * v), v)])
    total, grad = g(2, [1.0, 2.0, 3.0])
    assert total == 12.0
    np.testing.assert_array_equal(grad, [4.0, 8.0, 12.0])
    total, _ = g(np.float32(0.5), (1, 2))
    assert total == 1.5
    with pytest.raises(ValueError, match=r"\ba\b"):
        g([1.0], [1.0])


def test_nan_and_inf_propagate_like_numpy():
    x = sg.vector("x", "n")
    g = sg.function([x], [sg.sum(sg.exp(x)), sg.grad(sg.sum(x * x), x), sg.tanh(x)])
    value = np.array([np.nan, np.inf, -np.inf, 1.0])
    total, grad, th = g(value)
    assert np.isnan(total)
    np.testing.assert_array_equal(grad, 2 * value)
    np.testing.assert_array_equal(th, np.tanh(value))


def test_zero_sized_dimensions():
    X, w = sg.matrix("X", ("n", "k")), sg.vector("w", "k")
    cost = sg.sum(sg.tanh(X @ w))
    g = sg.function([X, w], [cost, sg.grad(cost, w), sg.grad(cost, X), sg.mean(X, axis=1)])
    for n, k in [(0, 3), (3, 0), (0, 0)]:
        total, gw, gx, means = g(np.ones((n, k)), np.ones(k))
        assert total == 0.0 and gw.shape == (k,) and gx.shape == (n, k)
        np.testing.assert_array_equal(gw, np.zeros(k))
        np.testing.assert_array_equal(means, np.full(n, np.nan if k == 0 else 1.0))


@settings(max_examples=max(settings().max_examples // 3, 10))
@given(graphs())
def test_compiled_functions_never_mutate_arguments(case):
    cost = sg.sum(case.out * case.out)
    inputs = inputs_for([cost, *case.built])
    outputs = [cost, *case.built, *sg.grad(cost, float_inputs(inputs))]
    values = case.values(inputs)
    copies = [v.copy() for v in values]
    f = sg.function(inputs, outputs)
    with np.errstate(all="ignore"):
        results = f(*values)
    for value, copy in zip(values, copies):
        np.testing.assert_array_equal(value, copy)
    for result in results:
        assert not any(np.shares_memory(result, v) for v in values), "an output aliases an input"
    for value in values:
        value.flags.writeable = False
    with np.errstate(all="ignore"):
        again = f(*values)  # no in-place write into a read-only argument
    for a, b in zip(results, again):
        np.testing.assert_array_equal(a, b)


# The command-line expression parser ---------------------------------------------

PARSE_SHAPES = {"A": ("n", "n"), "x": ("n",), "lab": ("n",)}
PARSE_DTYPES = {"lab": "int64"}
NAMES = ["x", "A", "s", "n", "lab", "T", "foo", "__import__", "np", "os", "None", "True"]
FUNCTION_NAMES = sorted(parse.functions()) + ["eval", "exec", "open", "getattr", "print"]


def _call(parts):
    name, args, keywords = parts
    return f"{name}({', '.join(args + [f'{k}={v}' for k, v in keywords])})"


def _expressions():
    """Grammar-shaped text: mostly valid, often wrong in types, shapes or names."""
    valid = st.sampled_from(["x", "A", "s", "n", "2", "0.5", "1"])
    weird = st.sampled_from(NAMES + ["1e308", "1e-320", "100001", "10**10", "1j", "0x10",
                                     "'s'", "b'x'", "...", "()", "(1, 2)", "[1]"])
    keyword = st.tuples(st.sampled_from(["axis", "keepdims", "k", "shape", "axes", "x"]),
                        st.sampled_from(["0", "1", "-1", "True", "(0, 1)", "(n, n)", "3"]))

    def extend(inner):
        good = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "@"]), inner)
        bad = st.tuples(inner, st.sampled_from(["%", "//", "<", "and", "|", "if 1 else"]), inner)
        index = st.sampled_from(["[0]", "[:, 1]", "[::-1]", "[1:2]", "[x]", "[0, 0, 0]",
                                 "[...]", ".T", ".shape", ".__class__", "()"])
        call = st.tuples(st.sampled_from(FUNCTION_NAMES), st.lists(inner, min_size=1, max_size=2),
                         st.lists(keyword, max_size=1)).map(_call)
        return st.one_of(
            good.map(lambda t: f"({t[0]} {t[1]} {t[2]})"), call, call,
            good.map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(inner, index).map("".join), inner.map(lambda e: f"-{e}"),
            bad.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"lambda: {e}"))
    return st.recursive(valid | valid | weird, extend, max_leaves=10)


def check_parse(text: str) -> None:
    """Parses to a node, or raises ParseError/ShapeError with a one-line message."""
    try:
        node = parse.parse_expression(text, PARSE_SHAPES, PARSE_DTYPES)
    except (parse.ParseError, sg.ShapeError) as err:
        assert "\n" not in str(err) and str(err), repr(str(err))
    else:
        assert isinstance(node, sg.Node)


@given(_expressions())
def test_parser_on_grammar_shaped_input(text):
    check_parse(text)


@given(st.text(max_size=60))
def test_parser_on_arbitrary_text(text):
    check_parse(text)


@pytest.mark.parametrize("text", [
    "(" * 5000 + "x" + ")" * 5000, "-" * 5000 + "x", "x" + "+x" * 3000, "x" * 5000,
    "sum(" * 300 + "x" + ")" * 300, "x[" * 300 + "0" + "]" * 300, "\x00", "x\n+ x",
    "__import__('os').system('touch %s')" % MARKER, "x.__class__.__bases__", "9**9**9**9"])
def test_parser_bounds_depth_and_length(text):
    check_parse(text)


@settings(max_examples=max(settings().max_examples // 3, 10))
@given(_expressions() | st.text(max_size=40))
def test_cli_gives_exit_code_2_and_one_line_for_bad_expressions(text):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli_main(["grad", text, "--wrt", "x", "--dims", "A=n,n", "x=n", "lab=n:int"], out=out)
    assert code in (0, 2), (code, err.getvalue())
    if code == 2:
        assert err.getvalue().startswith("symgrad: error: ") and err.getvalue().count("\n") == 1
    else:
        assert err.getvalue() == "" and out.getvalue()
