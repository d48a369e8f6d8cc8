"""NumPy's search, interpolation and index-map functions, as composites of existing
ops: ``searchsorted``, ``digitize``, ``interp``, ``choose``, ``insert``, ``delete``,
``meshgrid``, ``vander`` and ``polyfit``.

Searches are counts of comparisons (int64, not differentiated), so they take nodes as
well as arrays. ``interp`` gathers the two neighbouring knots with those counts: its
gradient reaches ``x`` (the slope) and ``fp`` (the two weights). ``insert`` and
``delete`` with constant positions are gathers by an index map NumPy itself computes
on ``arange``, so they follow NumPy's rules for ``obj`` exactly.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import NUMPY_FUNCTIONS, Node, describe
from ..ir.leaves import as_node
from ..ops import elementwise, indexing, structure
from . import functions as F
from . import shaping as S


def searchsorted(a, v, side="left", sorter=None):
    """NumPy ``searchsorted``: for each ``v``, the number of entries of the sorted
    vector ``a`` below it (``side="right"``: not above it); int64."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    a, v = as_node(a), as_node(v)
    if a.ndim != 1:
        raise ValueError(f"searchsorted: a must be 1-D, got {describe(a)}")
    if sorter is not None:
        a = indexing.take(a, sorter)
    before = elementwise.less if side == "left" else elementwise.less_equal
    return F.sum(F.astype(before(a, v[..., None]), "int64"), axis=-1)


def digitize(x, bins, right=False):
    """NumPy ``digitize``: the index of the bin of each ``x`` (increasing ``bins``)."""
    return searchsorted(bins, x, side="left" if right else "right")


def interp(x, xp, fp, left=None, right=None, period=None):
    """NumPy ``interp``: the piecewise-linear interpolant through ``(xp, fp)`` at ``x``
    (``xp`` increasing), ``left``/``right`` (default ``fp[0]``/``fp[-1]``) outside."""
    if period is not None:
        raise NotImplementedError("interp: period= is not supported")
    x, xp, fp = as_node(x), as_node(xp), as_node(fp)
    if xp.ndim != 1 or fp.shape != xp.shape:
        raise ValueError(f"interp: fp and xp are not of the same length ({describe(xp)}, "
                         f"{describe(fp)})")
    n = S._int_dim(xp, 0, "interp")
    if n == 0:
        raise ValueError("array of sample points is empty")
    if n == 1:
        inside = fp[0] + 0.0 * x
    else:
        low = F.clip(searchsorted(xp, x, side="right") - 1, 0, n - 2)
        x0, x1 = indexing.take(xp, low), indexing.take(xp, low + 1)
        f0, f1 = indexing.take(fp, low), indexing.take(fp, low + 1)
        inside = f0 + (x - x0) * ((f1 - f0) / (x1 - x0))
    below = fp[0] if left is None else left
    above = fp[n - 1] if right is None else right
    return elementwise.where(x < xp[0], below,
                             elementwise.where(x > xp[n - 1], above, inside))


def choose(a, choices, out=None, mode="raise"):
    """NumPy ``choose``: ``choices[a]`` entry by entry (``a`` int), as nested ``where``
    (each choice gets the gradient where it is chosen). An index out of range, where
    NumPy raises (which needs the values), gives 0."""
    if out is not None:
        raise TypeError("choose: out= is not supported (a symgrad node has no output buffer)")
    if mode != "raise":
        raise ValueError(f"choose: only mode='raise' is supported, got {mode!r}")
    a = as_node(a)
    result = as_node(0.0)
    for i in reversed(range(len(choices))):
        result = elementwise.where(elementwise.equal(a, i), choices[i], result)
    return result


def _axis_of(name: str, arr: Node, axis):
    """``(arr, axis)`` with NumPy's ``axis=None``: the flattened node, axis 0."""
    if axis is None:
        return S.ravel(arr), 0
    return arr, S._axes(axis, arr.ndim, name)[0]


def delete(arr, obj, axis=None):
    """NumPy ``delete``: ``arr`` without the entries ``obj`` (int, slice, sequence or
    bool mask, constant) along ``axis``."""
    arr, axis = _axis_of("delete", as_node(arr), axis)
    n = S._int_dim(arr, axis, "delete")
    if isinstance(obj, Node):
        raise TypeError(f"delete: obj must be a constant, got {describe(obj)}")
    kept = np.delete(np.arange(n), obj)
    return indexing.take(arr, kept, axis=axis)


def insert(arr, obj, values, axis=None):
    """NumPy ``insert``: ``values`` put before the positions ``obj`` (constant) along
    ``axis``; the index map is NumPy's own ``insert`` applied to positions."""
    arr, axis = _axis_of("insert", as_node(arr), axis)
    n = S._int_dim(arr, axis, "insert")
    if isinstance(obj, Node):
        raise TypeError(f"insert: obj must be a constant, got {describe(obj)}")
    values = as_node(values)
    if np.ndim(obj) == 0 and not isinstance(obj, slice):
        values = S.moveaxis(_ndmin(values, arr.ndim), 0, axis)
        count = values.shape[axis]
    else:
        count = len(np.insert(np.arange(n), obj, 0)) - n
    shape = arr.shape[:axis] + (count,) + arr.shape[axis + 1:]
    values = F.broadcast_to(values, shape) if values.shape != shape else values
    order = np.insert(np.arange(n), obj, n + np.arange(count))
    joined = F.concatenate([arr, F.astype(values, arr.dtype)], axis=axis)
    return indexing.take(joined, order, axis=axis)


def _ndmin(node: Node, ndim: int) -> Node:
    """``node`` with leading unit axes up to ``ndim`` (NumPy's ``array(v, ndmin=ndim)``)."""
    missing = ndim - node.ndim
    return node if missing <= 0 else structure.reshape(node, shape=(1,) * missing + node.shape)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """NumPy ``meshgrid``: coordinate arrays from coordinate vectors (``indexing`` "xy"
    swaps the first two axes, as NumPy)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    vectors = [S.ravel(as_node(x)) for x in xi]
    ndim = len(vectors)
    grids = []
    for i, v in enumerate(vectors):
        axis = (1 - i if i < 2 else i) if indexing == "xy" and ndim > 1 else i
        shape = [1] * ndim
        shape[axis] = v.shape[0]
        grids.append(structure.reshape(v, shape=tuple(shape)))
    if sparse:
        return tuple(grids)
    full = [v.shape[0] for v in vectors]
    if indexing == "xy" and ndim > 1:
        full[0], full[1] = full[1], full[0]
    return tuple(F.broadcast_to(g, tuple(full)) for g in grids)


def vander(x, N=None, increasing=False):
    """NumPy ``vander``: the columns ``x^(N-1), ..., x, 1`` (``increasing``: reversed)."""
    x = as_node(x)
    if x.ndim != 1:
        raise ValueError(f"x must be a one-dimensional array or sequence ({describe(x)})")
    N = S._int_dim(x, 0, "vander") if N is None else N
    powers = [x ** float(k) if k else 1.0 + 0.0 * x for k in range(N)]
    columns = powers if increasing else powers[::-1]
    return F.stack(columns, axis=1) if columns else structure.zeros_op(shape=(x.shape[0], 0))


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """NumPy ``polyfit``: least-squares polynomial coefficients (highest power first),
    with NumPy's column scaling; differentiable in ``x``, ``y`` and ``w``."""
    if full or cov:
        raise NotImplementedError("polyfit: full=True and cov=True are not supported")
    deg = int(deg)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    x, y = as_node(x), as_node(y)
    lhs, rhs = vander(x, deg + 1), y
    if w is not None:
        w = as_node(w)
        lhs = lhs * w[:, None]
        rhs = rhs * (w if y.ndim == 1 else w[:, None])
    if rcond is None:
        rcond = S._int_dim(x, 0, "polyfit") * np.finfo(float).eps
    scale = elementwise.sqrt(F.sum(lhs * lhs, axis=0))
    from .. import linalg  # the numpy.linalg namespace sits beside this layer
    solution = linalg.lstsq(lhs / scale, rhs, rcond=rcond)[0]
    return solution / (scale if y.ndim == 1 else scale[:, None])


__all__ = ["searchsorted", "digitize", "interp", "choose", "delete", "insert", "meshgrid",
           "vander", "polyfit"]
NUMPY_FUNCTIONS.update({name: globals()[name] for name in __all__})
