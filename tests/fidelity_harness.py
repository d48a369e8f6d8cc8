"""Shared harness of the fidelity audit: one case is a function ``f(m, *args)`` written
once against a module ``m`` (``numpy`` or ``symgrad``), evaluated on NumPy arrays and on
input nodes; value, shape and dtype must agree, and the gradient of a random weighted sum
must agree with central finite differences of the NumPy function."""
from __future__ import annotations

import numpy as np

import symgrad as sg
from symgrad.check.numeric import central_difference


def draw(kind, shape, rng):
    """An argument value of ``kind``: 'n' normal, 'p' positive, 'u' in (-0.9, 0.9),
    'g' greater than 1.1, 'i' int64, 'b' bool, 'spd' symmetric positive definite."""
    if kind == "n":
        return rng.standard_normal(shape)
    if kind == "p":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "u":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "g":
        return rng.uniform(1.1, 3.0, shape)
    if kind == "i":
        return rng.integers(-3, 4, shape).astype(np.int64)
    if kind == "b":
        return rng.random(shape) < 0.5
    if kind == "spd":
        a = rng.standard_normal(shape)
        return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    raise ValueError(kind)


_DTYPE = {np.dtype(np.float64): "float64", np.dtype(np.int64): "int64", np.dtype(np.bool_): "bool"}


def inputs(specs, seed=0):
    rng = np.random.default_rng(seed)
    values = [draw(kind, shape, rng) for kind, shape in specs]
    nodes = [sg.tensor(f"x{i}", np.shape(v), dtype=_DTYPE[np.asarray(v).dtype])
             for i, v in enumerate(values)]
    return values, nodes


def outputs(result):
    return list(result) if isinstance(result, tuple) else [result]


def check_case(fn, specs, grad=True, rtol=1e-6, atol=1e-8, seed=0, module=sg):
    """Compare ``fn(module, nodes)`` with ``fn(numpy, arrays)``: shape, dtype, value;
    then (float inputs and outputs, ``grad``) the gradient against finite differences."""
    values, nodes = inputs(specs, seed)
    expected = outputs(fn(np, *values))
    built = outputs(fn(module, *nodes))
    assert len(built) == len(expected)
    compiled = sg.function(nodes, built)(*values)
    compiled = compiled if isinstance(compiled, (list, tuple)) else [compiled]
    for node, got, want in zip(built, compiled, expected):
        want = np.asarray(want)
        assert tuple(node.shape) == want.shape, (node.shape, want.shape)
        assert np.dtype(node.dtype) == want.dtype, (node.dtype, want.dtype)
        got = np.asarray(got)
        assert got.shape == want.shape
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    if not grad:
        return
    rng = np.random.default_rng(seed + 1)
    float_out = [i for i, w in enumerate(expected) if np.asarray(w).dtype == np.float64]
    weights = [rng.standard_normal(np.shape(expected[i])) for i in float_out]

    def scalar_np(*vals):
        outs = outputs(fn(np, *vals))
        return sum(float(np.sum(w * outs[i])) for w, i in zip(weights, float_out))

    cost = None
    for w, i in zip(weights, float_out):
        term = sg.sum(sg.constant(w) * built[i])
        cost = term if cost is None else cost + term
    for k, (v, node) in enumerate(zip(values, nodes)):
        if np.asarray(v).dtype != np.float64 or cost is None:
            continue
        g = sg.function(nodes, sg.grad(cost, node))(*values)
        fd = central_difference(scalar_np, values, k)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6,
                                   err_msg=f"gradient w.r.t. argument {k}")
