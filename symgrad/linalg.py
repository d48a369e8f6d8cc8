"""``sg.linalg``: the functions of ``numpy.linalg`` that symgrad supports, under
NumPy's names (``sg.det``, ``sg.inv``, ``sg.solve``, ``sg.norm`` are the same functions)."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .graph import as_node, describe
from .functions import det, inv, logdet, norm as _norm, slogdet, solve
from .ops import decompositions as D
from .shapes import ShapeError

__all__ = ["det", "inv", "logdet", "norm", "slogdet", "solve", "cholesky", "eigh", "eigvalsh",
           "solve_triangular", "LinAlgError"]

LinAlgError = np.linalg.LinAlgError
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])


class LinAlgShapeError(ShapeError, LinAlgError):
    """A shape NumPy's linalg rejects with ``LinAlgError``: catchable as either."""


def _matrices(name: str, a, square: bool = True):
    """``a`` as a node, raising as NumPy does (LinAlgError) unless it is a stack of
    (square) matrices; the message names the function, the operand and its shape."""
    a = as_node(a)
    if a.ndim < 2:
        raise LinAlgShapeError(f"{name}({describe(a)}): {a.ndim}-dimensional array given. "
                               "Array must be at least two-dimensional")
    if square and a.shape[-1] != a.shape[-2]:
        raise LinAlgShapeError(f"{name}({describe(a)}): Last 2 dimensions of the array must "
                               "be square")
    return a


def cholesky(a, /, *, upper=False):
    """NumPy ``linalg.cholesky``: the lower factor L of a = L Lᴴ (``upper=True``: Lᵀ);
    only the lower (upper) triangle of ``a`` is read, and differentiated."""
    a = _matrices("cholesky", a)
    return D.mT(D.cholesky(D.mT(a))) if upper else D.cholesky(a)


def eigh(a, UPLO="L"):  # noqa: N803  (NumPy's keyword)
    """NumPy ``linalg.eigh``: (eigenvalues ascending, eigenvectors as columns) of the
    symmetric matrix read from triangle ``UPLO``. The eigenvectors' gradient uses
    1/(w_j - w_i): at repeated eigenvalues it is inf/NaN (JAX's convention), even for
    functions invariant to the basis of the degenerate subspace; eigenvalues stay finite."""
    a = _matrices("eigh", a)
    return EighResult(D.eigvalsh(a, UPLO=UPLO), D.eigh_vectors(a, UPLO=UPLO))


def eigvalsh(a, UPLO="L"):  # noqa: N803
    """NumPy ``linalg.eigvalsh``: eigenvalues ascending; gradient V diag(ḡ) Vᵀ (finite
    also at repeated eigenvalues)."""
    return D.eigvalsh(_matrices("eigvalsh", a), UPLO=UPLO)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False):
    """SciPy ``linalg.solve_triangular`` (its signature): x with op(T) x = b for the
    lower or upper triangle T of ``a``; batched over leading axes (``b`` a vector, or
    ``(..., n, k)``). SciPy's solver when installed, else an LU solve of the triangle."""
    return D.solve_triangular(_matrices("solve_triangular", a), b, lower=lower, trans=trans,
                              unit_diagonal=unit_diagonal)


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
