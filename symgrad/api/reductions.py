"""NumPy's reductions and scans beyond sum/mean/max/min, under NumPy's names and
signatures: prod, var, std, average, count_nonzero, argmax, argmin, cumsum,
cumprod, diff, and SciPy's ``logsumexp`` with weights ``b``.

The primitives (prod, cumsum, cumprod, argmax, argmin) are op records in
:mod:`symgrad.ops.scans`; var, std, average, diff and count_nonzero are composites
of existing ops, so their first and second derivatives come from those ops' rules.
``dtype`` is accepted only where it changes nothing (None or float64) and ``out``
only as None: a graph node has no output buffer.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir.graph import command_line, describe, plain_value
from ..ir.leaves import as_node
from ..ops import broadcast_to
from ..ops import elementwise, scans, structure
from ..ops.reductions import count, logsumexp as _logsumexp_op, max_ as reductions_max, sum_
from ..ops.reductions import mean as _mean
from ..ir.shapes import ShapeError, format_shape, normalize_axes, normalize_axis


def _no_buffers(name: str, dtype=None, out=None) -> None:
    """``out=`` has no graph meaning; ``dtype`` only as the float64 the result has."""
    if out is not None:
        raise TypeError(f"{name}: out= is not supported (a symgrad node has no output buffer)")
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise TypeError(f"{name}: dtype={dtype!r} is not supported; results are float64 "
                        "(pass dtype=None)")


def _accumulated(name: str, a, dtype=None, out=None):
    """``a`` cast to the accumulator ``dtype`` of sum/prod/cumsum/cumprod (float64 or
    int64; NumPy's ``sum(ints, dtype=float)`` is the sum of the cast entries)."""
    _no_buffers(name, None, out)
    a = as_node(a)
    if dtype is None:
        return a
    if np.dtype(dtype) not in (np.dtype(np.float64), np.dtype(np.int64)):
        raise TypeError(f"{name}: dtype={dtype!r} is not supported (float64 or int64)")
    return elementwise.astype(a, dtype=np.dtype(dtype).name)


def _masked(name: str, a, where, fill):
    """NumPy's ``where=`` of a reduction: ``a`` with ``fill`` (the identity) outside the
    boolean mask ``where`` (broadcast to ``a``'s shape; ``True``: every entry)."""
    if where is True:
        return a
    mask = as_node(where)
    if mask.dtype != "bool":
        raise TypeError(f"{name}: where= must be boolean, got {mask.dtype} ({describe(mask)})")
    mask = broadcast_to(mask, a.shape) if mask.shape != a.shape else mask
    return elementwise.where(mask, a, fill)


def _axes(name: str, x, axis) -> tuple:
    """``axis`` normalized against ``x``, errors naming the function and the operand."""
    try:
        return normalize_axes(axis, x.ndim)
    except ShapeError as err:
        raise type(err)(f"{name}({describe(x)}): {err}") from None


def _flat(x):
    """``x`` as a vector (NumPy's ``axis=None`` of the scans)."""
    return x if x.ndim == 1 else structure.reshape(x, shape=(-1,))


@command_line(a="node", axis="axis", keepdims="bool")
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    """NumPy ``prod``: the product over ``axis`` (None: all; an int or a tuple). Its
    gradient is the product of the *other* entries, formed without dividing by ``a``,
    so it is exact where entries are zero. ``initial`` multiplies the result; ``where``
    (a boolean mask) leaves entries out."""
    a = _accumulated("prod", a, dtype, out)
    a = _masked("prod", a, where, 1)
    result = scans.prod_op(a, axis=axis, keepdims=keepdims)
    return result if initial is None else result * initial


def _dof(name: str, x, axes, ddof):
    """The divisor ``n - ddof`` of the variance (NumPy clips it at 0, which gives inf/nan)."""
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: ddof must be a number, got {ddof!r}")
    dims = [x.shape[i] for i in axes]
    n = count(dims)
    if all(isinstance(d, int) for d in dims):
        return as_node(max(float(np.prod(dims)) - float(ddof), 0.0))
    return n if ddof == 0 else elementwise.maximum(n - float(ddof), 0.0)


def _ddof(name: str, ddof, correction):
    """NumPy 2's ``correction`` is the array API's name of ``ddof``: one of them."""
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
    return correction


@command_line(a="node", axis="axis", ddof="dim", keepdims="bool")
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
        mean=None, correction=None):
    """NumPy ``var``: ``sum((a - mean(a))²) / (n - ddof)`` over ``axis`` (two passes,
    as NumPy: the mean is subtracted before squaring, never ``E[a²] - E[a]²``).
    ``mean``: the mean already computed (kept dimensions), as NumPy 2 takes it;
    ``where``: a boolean mask of the entries counted (``n`` is its count)."""
    _no_buffers("var", dtype, out)
    ddof = _ddof("var", ddof, correction)
    x = as_node(a)
    axes = _axes("var", x, axis)
    if where is not True:
        return _masked_var(x, axes, where, ddof, keepdims, mean)
    centered = x - (_mean(x, axis=axes, keepdims=True) if mean is None else mean)
    return sum_(centered * centered, axis=axes, keepdims=keepdims) / _dof("var", x, axes, ddof)


def _masked_var(x, axes, where, ddof, keepdims, mean):
    """``var`` over the entries the mask ``where`` selects (NumPy's ``where=``)."""
    ones = _masked("var", structure.broadcast_to_op(1.0, shape=x.shape), where, 0.0)
    count = sum_(ones, axis=axes, keepdims=True)
    if mean is None:
        mean = sum_(_masked("var", x, where, 0.0), axis=axes, keepdims=True) / count
    centered = _masked("var", x - mean, where, 0.0)
    divisor = elementwise.maximum(sum_(ones, axis=axes, keepdims=keepdims) - ddof, 0.0)
    return sum_(centered * centered, axis=axes, keepdims=keepdims) / divisor


@command_line(a="node", axis="axis", ddof="dim", keepdims="bool")
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
        correction=None):
    """NumPy ``std``: ``sqrt(var(a, axis, ddof=ddof))``. Its gradient is infinite where
    the variance is 0 (constant data), as in NumPy-based autograd, except over a single
    entry with ``ddof=0``: that std is identically 0, so its derivative is 0."""
    ddof = _ddof("std", ddof, correction)
    variance = var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                   where=where, mean=mean)
    if where is not True:
        return elementwise.sqrt(variance)
    x = as_node(a)
    dims = [x.shape[i] for i in _axes("std", x, axis)]
    if ddof == 0 and all(isinstance(d, int) for d in dims) and math.prod(dims) == 1:
        return structure.zeros_op(shape=variance.shape)
    return elementwise.sqrt(variance)


def _spread_weights(x, w, axes):
    """Weights shaped to broadcast against ``x``: as given when the shapes agree, else
    NumPy's rule: ``w.shape`` must equal ``x``'s sizes along ``axes``."""
    along = tuple(x.shape[i] for i in axes)
    if w.shape != along:
        raise ValueError(f"average: shape of weights {format_shape(w.shape)} must be consistent "
                         f"with shape of a {format_shape(x.shape)} along the specified axis "
                         f"{axes} (expected {format_shape(along)})")
    order = sorted(range(len(axes)), key=lambda k: axes[k])
    if order != list(range(len(axes))):
        w = structure.transpose(w, axes=tuple(order))
    shape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
    return structure.reshape(w, shape=shape)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """NumPy ``average``: ``sum(a * w, axis) / sum(w, axis)`` (the mean without
    ``weights``). With ``returned=True``, also the sum of the weights, broadcast to the
    result's shape. Weights summing to zero give inf/nan (NumPy raises
    ZeroDivisionError, which needs the values)."""
    x = as_node(a)
    if weights is None:
        axes = _axes("average", x, axis)
        result = _mean(x, axis=axes, keepdims=keepdims)
        total = count([x.shape[i] for i in axes])
    else:
        w = as_node(weights)
        if axis is None and w.shape != x.shape:
            raise TypeError("average: axis must be specified when shapes of a and weights "
                            f"differ (a {format_shape(x.shape)}, weights {format_shape(w.shape)})")
        raw = axis if isinstance(axis, (tuple, list)) or axis is None else (axis,)
        axes = _axes("average", x, axis)
        if w.shape != x.shape:
            w = _spread_weights(x, w, tuple(normalize_axis(i, x.ndim) for i in raw))
        total = sum_(w, axis=axes, keepdims=keepdims)
        result = sum_(x * w, axis=axes, keepdims=keepdims) / total
    if not returned:
        return result
    total = as_node(total) * 1.0
    return result, broadcast_to(total, result.shape)


def count_nonzero(a, axis=None, *, keepdims=False):
    """NumPy ``count_nonzero``: the number of non-zero entries (int64). Piecewise
    constant, so the gradient through it is zero (nothing is sent through)."""
    x = as_node(a)
    nonzero = elementwise.where(elementwise.equal(x, 0), 0, 1)
    return sum_(nonzero, axis=_axes("count_nonzero", x, axis), keepdims=keepdims)


def argmax(a, axis=None, out=None, *, keepdims=False):
    """NumPy ``argmax``: the index (int64) of the first maximum along ``axis`` (in the
    flattened array for None). Not differentiable: no gradient flows through it."""
    _no_buffers("argmax", None, out)
    return scans.argmax_op(a, axis=axis, keepdims=keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    """NumPy ``argmin``: the index (int64) of the first minimum; not differentiable."""
    _no_buffers("argmin", None, out)
    return scans.argmin_op(a, axis=axis, keepdims=keepdims)


@command_line(a="node", axis="axis")
def cumsum(a, axis=None, dtype=None, out=None):
    """NumPy ``cumsum``: running sums along ``axis`` (None: of the flattened array)."""
    x = _accumulated("cumsum", a, dtype, out)
    return scans.cumsum_op(_flat(x), axis=0) if axis is None else scans.cumsum_op(x, axis=axis)


@command_line(a="node", axis="axis")
def cumprod(a, axis=None, dtype=None, out=None):
    """NumPy ``cumprod``: running products along ``axis`` (None: flattened). Its
    derivative never divides by ``a``, so it is exact at zero entries."""
    x = _accumulated("cumprod", a, dtype, out)
    return scans.cumprod_op(_flat(x), axis=0) if axis is None else scans.cumprod_op(x, axis=axis)


def _diff_edge(x, value, axis: int, what: str):
    """``prepend``/``append`` as an array along ``axis``: a scalar is repeated over the
    other axes with size 1 along ``axis``, as NumPy does."""
    value = as_node(value)
    if value.ndim == 0:
        shape = tuple(1 if i == axis else d for i, d in enumerate(x.shape))
        return broadcast_to(value, shape)
    if value.ndim != x.ndim:
        raise ValueError(f"diff: {what} {format_shape(value.shape)} must be a scalar or have "
                         f"the rank of a {format_shape(x.shape)}")
    return value


_NO_VALUE = object()


@command_line(a="node", n="dim", axis="axis")
def diff(a, n=1, axis=-1, prepend=_NO_VALUE, append=_NO_VALUE):
    """NumPy ``diff``: the ``n``-th forward difference along ``axis``
    (``a[1:] - a[:-1]``, repeated), after joining ``prepend``/``append``."""
    x = as_node(a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"diff: n must be an int, got {n!r}")
    n = plain_value(n)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if n == 0:
        return x
    if x.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    try:
        axis = normalize_axis(axis, x.ndim)
    except ShapeError as err:
        raise type(err)(f"diff({describe(x)}): {err}") from None
    parts = [x]
    if prepend is not _NO_VALUE:
        parts.insert(0, _diff_edge(x, prepend, axis, "prepend"))
    if append is not _NO_VALUE:
        parts.append(_diff_edge(x, append, axis, "append"))
    if len(parts) > 1:
        x = structure.concatenate(*parts, axis=axis)
    head = tuple(slice(None) for _ in range(axis))
    for _ in range(n):  # of bools, NumPy's diff is not_equal (``-`` of bools raises)
        later, earlier = x[head + (slice(1, None),)], x[head + (slice(None, -1),)]
        x = elementwise.not_equal(later, earlier) if x.dtype == "bool" else later - earlier
    return x


@command_line(a="node", axis="axis", keepdims="bool")
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """SciPy's ``logsumexp``: ``log(sum(b * exp(a)))`` over ``axis``, shifted by the max
    so it is finite for inputs of any size. ``b`` (broadcast against ``a``) weights
    the terms; its gradient is ``exp(a - out)``, finite also where ``b`` is 0. A
    negative weighted sum gives nan, as SciPy without ``return_sign``; with it, SciPy's
    pair (log|sum(b exp(a))|, sign of the sum), the first differentiable (d log|s| =
    ds / s), the sign not."""
    if return_sign:
        x = as_node(a)
        axes = _axes("logsumexp", x, axis)
        terms = elementwise.exp(x - reductions_max(x, axis=axes, keepdims=True))
        total = sum_(terms if b is None else as_node(b) * terms, axis=axes, keepdims=keepdims)
        value = elementwise.log(elementwise.abs_(total)) + reductions_max(x, axis=axes,
                                                                          keepdims=keepdims)
        return value, elementwise.sign(total)
    if b is None:
        return _logsumexp_op(a, axis=axis, keepdims=keepdims)
    return scans.weighted_logsumexp(a, b, axis=axis, keepdims=keepdims)


#: The functions of this module, for ``symgrad.api.functions`` to export.
__all__ = ["prod", "var", "std", "average", "count_nonzero", "argmax", "argmin", "cumsum",
           "cumprod", "diff", "logsumexp"]
