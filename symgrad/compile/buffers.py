"""Scratch buffers kept across calls for the intermediates of a compiled function.

A fresh NumPy array of more than a few hundred kB is fresh memory from the
operating system (glibc serves it with ``mmap`` and returns it on ``free``):
every call pays a page fault per 4 kB page touched. For an MLP at batch 1024
that was ~17 % of the call (a 2 MB ``1 - s`` took 1.4 ms instead of 0.25 ms).
JAX and PyTorch avoid it with caching allocators; symgrad keeps, per thread,
one buffer per *slot* and writes intermediates into it (``out=``).

Which nodes get a slot: those whose lowering can write into a given array
(ops whose record has an ``out_form``: a ``matmul`` of two float64
matrices, elementwise ops) and that do not already write into a dying
operand. A buffer may never reach the caller: a node whose buffer is later
overwritten in place, or viewed, by a node that is an output keeps a fresh
array. Slots are shared by nodes of the same (symbolic) shape whose buffers'
lifetimes do not overlap, so the memory kept is about the peak of the
intermediates, not their sum.

Aliasing rule (unchanged for callers): outputs are fresh arrays the caller
owns, arguments are never written; buffers are private to the thread calling,
so concurrent calls from several threads stay safe.
"""
from __future__ import annotations

from ..ops import runtime
from ..ops.linalg import matmul
from ..ops.structure import transpose

SLOTS_NAME = "_slots"
#: Smaller arrays are not kept: glibc serves them from its heap (below its
#: 128 KiB mmap threshold), already without page faults.
MIN_KEPT_BYTES = runtime._KEPT_BYTES  # 128 KiB
#: The run-time helpers that hand out a thread's slots and their buffers.
SCRATCH_HELPERS = (runtime._scratch, runtime._thread_slots)


def _can_write_out(node) -> bool:
    if node.dtype != "float64" or node.ndim == 0 or node.op.out_form is None:
        return False
    if node.op is matmul:
        a, b = node.operands
        return (a.ndim == 2 and b.ndim == 2 and a.dtype == "float64" and b.dtype == "float64"
                and not (a.op is transpose and _is_tall(node)))
    return True


def _is_tall(node) -> bool:
    """Whether matmul's lowering swaps the product (see ``ops.linalg``): no out= then."""
    rows, columns = node.shape
    return isinstance(rows, int) and isinstance(columns, int) and rows > columns


def assign_slots(order, outputs, memory) -> dict:
    """{node: slot index} for the nodes computed into scratch buffers."""
    reuse = memory.reuse
    candidates = {node for node in order if node.shape and node not in reuse
                  and _can_write_out(node)}
    if not candidates:  # e.g. scalar graphs: no walk over the operands at all
        return {}
    root: dict = {}  # node -> the node that allocated the buffer it lives in
    for node in order:
        target = reuse.get(node)
        if target is not None:
            root[node] = root.get(target, target)
        elif node.op.view and node.operands:
            base = node.operands[0]
            root[node] = root.get(base, base)
    candidates -= {root.get(node, node) for node in outputs}  # escapes to the caller
    end: dict = {}  # buffer root -> last position reading that buffer
    for i, node in enumerate(order):
        for operand in node.operands:
            end[root.get(operand, operand)] = i
    slots, free, releases = {}, {}, {}
    count = 0
    for i, node in enumerate(order):
        for done in releases.pop(i - 1, ()):  # read for the last time by statement i - 1
            free[done.shape].append(slots[done])
        if node in candidates:
            pool = free.setdefault(node.shape, [])
            if pool:
                slots[node] = pool.pop()
            else:
                slots[node], count = count, count + 1
            releases.setdefault(end.get(node, i), []).append(node)
    return slots
