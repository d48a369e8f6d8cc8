"""Walks the op registry: every op is complete, and its VJP and JVP agree with
central finite differences on its samples (incl. broadcasting, named dims)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference, directional_difference
from symgrad.ops import draw

LEAVES = {"input", "constant", "zeros", "eye", "dimsize"}
SIZES = {"n": 3, "m": 2, "k": 4}
OPS = sorted(sg.REGISTRY.values(), key=lambda op: op.name)
CASES = [pytest.param(op, i, id=f"{op.name}-{i}")
         for op in OPS if op.differentiable for i in range(len(op.samples()))]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_op_is_complete(op):
    assert op.numpy is not None or op.name in ("input", "constant")
    if op.name in LEAVES or not op.differentiable:
        return
    assert op.vjp is not None, f"{op.name} has no VJP rule"
    assert op.jvp is not None, f"{op.name} has no JVP rule"
    assert op.samples(), f"{op.name} has no samples, so its derivatives are untested"


def _build(op, index, seed):
    sample = op.samples()[index]
    rng = np.random.default_rng(seed)
    dtypes = ["bool" if s.domain == "bool" else "int64" if s.domain.startswith("labels")
              else "float64" for s in sample.operands]
    inputs = [sg.tensor(f"x{i}", s.shape, d) for i, (s, d) in enumerate(zip(sample.operands, dtypes))]
    values = [draw(s, rng, SIZES) for s in sample.operands]
    out = op(*inputs, **sample.attrs)
    assert out.op is op
    weights = sg.tensor("weights", out.shape)
    wvalue = rng.standard_normal(tuple(SIZES.get(d, d) for d in out.shape))
    cost = sg.sum(out * weights)
    floats = [i for i, d in enumerate(dtypes) if d == "float64"]
    return inputs, values, out, weights, wvalue, cost, floats, rng


@pytest.mark.parametrize("op,index", CASES)
def test_vjp_matches_finite_differences(op, index):
    inputs, values, out, weights, wvalue, cost, floats, _ = _build(op, index, 1)
    grads = sg.grad(cost, [inputs[i] for i in floats])
    f = sg.function(inputs + [weights], [cost] + grads)
    results = f(*values, wvalue)
    for k, i in enumerate(floats):
        numeric = central_difference(lambda *v: f(*v, wvalue)[0], values, i)
        assert results[1 + k].shape == numeric.shape
        np.testing.assert_allclose(results[1 + k], numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{op.name}: gradient wrt operand {i}")


@pytest.mark.parametrize("op,index", CASES)
def test_jvp_matches_directional_differences(op, index):
    inputs, values, out, weights, wvalue, cost, floats, rng = _build(op, index, 2)
    directions = [rng.standard_normal(np.shape(v)) if i in floats else None
                  for i, v in enumerate(values)]
    dirs = [sg.tensor(f"v{i}", inputs[i].shape) for i in floats]
    tangent = sg.jvp(out, [inputs[i] for i in floats], dirs)
    assert tangent.shape == out.shape
    f_out = sg.function(inputs, out)
    f_tan = sg.function(inputs + dirs, tangent)
    numeric = directional_difference(f_out, values, directions)
    symbolic = f_tan(*values, *[directions[i] for i in floats])
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op,index", CASES)
def test_vjp_and_jvp_are_adjoint(op, index):
    """<u, J^T w> = <J u, w>: the two rules describe the same Jacobian."""
    inputs, values, out, weights, wvalue, cost, floats, rng = _build(op, index, 3)
    float_inputs = [inputs[i] for i in floats]
    dirs = [sg.tensor(f"v{i}", inputs[i].shape) for i in floats]
    lhs = sg.sum(sg.jvp(out, float_inputs, dirs) * weights)
    grads = sg.grad(cost, float_inputs)
    rhs = sum(sg.sum(g * d) for g, d in zip(grads, dirs))
    f = sg.function(inputs + [weights] + dirs, [lhs, rhs])
    u = [rng.standard_normal(np.shape(values[i])) for i in floats]
    a, b = f(*values, wvalue, *u)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("op,index", CASES)
def test_lowering_matches_numpy_semantics_of_shape(op, index):
    inputs, values, out, *_ = _build(op, index, 4)
    result = np.asarray(sg.function(inputs, out)(*values))
    assert result.shape == tuple(SIZES.get(d, d) for d in out.shape)
    assert result.dtype == np.dtype(out.dtype)
