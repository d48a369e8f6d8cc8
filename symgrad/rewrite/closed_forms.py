"""Closed forms that hand derivations use, as facts the other rules build on.

Most closed forms need no rule of their own: they fall out of the general
algebra once a few facts about specific ops are known. For the softmax /
cross-entropy gradient the fact is that a one-hot row sums to one, which the
sum's constructor folds (``ops/reductions.py``), so ``g - softmax(a) * sum(g)``
for ``g = -one_hot(l, k)`` is built as ``softmax(a) - one_hot(l, k)``. The log-det gradient ``2 inv(A Aᵀ) A``
comes from symmetry (``inv(A Aᵀ)ᵀ = inv(A Aᵀ)``), the transpose of a product
and like-term collection; see ``docs/rewrites.md`` for the derivations.
"""
from __future__ import annotations

from ..ir.graph import Node
from ..ops import elementwise, reductions, structure
# The op records the rules match (patterns compare records, never names).
from ..ops.elementwise import add, multiply, negative, sigmoid, subtract
from .pattern import P, Rule, RuleSet


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
])

RULESETS = (CLOSED_FORMS,)
