"""Fidelity audit, elementwise: each ufunc-like function against NumPy on sg.* and through
``np.<ufunc>(node)`` dispatch, on 0-d/1-d/3-d and broadcast operands, int and bool operands
(NumPy's result dtype), and its gradient against finite differences."""
import numpy as np
import pytest

from fidelity_harness import check_case
import symgrad as sg

UNARY = {"n": ["sin", "cos", "tan", "arctan", "sinh", "cosh", "tanh", "arcsinh", "exp", "exp2",
               "expm1", "square", "negative", "positive", "abs", "absolute", "fabs", "sign",
               "floor", "ceil", "rint", "trunc", "fix", "round", "around", "deg2rad",
               "rad2deg", "degrees", "radians", "sinc", "cbrt", "signbit", "isfinite",
               "isnan", "isinf", "nan_to_num", "real", "conj"],
         "p": ["log", "log2", "log10", "log1p", "sqrt", "reciprocal"],
         "u": ["arcsin", "arccos", "arctanh"],
         "g": ["arccosh"]}
CASES = [(name, kind) for kind, names in UNARY.items() for name in names]
SHAPES = [(), (4,), (2, 3, 4)]
NO_GRAD = {"sign", "floor", "ceil", "rint", "trunc", "fix", "round", "around", "signbit",
           "isfinite", "isnan", "isinf"}


def _get(m, name):
    return getattr(m, name)


@pytest.mark.parametrize("name,kind", CASES)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary(name, kind, shape):
    if not hasattr(sg, name):
        pytest.fail(f"sg.{name} missing")
    check_case(lambda m, x: _get(m, name)(x), [(kind, shape)], grad=name not in NO_GRAD)


@pytest.mark.parametrize("name,kind", CASES)
def test_unary_dispatch(name, kind):
    check_case(lambda m, x: _get(m, name)(x), [(kind, (2, 3))], grad=name not in NO_GRAD,
               module=np)


INT_OK = ["sin", "exp", "square", "negative", "abs", "absolute", "fabs", "sign", "floor",
          "ceil", "sqrt", "log1p", "isfinite", "isnan", "deg2rad", "trunc", "fix", "round",
          "around", "rint", "positive", "cbrt", "signbit", "nan_to_num"]
# Deliberate differences (docs/design.md, fidelity): symgrad holds float64, int64 and bool
# only, so NumPy's float16/int8 results of bool operands are float64; arithmetic whose
# NumPy result is bool (bool + bool, abs(bool), maximum(bool, bool)) counts in float64.
SYMGRAD_DTYPES = ("float64", "int64")


def _numpy_or_error(fn, *values):
    try:
        with np.errstate(all="ignore"):
            return fn(*values), None
    except (TypeError, ValueError) as err:
        return None, err


# Deliberate (docs/reliability.md item 04/05, design.md "fidelity"): -, abs, sign of int64
# and arithmetic on bools (-, sign, +, subtract of two bools) are float64 nodes computed in
# float64 (no int overflow, no NumPy TypeError): checked against NumPy on float64 copies.
FLOAT64_BY_DESIGN = {("negative", "i"), ("abs", "i"), ("absolute", "i"), ("sign", "i"),
                     ("negative", "b"), ("sign", "b"), ("subtract", "bb"), ("-", "bb"),
                     ("-", "i"), ("-", "b"), ("abs", "b")}


def _check_float64_by_design(fn, values):
    nodes = [sg.vector(f"v{i}", np.shape(v)[0], dtype=np.asarray(v).dtype.name)
             for i, v in enumerate(values)]
    node = fn(*nodes)
    assert node.dtype == np.float64
    want = fn(*[np.asarray(v, dtype=np.float64) for v in values])
    np.testing.assert_array_equal(sg.function(nodes, node)(*values), want)


def _check_dtype_and_value(fn, values, deliberate=False):
    if deliberate:
        return _check_float64_by_design(fn, values)
    nodes = [sg.vector(f"v{i}", np.shape(v)[0], dtype=np.asarray(v).dtype.name)
             for i, v in enumerate(values)]
    want, err = _numpy_or_error(fn, *values)
    if err is not None:
        with pytest.raises(TypeError if isinstance(err, TypeError) else type(err)):
            fn(*nodes)
        return
    if want.dtype.name not in SYMGRAD_DTYPES and not (
            want.dtype == bool and not all(np.asarray(v).dtype == bool for v in values)):
        return
    node = fn(*nodes)
    assert np.dtype(node.dtype) == want.dtype, (node.dtype, want.dtype)
    with np.errstate(all="ignore"):
        got = sg.function(nodes, node)(*values)
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("name", INT_OK)
@pytest.mark.parametrize("kind", ["i", "b"])
def test_unary_int_bool(name, kind):
    value = np.array([1, 0, 4]).astype(np.int64 if kind == "i" else bool)
    if name in ("floor", "ceil", "trunc", "fix") and kind == "i" \
            and np.floor(value).dtype != np.int64:
        pytest.skip("NumPy < 2.1 rounds ints to float64; symgrad keeps NumPy >= 2.1's int64")
    if (name, kind) == ("positive", "b"):  # deliberate: +mask is the mask (NumPy: TypeError)
        assert sg.positive(sg.vector("m", 3, dtype="bool")).dtype == np.bool_
        return
    _check_dtype_and_value(lambda x: _get(sg if isinstance(x, sg.Node) else np, name)(x),
                           [value], deliberate=(name, kind) in FLOAT64_BY_DESIGN)


BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
          "fmax", "fmin", "arctan2", "hypot", "logaddexp", "logaddexp2", "copysign",
          "remainder", "mod", "fmod", "floor_divide", "heaviside", "greater", "less",
          "greater_equal", "less_equal", "equal", "not_equal", "float_power"]
BIN_NO_GRAD = {"floor_divide", "heaviside", "greater", "less", "greater_equal", "less_equal",
               "equal", "not_equal"}
BROADCAST = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (3,)),
             ((2, 1, 4), (3, 1))]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", BROADCAST)
def test_binary(name, shapes):
    if not hasattr(sg, name):
        pytest.fail(f"sg.{name} missing")
    kinds = ("p", "n") if name in ("power", "float_power") else ("n", "n")
    if name in ("remainder", "mod", "fmod", "copysign"):
        kinds = ("n", "p")
    check_case(lambda m, x, y: _get(m, name)(x, y), list(zip(kinds, shapes)),
               grad=name not in BIN_NO_GRAD)
    check_case(lambda m, x, y: _get(m, name)(x, y), list(zip(kinds, shapes)),
               grad=name not in BIN_NO_GRAD, module=np)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("kinds", [("i", "i"), ("i", "n"), ("b", "b"), ("b", "i"), ("n", "b")])
def test_binary_dtypes(name, kinds):
    values = [np.array([2, 1, 3]).astype({"i": np.int64, "b": bool, "n": np.float64}[k])
              for k in kinds]
    _check_dtype_and_value(lambda *xs: _get(sg if isinstance(xs[0], sg.Node) else np, name)(*xs),
                           values, deliberate=(name, "".join(kinds)) in FLOAT64_BY_DESIGN)


OPERATORS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
             "/": lambda a, b: a / b, "**": lambda a, b: a ** b, "%": lambda a, b: a % b,
             "//": lambda a, b: a // b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
             "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b}


@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("kinds", [("n", "n"), ("i", "i"), ("b", "b"), ("i", "n")])
def test_operators_dtype(op, kinds):
    f = OPERATORS[op]
    if op in "&|^" and kinds != ("b", "b"):
        pytest.skip("deliberate: bitwise ops of ints are not symgrad's (TypeError)")
    values = [np.array([2, 1, 3]).astype({"i": np.int64, "b": bool, "n": np.float64}[k])
              for k in kinds]
    nodes = [sg.vector(f"v{i}", 3, dtype=np.asarray(v).dtype.name) for i, v in enumerate(values)]
    _check_dtype_and_value(f, values, deliberate=(op, "".join(kinds)) in FLOAT64_BY_DESIGN)
    nodes = [sg.vector(f"v{i}", 3, dtype=np.asarray(v).dtype.name) for i, v in enumerate(values)]
    # a Python scalar on either side keeps NumPy 2's weak-scalar rule
    for scalar in (2, 2.0, True) if op not in "&|^" else (True,):
        try:
            with np.errstate(all="ignore"):
                w1, w2 = f(values[0], scalar), f(scalar, values[0])
        except TypeError:
            continue
        if w1.dtype.name not in SYMGRAD_DTYPES:
            continue
        assert np.dtype(f(nodes[0], scalar).dtype) == w1.dtype, (scalar, "right")
        assert np.dtype(f(scalar, nodes[0]).dtype) == w2.dtype, (scalar, "left")


@pytest.mark.parametrize("kind", ["n", "i", "b"])
def test_unary_operators(kind):
    value = np.array([2, 0, -3]).astype({"n": np.float64, "i": np.int64, "b": bool}[kind])
    for sym, f in (("-", lambda x: -x), ("abs", abs), ("+", lambda x: +x)):
        if kind == "b" and sym == "+":
            continue
        _check_dtype_and_value(f, [value], deliberate=(sym, kind) in FLOAT64_BY_DESIGN)
    check_case(lambda m, x: -x, [("n", (2, 3))])
    check_case(lambda m, x: ~x, [("b", (2, 3))], grad=False)


def test_clip_where_select():
    check_case(lambda m, x: m.clip(x, -0.5, 0.5), [("n", (3, 4))])
    check_case(lambda m, x, lo: m.clip(x, lo, 0.8), [("n", (3, 4)), ("n", (4,))])
    check_case(lambda m, x, y: m.where(x > 0, x, y), [("n", (3, 4)), ("n", (4,))])
    check_case(lambda m, x, y: m.where(x > 0, x, y), [("n", (3, 4)), ("n", (4,))], module=np)
    check_case(lambda m, x, y: m.select([x > 0.5, x < -0.5], [x, y], default=0.0),
               [("n", (3, 4)), ("n", (3, 4))])
    check_case(lambda m, x: m.clip(x, -1, 1), [("i", (3, 4))], grad=False)
