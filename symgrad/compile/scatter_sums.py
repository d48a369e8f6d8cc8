"""Sums of scatters in one buffer (a compile-time pass).

The gradient of many indexed reads of one array (``sum(x[i] * x[i])`` over all
``i``) is a chain of adds of scatters, each a whole zero array: quadratic
work. A chain with at least ``MIN_SCATTERS`` scatter terms of its shape
becomes one ``scatter_sum`` (the other terms added to it), which writes every
term into one buffer in place. NumPy's runtime only (not portable).
"""
from __future__ import annotations

from ..ops import elementwise, structure
from ..rewrite.engine import replace
from .graph_members import GraphMembers
from .memory_plan import statement_order


#: Fewest scatter terms in a chain of adds that ``scatter_sum`` replaces.
MIN_SCATTERS = 3


def accumulate_scatters(outputs: list, order: list) -> tuple:
    """Each chain of adds holding ``MIN_SCATTERS``+ scatters of its shape as one
    ``scatter_sum`` plus the chain's other terms (see the module docstring). A chain
    inside another chain's other terms is found on the next round, in the graph as
    rebuilt (a replacement is built from the nodes as they were)."""
    while True:
        mapping = _scatter_chains(outputs, order)
        if not mapping:
            return outputs, order
        outputs = replace(outputs, mapping)
        order = statement_order(outputs)


def _scatter_chains(outputs: list, order: list) -> dict:
    """chain top -> its ``scatter_sum`` form, for the chains of ``order``."""
    uses = GraphMembers(order, outputs).uses
    mapping, absorbed = {}, set()
    for node in reversed(order):  # a chain's top before its inner adds
        if node.op is not elementwise.add or node in absorbed or node.dtype != "float64":
            continue
        scatters, others, inner = _chain_terms(node, uses)
        if len(scatters) >= MIN_SCATTERS:
            absorbed.update(inner)
            total = structure.scatter_sum(*(s.operands[0] for s in scatters), shape=node.shape,
                                          indices=tuple(s.attrs["index"] for s in scatters))
            for term in others:
                total = total + term
            mapping[node] = total
    return mapping


def _chain_terms(top, uses) -> tuple:
    """(scatter terms, other terms, inner adds) of the add chain under ``top``: inner
    adds of the same shape read only by the chain (``uses(node) == 1``) are flattened
    (iteratively)."""
    scatters, others, inner, stack = [], [], [], [top]
    while stack:
        node = stack.pop()
        if node is top or (node.op is elementwise.add and node.shape == top.shape
                           and uses(node) == 1):
            if node is not top:
                inner.append(node)
            stack.extend(reversed(node.operands))
        elif (node.op is structure.scatter and node.shape == top.shape
              and node.operands[0].dtype == "float64"):
            scatters.append(node)
        else:
            others.append(node)
    return scatters, others, inner
