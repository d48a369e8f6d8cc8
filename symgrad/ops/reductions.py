"""Reductions and the normalized exponentials: sum, mean, logsumexp, softmax, log_softmax.

Lowerings shift by the maximum before exponentiating, so they are finite for
inputs of any magnitude.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir.graph import Node, REGISTRY, command_line
from ..ir.leaves import as_node
from ..ir.shapes import ShapeError, normalize_axes, normalize_axis
from ..ir.print_forms import Piece
from .base import Sample, Spec, broadcast_to, op
from . import runtime
from .structure import diag, dimsize, one_hot, reshape
from ..ir.graph import Portable
from . import portable as xpl


def _reduce_prepare(x, axis=None, keepdims=False):
    return {"axis": normalize_axes(axis, x.ndim), "keepdims": bool(keepdims)}


def _reduced_shape(shape, axis, keepdims):
    if keepdims:
        return tuple(1 if i in axis else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axis)


def expand_reduced(g: Node, x: Node, axis, keepdims) -> Node:
    """Broadcast a reduced cotangent ``g`` back over ``x``'s shape."""
    if not keepdims and g.ndim:
        g = reshape(g, shape=_reduced_shape(x.shape, axis, True))
    return broadcast_to(g, x.shape)


def _keepdims(node: Node, x: Node, axis, keepdims) -> Node:
    """``node`` (reduced over ``axis``) reshaped to keep the reduced axes."""
    return node if keepdims else reshape(node, shape=_reduced_shape(x.shape, axis, True))


def _sum_infer(x, axis, keepdims):
    dtype = "int64" if x.dtype == "bool" else x.dtype
    return _reduced_shape(x.shape, axis, keepdims), dtype


def _sum_numpy(args, attrs, ctx):
    """``np.add.reduce`` (what ``np.sum`` calls, without its ~1 µs Python wrapper);
    ``np.sum`` for a 0-d operand, which may be a Python number."""
    axis, keepdims = attrs["axis"], attrs["keepdims"]
    if ctx.ndim(0) == 0:
        return f"np.sum({args[0]})"
    if not keepdims and len(axis) == ctx.ndim(0):
        return f"np.add.reduce({args[0]}, axis=None)"
    return f"np.add.reduce({args[0]}, axis={axis!r}, keepdims={keepdims})"


REDUCE_SAMPLES = lambda domain="real": lambda: [  # noqa: E731
    Sample((Spec((3,), domain),), {}),
    Sample((Spec((2, 3), domain),), {"axis": 1}),
    Sample((Spec(("n", 3), domain),), {"axis": 0, "keepdims": True}),
    Sample((Spec((2, 3, 2), domain),), {"axis": (0, 2)}),
]


def print_reduction(p, node, x):
    """``sum(x, axis=0)``: the axis only when not all, keepdims only when set (and then
    the form without it for a reshape that squeezes the kept axes)."""
    operand, axis, keepdims = node.operands[0], node.attrs["axis"], node.attrs["keepdims"]
    full = len(axis) == operand.ndim
    attrs = {} if full and not keepdims else {"axis": axis[0] if len(axis) == 1 else axis}
    plain = p.call(node.op, [x.text], attrs)
    if not keepdims:
        return plain
    return Piece(p.call(node.op, [x.text], dict(attrs, keepdims=True)).text, squeezed=plain)


def _print_along_axis(p, node, x):
    """``softmax(x)`` along the last axis, ``softmax(x, axis=0)`` along another."""
    axis = node.attrs["axis"]
    last = axis == node.operands[0].ndim - 1
    return p.call(node.op, [x.text], {} if last else {"axis": axis})


def _sympy_sum(s, node, x):
    """Sums as products with ``OneMatrix`` factors (a full sum read out as a scalar)."""
    operand, axis = node.operands[0], node.attrs["axis"]
    if not operand.ndim or not axis:
        return x
    rows, cols = x.shape
    if len(axis) == operand.ndim:
        factors = [s.ones(1, rows), x] + ([s.ones(cols, 1)] if operand.ndim == 2 else [])
        total = s.mul(*factors)
        return total if node.attrs["keepdims"] else s.element(total)
    if axis == (0,):
        if node.attrs["keepdims"]:
            return s.mul(s.ones(1, rows), x)
        return s.mul(s.T(x), s.ones(rows, 1))
    return s.mul(x, s.ones(cols, 1))


def _fold_sum(x, axis, keepdims):
    """``sum(±one_hot(l, k), classes) = ±1`` (each row has one 1; the closed-form
    phase's rule, when built): the softmax cross-entropy's gradient,
    ``-y + softmax(z) sum(y)``, is built as ``softmax(z) - y``."""
    negated = x.op is REGISTRY["negative"]  # declared in ops.elementwise, which imports this module
    labels = x.operands[0] if negated else x
    if labels.op is not one_hot or axis != (x.ndim - 1,):
        return None
    return broadcast_to(as_node(-1.0 if negated else 1.0), _reduced_shape(x.shape, axis, keepdims))


sum_ = op("sum", infer=_sum_infer, numpy=_sum_numpy, prepare=_reduce_prepare, fold=_fold_sum,
          vjp=lambda g, out, x, axis, keepdims: [expand_reduced(g, x, axis, keepdims)],
          jvp=lambda ts, out, x, axis, keepdims: sum_(ts[0], axis=axis, keepdims=keepdims),
          fresh=True, linear_in=(0,), keeps_positive=True,
          jacobian=lambda s, node, js: sum_(js[0], **node.attrs), samples=REDUCE_SAMPLES(),
          operators=(np.ndarray.sum,),
          unicode=print_reduction,
          to_sympy=_sympy_sum,
    array_api=lambda args, attrs, ctx: f"xp.sum({args[0]}, axis={attrs['axis']!r}, keepdims={attrs['keepdims']})")


def count(shape) -> Node:
    """Number of elements of ``shape`` as a float node (symbolic for named dims)."""
    ints = math.prod(d for d in shape if isinstance(d, int))
    names = tuple(d for d in shape if isinstance(d, str))
    if not names:
        return as_node(float(ints))
    size = dimsize(dims=names)
    return size if ints == 1 else size * float(ints)


@command_line(x="node", axis="axis", keepdims="bool")
def mean(x, axis=None, keepdims=False) -> Node:
    """Arithmetic mean: a sum divided by the (possibly symbolic) count."""
    x = as_node(x)
    axes = normalize_axes(axis, x.ndim)
    return sum_(x, axis=axes, keepdims=keepdims) / count([x.shape[i] for i in axes])


def _axis_prepare(x, axis=-1):
    return {"axis": normalize_axis(axis, max(x.ndim, 1))}


def _same_shape_float(x, **attrs):
    if x.ndim == 0:
        raise ShapeError("needs at least one axis, got a 0-d operand")
    return x.shape, "float64"


AXIS_SAMPLES = lambda: [Sample((Spec((4,)),), {}), Sample((Spec((2, 3)),), {"axis": 0}),  # noqa: E731
                        Sample((Spec(("n", "k")),), {"axis": -1})]


def _softmax_vjp(g, out, x, axis):
    return [out * (g - sum_(g * out, axis=axis, keepdims=True))]


softmax = op("softmax", infer=_same_shape_float, prepare=_axis_prepare,
             numpy="_softmax({0}, axis={axis})", helpers=(runtime._softmax,), vjp=_softmax_vjp,
             fresh=True, positive_result=True, facts=lambda node, facts: {"positive"},
             jacobian=lambda s, node, js: _softmax_jacobian(s, node, js),
             jvp=lambda ts, out, x, axis: _softmax_vjp(ts[0], out, x, axis)[0],
             samples=AXIS_SAMPLES,
             unicode=_print_along_axis,
    array_api=Portable("_xp_softmax(xp, {0}, axis={axis})", helpers=(xpl._xp_softmax,)))


def _log_softmax_vjp(g, out, x, axis):
    return [g - softmax(x, axis=axis) * sum_(g, axis=axis, keepdims=True)]


log_softmax = op("log_softmax", infer=_same_shape_float, prepare=_axis_prepare,
                 numpy="_log_softmax({0}, axis={axis})", helpers=(runtime._log_softmax,),
                 vjp=_log_softmax_vjp, fresh=True,
                 jacobian=lambda s, node, js: _log_softmax_jacobian(s, node, js),
                 jvp=lambda ts, out, x, axis: ts[0] - sum_(softmax(x, axis=axis) * ts[0],
                                                            axis=axis, keepdims=True),
                 samples=AXIS_SAMPLES,
                 unicode=_print_along_axis,
    array_api=Portable("_xp_log_softmax(xp, {0}, axis={axis})", helpers=(xpl._xp_log_softmax,)))


def _logsumexp_weights(out, x, axis, keepdims):
    """d logsumexp / dx: softmax along a single axis, exp(x - lse) otherwise."""
    if len(axis) == 1:
        return softmax(x, axis=axis[0])
    return REGISTRY["exp"](x - broadcast_to(_keepdims(out, x, axis, keepdims), x.shape))


logsumexp = op("logsumexp", infer=lambda x, axis, keepdims: (_reduced_shape(x.shape, axis, keepdims),
                                                            "float64"),
               prepare=_reduce_prepare, numpy="_logsumexp({0}, axis={axis!r}, keepdims={keepdims})",
               helpers=(runtime._logsumexp,), keeps_positive=True,
               jacobian=lambda s, node, js: _logsumexp_jacobian(s, node, js),
               vjp=lambda g, out, x, axis, keepdims: [
                   expand_reduced(g, x, axis, keepdims) * _logsumexp_weights(out, x, axis, keepdims)],
               jvp=lambda ts, out, x, axis, keepdims: sum_(
                   _logsumexp_weights(out, x, axis, keepdims) * ts[0], axis=axis, keepdims=keepdims),
               samples=REDUCE_SAMPLES(),
               unicode=print_reduction,
    array_api=Portable("_xp_logsumexp(xp, {0}, axis={axis!r}, keepdims={keepdims})", helpers=(xpl._xp_logsumexp,)))


# Whole-Jacobian rules (symgrad.autodiff.jacobians): J[node] from the operand's J.

def _softmax_jacobian(sweep, node, js):
    """J = p * (J[u] - sum(p * J[u])); with the seed, ``diag(p) - outer(p, p)``."""
    (j,), axis = js, node.attrs["axis"]
    if j is sweep.seed and node.ndim == 1:
        return diag(node) - REGISTRY["outer"](node, node)
    p = sweep.trailing(node)
    return p * (j - sum_(p * j, axis=axis, keepdims=True))


def _log_softmax_jacobian(sweep, node, js):
    (j,), (u,) = js, node.operands
    p = sweep.trailing(softmax(u, axis=node.attrs["axis"]))
    return j - sum_(p * j, axis=node.attrs["axis"], keepdims=True)


def _logsumexp_jacobian(sweep, node, js):
    (j,), (u,) = js, node.operands
    axis, keepdims = node.attrs["axis"], node.attrs["keepdims"]
    weights = sweep.trailing(_logsumexp_weights(node, u, axis, keepdims))
    return sum_(weights * j, axis=axis, keepdims=keepdims)


# max and min ---------------------------------------------------------------------------

def _extreme_weights(out, x, axis, keepdims):
    """The subgradient's weights: 1 / (number of ties) at each extreme entry, else 0.
    Ties share the cotangent equally, as in JAX (``jnp.max``); so VJP, JVP and the
    Jacobian agree, and the weights are piecewise constant (no second-order term)."""
    hits = REGISTRY["where"](REGISTRY["equal"](x, expand_reduced(out, x, axis, keepdims)),
                             1.0, 0.0)
    return hits / expand_reduced(sum_(hits, axis=axis, keepdims=True), x, axis, True)


def _extreme(name: str, numpy_name: str, method):
    def numpy(args, attrs, ctx):
        return f"np.{numpy_name}({args[0]}, axis={attrs['axis']!r}, keepdims={attrs['keepdims']})"

    def vjp(g, out, x, axis, keepdims):
        return [expand_reduced(g, x, axis, keepdims) * _extreme_weights(out, x, axis, keepdims)]

    def jvp(tangents, out, x, axis, keepdims):
        return sum_(_extreme_weights(out, x, axis, keepdims) * tangents[0], axis=axis,
                    keepdims=keepdims)

    def infer(x, axis, keepdims):
        if any(x.shape[i] == 0 for i in axis):  # NumPy's ValueError: max has no identity
            raise ShapeError(f"zero-size array to reduction operation {numpy_name}imum "
                             "which has no identity")
        return _reduced_shape(x.shape, axis, keepdims), x.dtype

    return op(name, infer=infer,
              prepare=_reduce_prepare, numpy=numpy, vjp=vjp, jvp=jvp, fresh=True,
              keeps_positive=True, kink=True, samples=REDUCE_SAMPLES(), operators=(method,),
              unicode=print_reduction)


#: NumPy's ``max``/``amax`` and ``min``/``amin`` (ties: the gradient is shared equally).
max_ = _extreme("max", "max", np.ndarray.max)
min_ = _extreme("min", "min", np.ndarray.min)
