"""Memory planning for generated code: when each value dies, and which
elementwise statements may write into a dying operand's buffer.

The compiler emits one statement per node in topological order
(:func:`statement_order`). This module looks at that order once (linear time)
and decides, per statement,

* which variables die right after it (``del`` them, so NumPy frees arrays as
  early as a hand-written function would: peak memory follows the live set,
  not the whole graph), and
* whether the statement can reuse an operand's buffer (``np.add(a, b, out=a)``,
  the op record's ``out_form``; the operand's op must be ``fresh``)
  instead of allocating: allowed only when that operand is a fresh array of
  the result's shape and dtype that nothing reads afterwards, not even through
  a view (transpose, reshape, slice, broadcast), and that is not an output.

Inputs and constants are never written: a compiled function does not mutate
its arguments, and every output is a fresh array the caller owns.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from ..ir.graph import toposort


def statement_order(outputs, extra=()) -> list:
    """The order statements are emitted in: a topological order that completes
    the last output first. Gradients are listed in the order of the parameters
    (first layer first) while a backward pass produces the last layer's first;
    completing each gradient as soon as its operands exist frees them early
    (MLP at batch 1024: peak memory 1.20x -> 1.00x hand NumPy)."""
    return toposort(list(outputs)[::-1] + list(extra))


@dataclass
class Plan:
    """Per-node decisions: ``reuse[node]`` is the operand whose buffer the node
    writes into; ``dies_after[node]`` lists the arrays (nodes with at least one
    axis) whose variables can be deleted once ``node`` has been computed;
    ``uses[node]`` counts the operand slots (and outputs) reading it."""

    reuse: dict = field(default_factory=dict)
    dies_after: dict = field(default_factory=dict)
    uses: dict = field(default_factory=dict)


def plan(order, outputs, inplace: bool = True) -> Plan:
    """Liveness over ``order`` (topological, operands first) with ``outputs`` kept
    alive; buffer reuse only when ``inplace``. Linear: the last read of every
    value (``last_use``) and of every buffer read through a view (``view_last``,
    keyed by the buffer's owner: the latest last read of its views), then
    decisions only where an array dies: a 0-d value needs no ``del`` and lends
    no buffer, and deep scalar graphs have 10^5 of them."""
    result = Plan()
    reads = [node.operands for node in order]
    # Positions grow, so the last entry written for a value is its last read. A 0-d
    # value that is no view neither dies as an array nor lends a buffer: not recorded.
    last_use = {operand: i for i, operands in enumerate(reads) for operand in operands
                if operand.shape or operand.op.view}
    result.uses = read_counts(order, outputs, reads)
    end = len(order)
    for node in outputs:
        last_use[node] = end
    owner: dict = {}  # view node -> the node owning its buffer (views of operands only)
    view_last: dict = {}
    for node in order:
        if node.op.view and node.operands:  # inputs and constants count as views too
            buffer = owner[node] = owner.get(node.operands[0], node.operands[0])
            if last_use.get(node, -1) > view_last.get(buffer, -1):
                view_last[buffer] = last_use[node]
    dying: dict = {}  # position -> the arrays read there for the last time
    for value, i in last_use.items():
        if i != end and value.shape:
            dying.setdefault(i, set()).add(value)
    for i, dead in dying.items():
        node = order[i]
        result.dies_after[node] = [o for o in dict.fromkeys(node.operands) if o in dead]
        if inplace and node.op.elementwise and node.op.out_form is not None:
            target = _reusable_operand(node, i, owner, last_use, view_last)
            if target is not None:
                result.reuse[node] = target
    return result


def read_counts(order, outputs, reads=None) -> Counter:
    """``Plan.uses``: how many operand slots of ``order`` (and outputs) read each node.
    For a graph of 0-d values this is the whole plan: none dies as an array, none
    lends a buffer (Python float code, :mod:`symgrad.compile.scalar_code`)."""
    uses = Counter(itertools.chain.from_iterable(
        [node.operands for node in order] if reads is None else reads))
    for node in outputs:
        uses[node] += 1
    return uses


#: How deeply inlined scalar expressions may nest (Python's parser caps nesting).
INLINE_DEPTH = 4


def inline_depth(node, depths: dict):
    """How deeply ``node``, a value read once, nests when written inline into its
    reader: one more than its deepest inlined operand (``depths``: {inlined node:
    its depth}); None when it stays a statement (an operand is an array, or the
    nesting would pass ``INLINE_DEPTH``). The one inlining rule of the emitter and of
    the loop rolling that must predict it (:mod:`symgrad.compile.rolling`)."""
    depth = 1
    for operand in node.operands:
        if operand.shape:
            return None
        below = depths.get(operand)
        if below is not None and below >= depth:
            depth = below + 1
    return depth if depth <= INLINE_DEPTH else None


def _reusable_operand(node, i, owner, last_use, view_last):
    """An operand ``node`` (at position ``i``, an elementwise op with an ``out_form``) may overwrite
    with its own result, or None: a fresh buffer read for the last time here,
    directly and through every view of it."""
    if node.dtype != "float64" or node.ndim == 0:
        return None
    for operand in node.operands:
        if (operand.op.fresh and operand not in owner
                and operand.dtype == "float64" and operand.shape == node.shape
                and last_use[operand] == i and view_last.get(operand, -1) <= i):
            return operand
    return None
