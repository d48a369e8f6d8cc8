"""``sg.linalg``: the functions of ``numpy.linalg`` that symgrad supports, under
NumPy's names (``sg.det``, ``sg.inv``, ``sg.solve``, ``sg.norm`` are the same functions)."""
from __future__ import annotations

from .graph import as_node
from .functions import det, inv, logdet, norm as _norm, slogdet, solve

__all__ = ["det", "inv", "logdet", "norm", "slogdet", "solve"]

# The products numpy.linalg has (NumPy 2), with its last-two-axes conventions.
from .ops.products import (linalg_cross as cross, linalg_diagonal as diagonal,  # noqa: E402
                           linalg_outer as outer, linalg_trace as trace, matmul, tensordot,
                           vecdot)
__all__ += ["cross", "diagonal", "matmul", "outer", "tensordot", "trace", "vecdot"]


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's keyword)
    """The 2-norm of a vector or the Frobenius norm of a matrix (NumPy ``linalg.norm``
    with its defaults); other ``ord``/``axis`` values are not supported yet and raise."""
    ndim = as_node(x).ndim
    default = ord is None or (ord == "fro" and ndim == 2) or (ord == 2 and ndim == 1)
    if not default or axis is not None:
        raise NotImplementedError(f"sg.linalg.norm supports ord=None/'fro' (and 2 for vectors) "
                                  f"over all axes; got ord={ord!r}, axis={axis!r}")
    if keepdims:
        raise NotImplementedError("sg.linalg.norm does not support keepdims=True yet")
    return _norm(x)
