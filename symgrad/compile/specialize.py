"""Compile-time specialization: cheaper forms of the same values, after differentiation.

The graph a user writes, and its gradient, say *what* to compute; these passes
choose *how*, for the compiler only (printing, ``simplify`` and ``grad`` never
see them). This module is the phase: it runs, in order, each pass valid for the
backend compiled for:

1. :mod:`.scatter_sums`: a chain of adds of scatters as one ``scatter_sum``
   (NumPy only);
2. :mod:`.node_lowerings`: single nodes in cheaper forms (a shared Cholesky
   factor, labels indexing instead of a one_hot matrix, softmax from
   log-softmax, a product computed anyway taken back out of a factored sum, a
   derivative's factors reordered to free a buffer);
3. :mod:`.scalar_push`: a 0-d factor moved onto the smallest array it scales
   (portable).
"""
from __future__ import annotations

from ..ops import elementwise, structure
from ..rewrite.engine import Phase, register
from .node_lowerings import apply_rules
from .portability import NUMPY_ONLY, PORTABLE, valid
from .scalar_push import push_scalars
from .scatter_sums import accumulate_scatters

SCATTER_SUM_PORTABLE = NUMPY_ONLY
SCALAR_PUSH_PORTABLE = PORTABLE


def lower(outputs: list, order: list, backend: str = "numpy") -> tuple:
    """(``outputs`` with every pass valid for ``backend`` applied, their toposort);
    ``order`` (the toposort of ``outputs``) is returned unchanged when nothing applies."""
    ops = {node.op for node in order}
    if structure.scatter in ops and valid(SCATTER_SUM_PORTABLE, backend):
        outputs, order = accumulate_scatters(outputs, order)
    outputs, order = apply_rules(outputs, order, ops, backend)
    if elementwise.multiply in ops and valid(SCALAR_PUSH_PORTABLE, backend):
        outputs, order = push_scalars(outputs, order)
    return outputs, order


# Runs after loop batching, last: its softmax rule reverses stability's
# exp(log_softmax(z)) -> softmax(z), and its product reuse the algebraic phase's
# x A + B x -> (Aᵀ + B) x, so it must come after both phases (rewrite.engine).
# No rule changes Python float code: each needs an op without a ``scalar`` lowering
# (logdet, solve, inv, sum, one_hot, softmax), or an array (``_reassociate``).
PHASE = register(Phase("specialization", run=lower, undoes=("stability", "algebraic"), per_backend=True,
                       scalar_graphs=False))
