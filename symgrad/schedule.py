"""Memory planning for generated code: when each value dies, and which
elementwise statements may write into a dying operand's buffer.

The compiler emits one statement per node in topological order. This module
looks at that order once (linear time) and decides, per statement,

* which variables die right after it (``del`` them, so NumPy frees arrays as
  early as a hand-written function would: peak memory follows the live set,
  not the whole graph), and
* whether the statement can reuse an operand's buffer (``np.add(a, b, out=a)``)
  instead of allocating: allowed only when that operand is a fresh array of
  the result's shape and dtype that nothing reads afterwards, not even through
  a view (transpose, reshape, slice, broadcast), and that is not an output.

Inputs and constants are never written: a compiled function does not mutate
its arguments, and every output is a fresh array the caller owns.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: Ops whose lowering returns a freshly allocated, writable array when the
#: result has at least one axis (never a view of an operand).
FRESH_OPS = frozenset({
    "add", "subtract", "multiply", "divide", "power", "negative", "exp", "log", "log1p",
    "sqrt", "sin", "cos", "tanh", "abs", "relu", "softplus", "sigmoid", "maximum", "minimum",
    "where", "sign", "matmul", "outer", "sum", "softmax", "log_softmax", "inv", "solve",
    "scatter", "zeros", "eye", "concatenate",
})

#: In-place forms of elementwise lowerings: ``{0}``, ``{1}`` operands, ``{out}`` the buffer.
INPLACE = {
    "add": "np.add({0}, {1}, out={out})",
    "subtract": "np.subtract({0}, {1}, out={out})",
    "multiply": "np.multiply({0}, {1}, out={out})",
    "divide": "np.divide({0}, {1}, out={out})",
    "negative": "np.negative({0}, out={out})",
    "exp": "np.exp({0}, out={out})",
    "log": "np.log({0}, out={out})",
    "tanh": "np.tanh({0}, out={out})",
    "sigmoid": "_sigmoid({0}, out={out})",
}


@dataclass
class Plan:
    """Per-node decisions: ``reuse[node]`` is the operand whose buffer the node
    writes into; ``dies_after[node]`` lists the nodes whose variables can be
    deleted once ``node`` has been computed; ``uses[node]`` counts the operand
    slots (and outputs) reading it."""

    reuse: dict = field(default_factory=dict)
    dies_after: dict = field(default_factory=dict)
    uses: dict = field(default_factory=dict)


def _root(node, roots: dict):
    """The node owning the buffer ``node``'s value lives in (itself unless a view)."""
    if node.op.view and node.operands:
        return roots[node.operands[0]]
    return node


def plan(order, outputs, inplace: bool = True) -> Plan:
    """Liveness over ``order`` (topological, operands first) with ``outputs`` kept
    alive; buffer reuse only when ``inplace``."""
    position = {node: i for i, node in enumerate(order)}
    roots: dict = {}
    last_use: dict = {}
    group_last: dict = {}
    end = len(order)
    result = Plan()
    uses = result.uses
    for node in order:
        roots[node] = _root(node, roots)
        for operand in node.operands:
            uses[operand] = uses.get(operand, 0) + 1
            last_use[operand] = position[node]
            root = roots[operand]
            group_last[root] = max(group_last.get(root, -1), position[node])
    for node in outputs:
        uses[node] = uses.get(node, 0) + 1
        last_use[node] = end
        group_last[roots[node]] = end
    for node in order:
        target = _reusable_operand(node, roots, group_last, position) if inplace else None
        if target is not None:
            result.reuse[node] = target
        for operand in dict.fromkeys(node.operands):
            if last_use.get(operand) == position[node]:
                result.dies_after.setdefault(node, []).append(operand)
    return result


def _reusable_operand(node, roots, group_last, position):
    """An operand ``node`` may overwrite with its own result, or None."""
    if node.op.name not in INPLACE or node.dtype != "float64" or node.ndim == 0:
        return None
    for operand in node.operands:
        if (operand.op.name in FRESH_OPS and roots[operand] is operand
                and operand.dtype == "float64" and operand.shape == node.shape
                and group_last.get(operand) == position[node]):
            return operand
    return None
