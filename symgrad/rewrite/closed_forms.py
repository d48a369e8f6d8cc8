"""Closed forms that hand derivations use, as facts the other rules build on.

Most closed forms need no rule of their own: they fall out of the general
algebra once a few facts about specific ops are known. For the softmax /
cross-entropy gradient the missing fact is that a one-hot row sums to one;
with it, ``g - softmax(a) * sum(g)`` for ``g = -one_hot(l, k)`` collapses to
``softmax(a) - one_hot(l, k)``. The log-det gradient ``2 inv(A Aᵀ) A``
comes from symmetry (``inv(A Aᵀ)ᵀ = inv(A Aᵀ)``), the transpose of a product
and like-term collection; see ``docs/rewrites.md`` for the derivations.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Node
from ..ir.leaves import constant
from ..ops import broadcast_to, elementwise, reductions, structure
from ..ir.shapes import is_concrete
# The op records the rules match (patterns compare records, never names).
from ..ops.elementwise import add, multiply, negative, sigmoid, subtract
from ..ops.reductions import sum_
from ..ops.structure import one_hot
from .pattern import P, Rule, RuleSet

labels, axis = P.var("labels"), P.var("axis")


def ones(shape, dtype: str = "float64") -> Node:
    """All-ones of ``shape``: a constant when concrete, a broadcast 1 otherwise."""
    if is_concrete(shape):
        return constant(np.ones(shape, dtype=dtype))
    return broadcast_to(constant(np.ones((), dtype=dtype)), shape)


def _over_classes(labels: Node, axis) -> bool:
    """Whether the sum runs over the one-hot (last) axis only."""
    return axis == (labels.ndim,)


def _keepdims_shape(out: Node) -> bool:
    """``reshape(sum(x, axis), shape)`` where ``shape`` is the sum's keepdims shape."""
    if out.op is not structure.reshape:
        return False
    inner = out.operands[0]
    return (inner.op is reductions.sum_ and not inner.attrs["keepdims"] and out.shape
            == reductions._reduced_shape(inner.operands[0].shape, inner.attrs["axis"], True))


def _sum_keepdims(out: Node) -> Node:
    inner = out.operands[0]
    return reductions.sum_(inner.operands[0], axis=inner.attrs["axis"], keepdims=True)


y, t = P.var("y"), P.var("t")
one = P.value(1.0)

CLOSED_FORMS = RuleSet("closed forms", [
    # σ(-t) = 1 - σ(t): the logistic loss's two terms, -y log σ(t) - (1 - y) log(1 - σ(t)),
    # differentiate to (y - 1) σ(t) + y σ(-t) = y - σ(t)
    Rule("(y - 1) σ(t) + y σ(-t) = y - σ(t)",
         P(add, P(multiply, P(subtract, y, one), P(sigmoid, t)), P(multiply, y, P(sigmoid, P(negative, t)))),
         lambda y, t: y - elementwise.sigmoid(t)),
    Rule("(1 - y) σ(t) - y σ(-t) = σ(t) - y",
         P(subtract, P(multiply, P(subtract, one, y), P(sigmoid, t)), P(multiply, y, P(sigmoid, P(negative, t)))),
         lambda y, t: elementwise.sigmoid(t) - y),
    # a sum reshaped to its keepdims shape is the keepdims sum (so exp(Z) / that is softmax)
    Rule("reshape(sum(x, axis), kept shape) = sum(x, axis, keepdims=True)",
         P.var("out", _keepdims_shape, ops={structure.reshape}), _sum_keepdims),
    # each one-hot row has a single 1
    Rule("sum(one_hot(l, k), classes) = 1",
         P(sum_, P(one_hot, labels), axis=axis).named("out"), lambda out: ones(out.shape),
         when=_over_classes),
])

RULESETS = (CLOSED_FORMS,)
