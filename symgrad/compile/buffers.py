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

Every slot's buffer, small ones too, is made once per thread and kept while the
bound sizes stay the same: the function's first statement fetches the list
(``_slots = _thread_scratch((b,), _slot_shapes)``, ``_slot_shapes`` a generated
function of the sizes) and each statement writes into ``_slots[k]``. A list
index costs ~20 ns, where a per-statement call checking the shape and making a
fresh small array cost ~0.3-0.5 µs (two per layer of an MLP step: ~4 % of a
64-wide layer at batch 32).

Outputs of 128 KiB or more are *recycled* (``_recycled``): the last two
buffers returned for each output are kept, per thread, and one is written into
again once nothing but the pool refers to it (``sys.getrefcount``: the caller
has dropped the array and every view of it; a view or a buffer export holds a
reference to its base). The weight gradients of an MLP at batch 1 are the
only large arrays of a call, and a training loop that frees them after its
update (``p -= lr * g``) made glibc give their pages back to the kernel, to be
faulted in again on the next call (~490 minor faults per call at every batch
size), as hand-written NumPy does.

Aliasing rule (unchanged for callers): outputs are fresh arrays the caller
owns (a recycled buffer is one no live object refers to), arguments are never
written; buffers are private to the thread calling, so concurrent calls from
several threads stay safe.
"""
from __future__ import annotations

import importlib.util

from ..ops import runtime
from ..ops.linalg import matmul
from ..ops.structure import transpose

SLOTS_NAME = "_slots"
#: The generated function giving the slots' shapes from the sizes they depend on.
SHAPES_NAME = "_slot_shapes"
POOL_NAME = "_pool"
#: Smaller outputs are not recycled: glibc serves them from its heap (below its
#: 128 KiB mmap threshold), already without page faults.
MIN_KEPT_BYTES = runtime._KEPT_BYTES  # 128 KiB
#: The run-time helpers that hand out a thread's slots and their buffers.
SCRATCH_HELPERS = (runtime._thread_scratch,)


RECYCLE_HELPERS = (runtime._recycled, runtime._thread_pool)
#: The helper forming ``Xᵀ @ B`` through SciPy's gemm (see :func:`tn_product`).
TN_HELPERS = (runtime._dot_tn,)


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


def _buffer_roots(order, reuse) -> dict:
    """{node: the node that allocated the buffer it lives in}, for nodes written
    in place into an operand's buffer or viewing one (others are their own root)."""
    root: dict = {}
    for node in order:
        target = reuse.get(node)
        if target is not None:
            root[node] = root.get(target, target)
        elif node.op.view and node.operands:
            base = node.operands[0]
            root[node] = root.get(base, base)
    return root


def assign_slots(order, outputs, memory) -> dict:
    """{node: slot index} for the nodes computed into scratch buffers."""
    reuse = memory.reuse
    candidates = {node for node in order if node.shape and node not in reuse
                  and _can_write_out(node)}
    if not candidates:  # e.g. scalar graphs: no walk over the operands at all
        return {}
    root = _buffer_roots(order, reuse)
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


def assign_recycled(order, outputs, memory) -> dict:
    """{node: pool index} for the nodes allocating the buffer an output is returned
    in (not a view: those are copied) that can write into a given array, unless
    their shape is known to be under ``MIN_KEPT_BYTES`` (never kept)."""
    if not any(node.shape for node in outputs):
        return {}
    root = _buffer_roots(order, memory.reuse)
    pool: dict = {}
    for node in dict.fromkeys(outputs):
        base = root.get(node, node)
        if (not node.op.view and base.shape and base not in pool and _large(base)
                and (_can_write_out(base) or swapped_product(base))):
            pool[base] = len(pool)
    return pool


def _large(node) -> bool:
    """False when the static shape makes the array smaller than ``MIN_KEPT_BYTES``."""
    size = 8
    for d in node.shape:
        if not isinstance(d, int):
            return True
        size *= d
    return size >= MIN_KEPT_BYTES


def swapped_product(node) -> bool:
    """A float64 ``Xᵀ @ B`` that matmul's lowering forms as ``(Bᵀ @ X)ᵀ``."""
    return _transposed_first(node) and _is_tall(node)


def _transposed_first(node) -> bool:
    return (node.op is matmul and node.dtype == "float64" and node.operands[0].op is transpose
            and all(o.ndim == 2 and o.dtype == "float64" for o in node.operands))


#: The largest static contracted size of a :func:`tn_product` (symbolic sizes always are).
TN_MAX_ROWS = 8


def tn_product(node) -> bool:
    """A float64 ``Xᵀ @ B`` written into a kept buffer by ``_dot_tn`` (SciPy's gemm):
    the weight gradient ``xᵀ δ`` of a layer, whose contracted size is the batch (a
    named size, or a static one up to ``TN_MAX_ROWS``), with SciPy installed. At
    batch 1 NumPy's dot of that rank-one product costs 4-9x SciPy's gemm; at
    batch 64 and 1024 both run at the machine's GEMM rate."""
    if not _transposed_first(node) or not _have_scipy():
        return False
    rows = node.operands[0].shape[1]  # X's rows: the contracted size
    return not isinstance(rows, int) or 0 < rows <= TN_MAX_ROWS


def _have_scipy() -> bool:
    global _HAVE_SCIPY
    if _HAVE_SCIPY is None:
        _HAVE_SCIPY = importlib.util.find_spec("scipy") is not None
    return _HAVE_SCIPY


_HAVE_SCIPY = None


#: ``Xᵀ @ B`` by SciPy's gemm (``{0}`` is the transpose ``Xᵀ``, so ``{0}.T`` is X),
#: and its swapped form ``(Bᵀ @ X)ᵀ`` (as ``SWAPPED_OUT_FORM``).
TN_OUT_FORM = "_dot_tn({0}.T, {1}, out={out})"
SWAPPED_TN_FORM = "_dot_tn({1}, {0}.T, out={out}).T"

#: ``(Bᵀ @ X)ᵀ`` into a C-ordered buffer of the transposed shape (``np.dot``
#: writes only C-contiguous arrays); the result is the same F-ordered array.
SWAPPED_OUT_FORM = "np.dot({1}.T, {0}.T, out={out}).T"
