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
from ..ops import broadcast_to
from ..ir.shapes import is_concrete
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


CLOSED_FORMS = RuleSet("closed forms", [
    # each one-hot row has a single 1
    Rule("sum(one_hot(l, k), classes) = 1",
         P.sum(P.one_hot(labels), axis=axis).named("out"), lambda out: ones(out.shape),
         when=_over_classes),
])

RULESETS = (CLOSED_FORMS,)
