"""Scalar graphs compiled to Python float arithmetic (symgrad.compile.scalar_code):
chosen exactly when every value is a 0-d scalar, NumPy's values (bitwise for the
IEEE operations, within an ulp for the libm functions) on ordinary and special
inputs, NumPy's return types, gradients equal to finite differences."""
import itertools
import math

import numpy as np
import pytest

import symgrad as sg
from symgrad.compile import scalar_code
from symgrad.ir.graph import REGISTRY
from symgrad.ops import elementwise as E, runtime
from symgrad.ops.base import Spec, draw

SCALAR_OPS = sorted((op for op in REGISTRY.values() if op.scalar is not None and op.elementwise),
                    key=lambda o: o.name)
#: Ops whose scalar form calls the C library's exp/log/tanh/pow, where NumPy has SIMD
#: kernels of its own: equal within this many ulp; every other op's value is bitwise NumPy's.
LIBM = {E.exp, E.log, E.log1p, E.tanh, E.sigmoid, E.power, E.sin, E.cos}
LIBM_ULP = 2
SPECIAL = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-310, 1e300, -1e300, 710.0, -710.0,
           math.inf, -math.inf, math.nan)


def _operands(op):
    """0-d inputs for the op's operands: float64, bool where the op needs a bool."""
    return [sg.scalar(f"a{i}", "bool" if spec.domain == "bool" else "float64")
            for i, spec in enumerate(_specs(op))]


def _specs(op):
    """The op's first sample's operand specs (two reals for the comparisons, which have none)."""
    samples = op.samples()
    return samples[0].operands if samples else (Spec(()), Spec(()))


def _compiled(op):
    inputs = _operands(op)
    if any(x.dtype == "bool" for x in inputs):  # scalar functions take floats: a bool from one
        floats = [sg.scalar(f"c{i}") for i in range(len(inputs))]
        node = op(*[f > 0.0 if x.dtype == "bool" else f for x, f in zip(inputs, floats)])
        inputs = floats
    else:
        node = op(*inputs)
    return inputs, node, sg.function(inputs, node), sg.function(inputs, node, optimize=False)


def _draw(op, rng, kinkfree=False) -> list:
    """0-d floats from the op's sample domains (a bool operand: a float compared with 0,
    at least 0.1 away from it; with ``kinkfree`` reals are too)."""
    def domain(spec):
        return "kinkfree" if spec.domain == "bool" or kinkfree and spec.domain == "real" \
            else spec.domain
    return [float(draw(Spec((), domain(spec)), rng, {})) for spec in _specs(op)]


def _ulps(a, b) -> float:
    if np.isnan(a) and np.isnan(b) or a == b:
        return 0.0
    return abs(float(a) - float(b)) / np.spacing(max(abs(float(a)), abs(float(b))))


def _same(got, want, op, args):
    """Values equal; the scalar code returns NumPy scalars (np.where's 0-d array too)."""
    assert type(got) is type(np.asarray(want)[()]), (op.name, args, type(got), type(want))
    if op in LIBM and np.isfinite(want):
        assert _ulps(got, want) <= LIBM_ULP, (op.name, args, got, want)
    else:  # bitwise, the sign of zero included (not a nan's sign: NumPy's is the CPU's)
        assert np.array_equal(np.float64(got), np.float64(want), equal_nan=True) and \
            (np.isnan(want) or np.signbit(got) == np.signbit(want)), (op.name, args, got, want)


@pytest.mark.parametrize("op", SCALAR_OPS, ids=lambda o: o.name)
def test_scalar_form_equals_numpy_on_samples_and_special_values(op):
    inputs, node, scalar, numpy = _compiled(op)
    assert scalar._scalar and not numpy._scalar
    assert "np." not in scalar.executed_source.split("\ndef f(")[1]  # helpers may fall back
    rng = np.random.default_rng(0)
    drawn = [_draw(op, rng) for _ in range(30)]
    grid = [list(p) for p in itertools.product(SPECIAL, repeat=len(inputs))]
    for args in drawn + grid:
        _same(scalar(*args), numpy(*args), op, args)


@pytest.mark.parametrize("op", [op for op in SCALAR_OPS if op.differentiable], ids=lambda o: o.name)
def test_gradients_by_the_scalar_code_equal_finite_differences(op):
    inputs, node, _, _ = _compiled(op)
    f = sg.function(inputs, [node] + sg.grad(node, inputs))
    assert f._scalar, f.executed_source
    rng = np.random.default_rng(1)
    for _ in range(5):
        at = _draw(op, rng, kinkfree=True)
        got = f(*at)
        for i in range(len(at)):
            h = 1e-6 * max(1.0, abs(at[i]))
            up, down = list(at), list(at)
            up[i] += h
            down[i] -= h
            fd = (f(*up)[0] - f(*down)[0]) / (2 * h)
            np.testing.assert_allclose(got[1 + i], fd, rtol=1e-6, atol=1e-8, err_msg=op.name)


def test_arguments_and_results_keep_the_numpy_path_types_and_errors():
    p, q = sg.scalar("p"), sg.scalar("q")
    f = sg.function([p, q], [p / q, sg.exp(p) * q, p > q])
    g = sg.function([p, q], p * q)
    assert f._scalar and g._scalar
    for args in [(1.0, 0.0), (np.float64(1.0), np.float64(0.0)), (np.array(1.0), np.array(0.0)),
                 (1, False)]:
        ratio, product, bigger = f(*args)
        assert type(ratio) is np.float64 and np.isinf(ratio) and product == 0.0
        assert type(bigger) is np.bool_ and bigger
    assert f(q=0.0, p=-1.0)[0] == -np.inf and np.isnan(f(0.0, -0.0)[0])
    assert f(1000.0, 1.0)[1] == np.inf  # exp overflows to inf, as NumPy's
    assert type(g(2.0, 3.0)) is np.float64 and g(2.0, 3.0) == 6.0  # one output: not a tuple
    assert f._fast(1.0, np.float64(2.0)) == (1.0, 2.0)
    assert f._fast(1.0, "x") is None and f._fast(np.array([1.0]), 0.0) is None
    assert f._fast(np.float32(1.0), 0.0) is None  # converted (or refused) by the general path
    with pytest.raises(TypeError, match="'q'"):
        f(1.0, "x")
    with pytest.raises(ValueError, match="'q'"):
        f(1.0, np.array([1.0, 2.0]))
    many = [sg.scalar(f"s{i}") for i in range(600)]  # past the generated checker's limit
    h = sg.function(many, sum(many[1:], many[0]))
    assert h._scalar and h(*[float(i) for i in range(600)]) == sum(range(600))
    assert h._fast(*range(600)) is None and h(*range(600)) == sum(range(600))


def test_other_graphs_keep_the_numpy_code():
    x, v = sg.scalar("x"), sg.vector("v", 3)
    assert not sg.function([x, v], x * sg.sum(v))._scalar                  # an array anywhere
    assert not sg.function([x], sg.softplus(x))._scalar                    # no scalar form
    assert not sg.function([x], sg.sin(x), optimize=False)._scalar         # the graph as built
    assert not sg.function([x], sg.sin(x), nan_guard=True)._scalar
    k = sg.scalar("k", "int64")
    assert not sg.function([k, x], k * x)._scalar                          # int inputs
    assert sg.function([x], x ** 2 + sg.constant(True) * x)._scalar       # int and bool constants
    assert not sg.function([x], (x > 0.0) * (x < 1.0))._scalar              # bool from bools


def test_every_named_scalar_helper_is_a_runtime_helper():
    for op in SCALAR_OPS:
        for helper in scalar_code.helpers_of([op(*_operands(op))]):
            assert getattr(runtime, helper.__name__) is helper and hasattr(helper, "uses")


def test_constants_print_as_python_literals():
    x = sg.scalar("x")
    f = sg.function([x], [sg.maximum(x, -np.inf), x * np.nan, x - sg.constant(-0.0)])
    assert f._scalar and "math.inf" in f.executed_source
    low, nan, same = f(2.0)
    assert low == 2.0 and np.isnan(nan) and same == 2.0
    assert scalar_code.literal(np.array(-0.0)) == "(-0.0)" and scalar_code.literal(np.array(3)) == "3"
