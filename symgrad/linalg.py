"""``sg.linalg``: the functions of ``numpy.linalg`` that symgrad supports, under
NumPy's names (``sg.det``, ``sg.inv``, ``sg.solve``, ``sg.norm`` are the same functions)."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .ir.graph import NUMPY_FUNCTIONS, describe, plain_value
from .ir.leaves import as_node
from .api import functions as _F
from .api.functions import logdet, norm as _norm
from .api import shaping as _S
from .ops import decompositions as D, elementwise, linalg as linalg_ops, reductions, structure
from .ir.shapes import ShapeError, normalize_axis

__all__ = ["det", "inv", "logdet", "norm", "slogdet", "solve", "cholesky", "eigh", "eigvalsh",
           "eig", "eigvals",
           "solve_triangular", "svd", "qr", "pinv", "matrix_rank", "lstsq", "matrix_power",
           "vector_norm", "matrix_norm", "svdvals", "cond", "multi_dot", "matrix_transpose",
           "tensorinv", "tensorsolve", "LinAlgError"]

LinAlgError = np.linalg.LinAlgError
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])


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


def det(a):
    """NumPy ``linalg.det``, batched; its gradient is the cofactor matrix (the adjugate
    transpose), finite at singular matrices. Non-square input raises LinAlgError."""
    return _F.det(_matrices("det", a))


def inv(a):
    """NumPy ``linalg.inv``, batched; gradient -A⁻ᵀ Ḡ A⁻ᵀ."""
    return _F.inv(_matrices("inv", a))


def solve(a, b):
    """NumPy ``linalg.solve`` (NumPy 2's rule: ``b`` is a vector only when 1-D), batched;
    an LU solve, never inv(a) @ b."""
    return _F.solve(_matrices("solve", a), b)


def slogdet(a):
    """NumPy ``linalg.slogdet``: (sign, log|det a|), batched; only log|det| is
    differentiated (gradient A⁻ᵀ)."""
    return _F.slogdet(_matrices("slogdet", a))


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


def eig(a):
    """NumPy ``linalg.eig`` of real matrices whose eigenvalues are real (as NumPy
    returns them: unsorted, unit eigenvectors as columns); a complex spectrum raises
    LinAlgError when the function runs (symgrad is real float64), naming the matrix and
    an eigenvalue and suggesting eigh, or trace/det forms of polynomial spectral functions. Gradients as
    autograd's and JAX's: Ā = U⁻ᵀ diag(w̄) Uᵀ for the eigenvalues; the eigenvectors' use
    1/(w_j - w_i), inf/NaN at repeated eigenvalues."""
    a = _matrices("eig", a)
    return EigResult(D.eig_values(a), D.eig_vectors(a))


def eigvals(a):
    """NumPy ``linalg.eigvals``: the eigenvalues of ``eig`` (a real spectrum only)."""
    return D.eig_values(_matrices("eigvals", a))


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




def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """NumPy ``linalg.svd``: (U, S, Vh) with a = U diag(S) Vh, or S alone when
    ``compute_uv=False`` (gradient U Vᵀ). The factors' gradients assume distinct
    singular values (1/(s_j² − s_i²), inf/NaN at repeated ones, as JAX) and
    ``full_matrices=False`` for a non-square matrix. ``hermitian`` is accepted and
    computes the general SVD (the same S; U, Vh may differ from NumPy's by signs)."""
    a = _matrices("svd", a, square=False)
    if not compute_uv:
        return D.singular_values(a)
    return SVDResult(D.svd_u(a, full_matrices=full_matrices), D.singular_values(a),
                     D.svd_vh(a, full_matrices=full_matrices))


def qr(a, mode="reduced"):
    """NumPy ``linalg.qr``: (Q, R) for ``mode='reduced'`` or ``'complete'``, R alone for
    ``'r'``. Differentiable where R's leading square block is invertible, for tall
    and wide matrices; ``'complete'`` when square or wide (m <= n: the same factors
    as ``'reduced'``); for tall ones R (reduced R over zero rows), not Q (its extra
    columns are not unique; PyTorch and JAX raise too: NotImplementedError naming qr_q).
    ``'raw'``: NumPy's ``(h, tau)`` (LAPACK ``geqrf``'s reflectors, ``h`` of shape
    ``(..., n, m)``), for int sizes, built from elementary ops by the Householder steps
    LAPACK takes (:func:`_householder_raw`), so it is differentiable (twice) where every
    step's column below the diagonal is nonzero; the values agree with NumPy's to rounding."""
    a = _matrices("qr", a, square=False)
    if mode == "r":
        return D.qr_r(a, mode="reduced")
    if mode == "raw":
        return _householder_raw(a)
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: Unrecognized mode '{mode}'")
    m, n = a.shape[-2:]
    if mode == "complete" and (m == n or (isinstance(m, int) and isinstance(n, int) and m < n)):
        mode = "reduced"  # the same Q (m, m) and R (m, n) for square and wide matrices
    return QRResult(D.qr_q(a, mode=mode), D.qr_r(a, mode=mode))


def _householder_raw(a):
    """NumPy's ``qr(a, mode='raw')`` as LAPACK's ``dgeqr2`` computes it (``dgeqrf`` blocks
    the same reflectors): for each column j < min(m, n), ``dlarfg`` of ``x = W[j:, j]``
    (``beta = -sign(x_0) |x|``, ``tau = (beta - x_0) / beta``, ``v = x[1:] / (x_0 - beta)``;
    ``tau = 0`` and ``beta = x_0`` when ``x[1:]`` is zero, always so for a 1-entry ``x``),
    then ``W[j:, j+1:] -= tau v (vᵀ W[j:, j+1:])``. ``h``'s row j is ``W``'s final column
    j with ``beta`` on the diagonal and ``v`` below it (NumPy returns LAPACK's Fortran
    array, transposed)."""
    m, n = a.shape[-2:]
    if not (isinstance(m, int) and isinstance(n, int)):
        raise NotImplementedError(f"qr({describe(a)}, mode='raw') needs int sizes (it is "
                                  "unrolled over the columns)")
    lead, columns, taus, work = a.shape[:-2], [], [], a
    for j in range(min(m, n)):
        alpha, tail = work[..., j, j], work[..., j + 1:, j]
        if m - j == 1:  # dlarfg of one entry: H = I
            columns.append(work[..., :, j])
            taus.append(structure.zeros_op(shape=lead))
            continue
        tail_norm = _F.sqrt(_F.sum(tail * tail, axis=-1))
        zero = _F.equal(tail_norm, 0.0)
        beta = _F.where(zero, alpha, -_F.where(alpha >= 0.0, 1.0, -1.0)
                        * _F.sqrt(alpha * alpha + tail_norm * tail_norm))
        tau = _F.where(zero, 0.0, (beta - alpha) / beta)
        v_tail = tail / _S.expand_dims(_F.where(zero, 1.0, alpha - beta), -1)
        columns.append(_F.concatenate([work[..., :j, j], _S.expand_dims(beta, -1), v_tail], -1))
        taus.append(tau)
        if j + 1 < n:
            v = _F.concatenate([_F.broadcast_to(1.0, lead + (1,)), v_tail], -1)
            rest = work[..., j:, j + 1:]
            w = _S.expand_dims(tau, (-1, -2)) * (_S.expand_dims(v, -2) @ rest)
            rest = rest - _S.expand_dims(v, -1) * w
            work = _F.concatenate([work[..., :j, :],
                                   _F.concatenate([work[..., j:, :j + 1], rest], -1)], -2)
    columns += [work[..., :, j] for j in range(min(m, n), n)]
    return _F.stack(columns, -2), _F.stack(taus, -1)


_NOT_GIVEN = object()  # NumPy 2's "rtol not given" of pinv (None has a meaning there)


def _default_rtol(name: str, a) -> float:
    """NumPy 2's ``rtol=None`` cutoff: max(M, N) * eps (needs int sizes)."""
    m, n = a.shape[-2:]
    if not (isinstance(m, int) and isinstance(n, int)):
        raise ShapeError(f"{name}({describe(a)}): rtol=None needs int matrix sizes")
    return max(m, n) * float(np.finfo(np.float64).eps)


def pinv(a, rcond=None, hermitian=False, *, rtol=_NOT_GIVEN):
    """NumPy ``linalg.pinv`` (its default cutoff 1e-15 when ``rcond`` and ``rtol`` are not
    given; NumPy 2's ``rtol``: relative cutoff, None for max(M, N) * eps). The gradient
    (Golub & Pereyra) holds where the rank does not change, e.g. at full rank."""
    a = _matrices("pinv", a, square=False)
    if rcond is not None and rtol is not _NOT_GIVEN:
        raise ValueError("pinv: `rtol` and `rcond` can't be both set.")
    if rcond is None and rtol is not _NOT_GIVEN:
        rcond = _default_rtol("pinv", a) if rtol is None else plain_value(rtol)
    return D.pinv(a, rcond=rcond, hermitian=hermitian)


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):  # noqa: N803  (NumPy's name)
    """NumPy ``linalg.matrix_rank``: an int64 node, not differentiable. ``tol`` is an
    absolute cutoff on the singular values; NumPy 2's ``rtol`` (used when ``tol`` is None)
    a relative one, times the largest singular value. Of a vector or a number (NumPy):
    1 unless every entry is 0."""
    a = as_node(A)
    if a.ndim < 2:
        return elementwise.astype(_F.count_nonzero(a) > 0, dtype="int64")
    a = _matrices("matrix_rank", a, square=False)
    if tol is not None or rtol is None:
        return D.matrix_rank(a, tol=tol, hermitian=hermitian)
    s = D.singular_values(a)
    cutoff = reductions.max_(s, axis=-1, keepdims=True) * plain_value(rtol)
    return _F.count_nonzero(elementwise.greater(s, cutoff), axis=-1)


def tensorinv(a, ind=2):
    """NumPy ``linalg.tensorinv``: the inverse of ``a`` read as a matrix whose rows are
    its first ``ind`` axes, reshaped to ``a.shape[ind:] + a.shape[:ind]``; a composite of
    reshape and ``inv`` (whose gradient it has)."""
    a, ind = as_node(a), plain_value(ind)
    if isinstance(ind, bool) or not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"tensorinv({describe(a)}, ind={ind!r}): Invalid ind argument.")
    rows, cols = _int_size("tensorinv", a, a.shape[:ind]), _int_size("tensorinv", a, a.shape[ind:])
    square = _F.reshape(a, (rows, cols))
    return _F.reshape(inv(square), tuple(a.shape[ind:]) + tuple(a.shape[:ind]))


def _int_size(name: str, a, dims) -> int:
    """The number of entries of ``dims`` (int sizes only: it becomes a matrix size)."""
    if not all(isinstance(d, int) for d in dims):
        raise ShapeError(f"{name}({describe(a)}): needs int sizes, got {tuple(dims)}")
    return int(np.prod(dims, dtype=np.int64))


def tensorsolve(a, b, axes=None):
    """NumPy ``linalg.tensorsolve``: x with ``tensordot(a, x, x.ndim) == b``; the axes
    ``axes`` of ``a`` are first moved to the end. A composite of transpose, reshape and
    ``solve`` (an LU solve, whose gradient it has)."""
    a, b = as_node(a), as_node(b)
    if axes is not None:
        order = list(range(a.ndim))
        for k in axes:
            order.remove(normalize_axis(k, a.ndim))
            order.append(normalize_axis(k, a.ndim))
        a = _F.transpose(a, order)
    unknown = tuple(a.shape[b.ndim:])
    n = _int_size("tensorsolve", a, unknown)
    if _int_size("tensorsolve", a, a.shape[:b.ndim]) != n:
        raise LinAlgShapeError(f"tensorsolve({describe(a)}, {describe(b)}): Input arrays must "
                               "satisfy the requirement prod(a.shape[b.ndim:]) == "
                               "prod(a.shape[:b.ndim])")
    x = solve(_F.reshape(a, (n, n)), _F.reshape(b, (n,)))
    return _F.reshape(x, unknown)


def lstsq(a, b, rcond=None):
    """NumPy ``linalg.lstsq``: (x, residuals, rank, s). ``x = pinv(a) b`` with NumPy's cutoff
    (``rcond=None``: eps * max(M, N)) is differentiable in ``a`` and ``b``, as are the
    residuals (squared norms of b - a x, for M > N, shape (K,) or (1,); else empty) and
    the singular values ``s``. NumPy also returns empty residuals for a rank-deficient
    ``a``, which is only known at run time: here they are always the sums of squares."""
    a, b = _matrices("lstsq", a, square=False), as_node(b)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise LinAlgShapeError(f"lstsq({describe(a)}, {describe(b)}): a must be a matrix and "
                               "b a vector or a matrix")
    m, n = a.shape
    if b.shape[0] != m:
        raise LinAlgShapeError(f"lstsq({describe(a)}, {describe(b)}): Incompatible dimensions")
    if not (isinstance(m, int) and isinstance(n, int)) and m != n:
        raise ShapeError(f"lstsq({describe(a)}, ...): the residuals' shape needs int sizes")
    cutoff = np.finfo(np.float64).eps * max(m, n) if rcond is None else rcond
    x = D.pinv(a, rcond=cutoff) @ b
    if m != n and m > n:
        residuals = reductions.sum_((b - a @ x) ** 2, axis=0)
        residuals = structure.reshape(residuals, shape=(1,)) if b.ndim == 1 else residuals
    else:
        residuals = structure.zeros_op(shape=(0,))
    return x, residuals, D.matrix_rank(a, tol=None), D.singular_values(a)


def matrix_power(a, n):
    """NumPy ``linalg.matrix_power``: ``a`` multiplied by itself ``n`` times by repeated
    squaring (the identity for ``n = 0``, powers of ``inv(a)`` for ``n < 0``); batched."""
    a = _matrices("matrix_power", a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError("matrix_power: exponent must be an integer")
    n = plain_value(n)
    if n == 0:
        return structure.broadcast_to_op(D.eye(a.shape[-1]), shape=a.shape)
    if n < 0:
        a, n = inv(a), -n
    result, square = None, a
    while True:
        if n & 1:
            result = square if result is None else D.mm(result, square)
        n >>= 1
        if not n:
            return result
        square = D.mm(square, square)

# The products numpy.linalg has (NumPy 2), with its last-two-axes conventions.
from .ops.products import (linalg_cross as cross, linalg_diagonal as diagonal,  # noqa: E402
                           linalg_outer as outer, linalg_trace as trace, matmul, tensordot,
                           vecdot)
__all__ += ["cross", "diagonal", "matmul", "outer", "tensordot", "trace", "vecdot"]


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's keyword)
    """NumPy ``linalg.norm``: vector norms (``ord`` None/2, 1, inf, -inf, 0, any p)
    along an int axis or of a 1-D ``x``, matrix norms (None/'fro', 'nuc', 1, -1, 2,
    -2, inf, -inf) over an axis pair or of a 2-D ``x``; with ``axis=None`` and
    ``ord=None`` the 2-norm of all entries. The 2-norm's gradient is 0 at 0."""
    x, ord, axis = as_node(x), plain_value(ord), plain_value(axis)  # noqa: A001
    if axis is None:
        if ord is None or (ord in ("fro", "f") and x.ndim == 2) or (ord == 2 and x.ndim == 1):
            return D.vector_norm(x, axis=None, keepdims=True) if keepdims else _norm(x)
        if x.ndim not in (1, 2):
            raise ValueError(f"norm({describe(x)}): Improper number of dimensions to norm.")
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else tuple(axis)
    try:
        axes = tuple(normalize_axis(a, x.ndim) for a in axes)
    except ShapeError as err:
        raise type(err)(f"norm({describe(x)}): {err}") from None
    if len(axes) == 1:
        result = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError(f"norm({describe(x)}): Duplicate axes given.")
        result = _matrix_norm(x, ord, *axes)
    else:
        raise ValueError(f"norm({describe(x)}): Improper number of dimensions to norm.")
    if keepdims:
        result = structure.reshape(result, shape=tuple(
            1 if i in axes else d for i, d in enumerate(x.shape)))
    return result


def _vector_norm(x, ord, axis):  # noqa: A002
    if isinstance(ord, str):
        raise ValueError(f"norm({describe(x)}): Invalid norm order '{ord}' for vectors")
    absx = elementwise.abs_(x)
    if ord is None or ord == 2:
        return D.vector_norm(x, axis=axis)
    if ord == np.inf:
        return reductions.max_(absx, axis=axis)
    if ord == -np.inf:
        return reductions.min_(absx, axis=axis)
    if ord == 0:  # the count of non-zero entries (derivative 0)
        return reductions.sum_(elementwise.abs_(elementwise.sign(x)), axis=axis)
    if ord == 1:
        return reductions.sum_(absx, axis=axis)
    return reductions.sum_(absx ** float(ord), axis=axis) ** (1.0 / ord)


def _matrix_norm(x, ord, row_axis, col_axis):  # noqa: A002
    absx = elementwise.abs_(x)
    if ord in (2, -2, "nuc"):
        others = tuple(i for i in range(x.ndim) if i not in (row_axis, col_axis))
        s = D.singular_values(structure.transpose(x, axes=others + (row_axis, col_axis)))
        if ord == "nuc":
            return reductions.sum_(s, axis=-1)
        return (reductions.max_ if ord == 2 else reductions.min_)(s, axis=-1)
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer = (row_axis, col_axis) if ord in (1, -1) else (col_axis, row_axis)
        sums = reductions.sum_(absx, axis=inner)
        return (reductions.max_ if ord > 0 else reductions.min_)(sums, axis=outer - (outer > inner))
    if ord is None or ord in ("fro", "f"):
        return D.vector_norm(x, axis=(row_axis, col_axis))
    raise ValueError(f"norm({describe(x)}): Invalid norm order {ord!r} for matrices.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    """NumPy 2's ``linalg.vector_norm``: the ``ord``-norm of the entries along ``axis``
    (None: all entries, a tuple: those axes taken together as one vector)."""
    x = as_node(x)
    axes = tuple(range(x.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else tuple(axis))
    axes = tuple(normalize_axis(a, x.ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"vector_norm({describe(x)}): Duplicate axes given.")
    others = tuple(i for i in range(x.ndim) if i not in axes)
    flat = structure.transpose(x, axes=others + axes)
    if len(axes) != 1:
        flat = structure.reshape(flat, shape=tuple(x.shape[i] for i in others) + (-1,))
    result = _vector_norm(flat, ord, len(others))
    if keepdims:
        result = structure.reshape(result, shape=tuple(
            1 if i in axes else d for i, d in enumerate(x.shape)))
    return result


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    """NumPy 2's ``linalg.matrix_norm``: ``norm`` over the last two axes."""
    return norm(_matrices("matrix_norm", x, square=False), ord=ord, axis=(-2, -1),
                keepdims=keepdims)


def svdvals(x, /):
    """NumPy 2's ``linalg.svdvals``: the singular values, descending (gradient U Vᵀ)."""
    return D.singular_values(_matrices("svdvals", x, square=False))


def matrix_transpose(x, /):
    """NumPy 2's ``linalg.matrix_transpose``: the last two axes swapped."""
    return D.mT(_matrices("matrix_transpose", x, square=False))


def cond(x, p=None):
    """NumPy ``linalg.cond``: s_max / s_min for ``p`` None or 2 (s_min / s_max for -2),
    else ``norm(x, p) * norm(inv(x), p)`` over the last two axes."""
    x = _matrices("cond", x, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = D.singular_values(x)
        first = structure.getitem(s, index=(Ellipsis, 0))
        last = structure.getitem(s, index=(Ellipsis, -1)) if isinstance(s.shape[-1], int) \
            else reductions.min_(s, axis=-1)
        return first / last if p != -2 else last / first
    return norm(x, ord=p, axis=(-2, -1)) * norm(inv(x), ord=p, axis=(-2, -1))


def multi_dot(arrays, *, out=None):
    """NumPy ``linalg.multi_dot``: the product of the matrices in order (the first and
    last may be vectors), multiplied left to right."""
    if out is not None:
        raise TypeError("multi_dot: out= has no meaning for symbolic nodes")
    nodes = [as_node(a) for a in arrays]
    if len(nodes) < 2:
        raise ValueError("Expecting at least two arrays.")
    result = nodes[0]
    for node in nodes[1:]:
        result = linalg_ops.matmul(result, node)
    return result


# np.linalg.<name>(node) builds these (NumPy's dispatch reads the functions by name).
NUMPY_FUNCTIONS.update({"det": det, "inv": inv, "solve": solve, "slogdet": slogdet,
                        "cholesky": cholesky, "eigh": eigh, "eig": eig, "eigvals": eigvals, "eigvalsh": eigvalsh, "svd": svd,
                        "norm": norm, "qr": qr, "pinv": pinv, "matrix_rank": matrix_rank,
                        "lstsq": lstsq, "matrix_power": matrix_power, "vector_norm": vector_norm,
                        "matrix_norm": matrix_norm, "svdvals": svdvals, "cond": cond,
                        "multi_dot": multi_dot, "matrix_transpose": matrix_transpose,
                        "tensorinv": tensorinv, "tensorsolve": tensorsolve})
