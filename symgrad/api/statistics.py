"""More of NumPy under its own names, each a composite of existing ops (so first and
second derivatives come from those ops' rules, and nothing here is a new record):

- statistics: ``ptp``, ``median``, ``quantile``, ``percentile``, ``cov``,
  ``corrcoef``, and the NaN-ignoring ``nansum``, ``nanmean``, ``nanmax``, ... ;
- signals and polynomials: ``convolve``, ``correlate``, ``polyval``,
  ``trapezoid``, ``ediff1d``, NumPy 2.1's ``cumulative_sum``/``cumulative_prod``;
- creation: ``ones``, ``full``, ``identity``, ``zeros_like``, ``ones_like``,
  ``full_like``, ``diagflat``, ``copy``;
- the array API's names: ``matrix_transpose``, ``permute_dims``, ``concat``,
  ``matvec``, ``vecmat``, and the truth reductions ``all``/``any``;
- the ufuncs ``positive``, ``rint``, ``fix``, ``float_power``, ``not_equal``,
  ``greater_equal``, ``less_equal``, ``logical_and/or/xor/not`` and ``cbrt``.

Order statistics (median, quantile) go through ``sort``: their gradient reaches the
entries the result is interpolated from (ties: the sort's stable order).
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import NUMPY_FUNCTIONS, Node, as_dtype, describe
from ..ir.leaves import as_node
from ..ir.shapes import ShapeError, format_shape
from ..ops import elementwise, structure, transcendental
from . import functions as F
from . import reductions as R
from . import shaping as S
from .reductions import _no_buffers

def positive(x):
    """NumPy ``positive`` (unary ``+``): ``x`` itself."""
    return as_node(x)


rint = F._named(lambda x: F.round(F.astype(x, "float64")), "rint", "NumPy ``rint``: to the nearest integer, "
                "half to even (as ``round``); its derivative is 0.")
fix = F._named(lambda x: F.trunc(x), "fix", "NumPy ``fix``: rounded toward zero (as "
               "``trunc``); its derivative is 0.")
float_power = F._named(lambda x1, x2: F.power(F.astype(x1, "float64"), x2), "float_power",
                       "NumPy ``float_power``: ``x1 ** x2`` in float64 (as ``power``).")
cbrt = F._unary(transcendental.cbrt, "NumPy ``cbrt``: the real cube root; "
                "``d ∛x = 1 / (3 ∛x²)``.")
(not_equal, greater_equal, less_equal, logical_and, logical_or, logical_xor) = map(
    F._binary, [elementwise.not_equal, elementwise.greater_equal, elementwise.less_equal,
                elementwise.logical_and, elementwise.logical_or, elementwise.logical_xor])
logical_not = F._unary(elementwise.logical_not)


# Truth reductions ---------------------------------------------------------------------


def any(a, axis=None, out=None, keepdims=False):  # noqa: A001  (NumPy's name)
    """NumPy ``any``: whether some entry along ``axis`` is non-zero (bool)."""
    _no_buffers("any", None, out)
    return elementwise.greater(R.count_nonzero(a, axis=axis, keepdims=keepdims), 0)


def all(a, axis=None, out=None, keepdims=False):  # noqa: A001  (NumPy's name)
    """NumPy ``all``: whether every entry along ``axis`` is non-zero (bool)."""
    _no_buffers("all", None, out)
    return elementwise.equal(R.count_nonzero(elementwise.equal(as_node(a), 0), axis=axis,
                                             keepdims=keepdims), 0)


# Order statistics ---------------------------------------------------------------------


def ptp(a, axis=None, out=None, keepdims=False):
    """NumPy ``ptp``: ``max - min`` along ``axis`` ("peak to peak")."""
    _no_buffers("ptp", None, out)
    return F.max(a, axis=axis, keepdims=keepdims) - F.min(a, axis=axis, keepdims=keepdims)


def _along_last(name: str, a, axis):
    """``a`` with the reduced axes (None: all) moved to the end and merged into one, and
    the shape the result has with ``keepdims`` (the reduced axes kept as size 1)."""
    x = as_node(a)
    axes = R._axes(name, x, axis)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    rest = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    moved = S.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim))) if axes else x
    size = 1
    for i in axes:
        size *= S._int_dim(x, i, name)
    return structure.reshape(moved, shape=rest + (size,)), kept, rest


#: NumPy's quantile methods symgrad has: the two sorted positions (of a virtual index
#: ``v = q (n - 1)``) and the fraction between them.
_AT_VIRTUAL_INDEX = {
    "linear": lambda v: (np.floor(v), np.floor(v) + 1, v - np.floor(v)),
    "lower": lambda v: (np.floor(v), np.floor(v), 0.0 * v),
    "higher": lambda v: (np.ceil(v), np.ceil(v), 0.0 * v),
    "nearest": lambda v: (np.around(v), np.around(v), 0.0 * v),
    "midpoint": lambda v: (np.floor(v), np.ceil(v), 0.5 + 0.0 * v),
}
#: NumPy's continuous methods (H&F 1996): ``v = n q + α + q (1 - α - β) - 1``, linear.
_PLOTTING_POSITIONS = {"interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
                       "weibull": (0.0, 0.0), "median_unbiased": (1 / 3, 1 / 3),
                       "normal_unbiased": (3 / 8, 3 / 8)}
QUANTILE_METHODS = (*_AT_VIRTUAL_INDEX, *_PLOTTING_POSITIONS)


def _positions(method: str, q: float, n: int) -> tuple:
    """(low, high, fraction) of quantile ``q`` of ``n`` sorted entries by ``method``."""
    if method in _PLOTTING_POSITIONS:
        alpha, beta = _PLOTTING_POSITIONS[method]
        return _AT_VIRTUAL_INDEX["linear"](n * q + alpha + q * (1 - alpha - beta) - 1)
    return _AT_VIRTUAL_INDEX[method](q * (n - 1))


def _lerp(a: Node, b: Node, t: float) -> Node:
    """NumPy's ``_lerp``: ``a + (b - a) t``, from the nearer end (exact at t = 0 and 1)."""
    if t == 0.0:
        return a
    diff = b - a
    return a + diff * t if t < 0.5 else b - diff * (1.0 - t)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """NumPy ``quantile``: the ``q``-th quantiles (constants in [0, 1]) along ``axis``,
    interpolated as ``method`` says ("linear", "lower", "higher", "nearest",
    "midpoint", and the continuous "interpolated_inverted_cdf", "hazen", "weibull",
    "median_unbiased", "normal_unbiased"); the result's leading axes are ``q``'s."""
    _no_buffers("quantile", None, out)
    if interpolation is not None:
        method = interpolation
    if weights is not None:
        raise NotImplementedError("quantile: weights= is not supported")
    if method not in QUANTILE_METHODS:
        raise ValueError(f"quantile: method {method!r} is not supported; symgrad has "
                         f"{', '.join(QUANTILE_METHODS)}")
    if isinstance(q, Node):
        raise TypeError(f"quantile: q must be a constant, got {describe(q)}")
    q = np.asarray(q, dtype=float)
    if not np.all((q >= 0) & (q <= 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    flat, kept, rest = _along_last("quantile", a, axis)
    n = flat.shape[-1]
    if n == 0:  # NumPy raises IndexError here
        raise IndexError(f"quantile of an empty axis ({describe(as_node(a))})")
    ordered = S.sort(flat, axis=-1)
    picks = []
    for value in q.ravel():
        low, high, t = _positions(method, value, n)
        pick = [ordered[..., int(np.clip(i, 0, n - 1))] for i in (low, high)]
        picks.append(_lerp(pick[0], pick[1], float(t)))
    result = F.stack(picks) if q.ndim else picks[0]
    shape = q.shape + (kept if keepdims else rest)
    return result if result.shape == shape else structure.reshape(result, shape=shape)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """NumPy ``percentile``: ``quantile`` with ``q`` in percent (0 to 100)."""
    q = np.asarray(q, dtype=float)
    if not np.all((q >= 0) & (q <= 100)):
        raise ValueError("Percentiles must be in the range [0, 100]")
    return quantile(a, q / 100.0, axis=axis, out=out, method=method, keepdims=keepdims,
                    weights=weights, interpolation=interpolation)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """NumPy ``median``: the middle of the sorted entries along ``axis`` (the mean of
    the two middle ones for an even count)."""
    _no_buffers("median", None, out)
    flat, kept, rest = _along_last("median", a, axis)
    if flat.shape[-1] == 0:  # NumPy: NaN (with a RuntimeWarning), not differentiable
        return structure.broadcast_to_op(np.nan, shape=kept if keepdims else rest)
    middle = S._median_keep(flat, flat.ndim - 1)
    return structure.reshape(middle, shape=kept if keepdims else rest)


# NaN-ignoring reductions ----------------------------------------------------------------


def _filled(a, value) -> Node:
    """``a`` with its NaN entries replaced by ``value`` (they get no gradient)."""
    x = as_node(a)
    return elementwise.where(elementwise.isnan(x), value, x)


def _present(a, axis, keepdims) -> Node:
    """The number of non-NaN entries along ``axis`` (float64)."""
    return F.sum(elementwise.where(elementwise.isnan(as_node(a)), 0.0, 1.0), axis=axis,
                 keepdims=keepdims)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=0):
    """NumPy ``nansum``: the sum treating NaN as 0."""
    return F.sum(_filled(a, 0.0), axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                 initial=initial)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None):
    """NumPy ``nanprod``: the product treating NaN as 1."""
    return R.prod(_filled(a, 1.0), axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                  initial=initial)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    """NumPy ``nanmean``: the mean of the non-NaN entries (NaN where there are none)."""
    return nansum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims) / _present(
        a, axis, keepdims)


def _nan_extreme(name: str, reduce, fill: float):
    """NumPy's ``nanmax``/``nanmin``: the extreme of the non-NaN entries; NaN where all
    are NaN (NumPy warns there)."""
    def extreme(a, axis=None, out=None, keepdims=False, initial=None):
        _no_buffers(name, None, out)
        found = reduce(_filled(a, fill), axis=axis, keepdims=keepdims, initial=initial)
        return elementwise.where(elementwise.equal(_present(a, axis, keepdims), 0), np.nan, found)
    extreme.__name__ = extreme.__qualname__ = name
    extreme.__doc__ = f"NumPy ``{name}``: {reduce.__name__} ignoring NaN (NaN if all are)."
    return extreme


nanmax = _nan_extreme("nanmax", F.max, -np.inf)
nanmin = _nan_extreme("nanmin", F.min, np.inf)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, mean=None,
           correction=None):
    """NumPy ``nanvar``: the variance of the non-NaN entries, over ``count - ddof``."""
    _no_buffers("nanvar", dtype, out)
    ddof = R._ddof("nanvar", ddof, correction)
    x = as_node(a)
    center = nanmean(x, axis=axis, keepdims=True) if mean is None else mean
    centered = _filled(x - center, 0.0)
    dof = elementwise.maximum(_present(x, axis, keepdims) - float(ddof), 0.0)
    return F.sum(centered * centered, axis=axis, keepdims=keepdims) / dof


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, mean=None,
           correction=None):
    """NumPy ``nanstd``: the square root of ``nanvar``."""
    return elementwise.sqrt(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof,
                                   keepdims=keepdims, mean=mean, correction=correction))


def nancumsum(a, axis=None, dtype=None, out=None):
    """NumPy ``nancumsum``: the running sum treating NaN as 0."""
    return R.cumsum(_filled(a, 0.0), axis=axis, dtype=dtype, out=out)


def nancumprod(a, axis=None, dtype=None, out=None):
    """NumPy ``nancumprod``: the running product treating NaN as 1."""
    return R.cumprod(_filled(a, 1.0), axis=axis, dtype=dtype, out=out)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    """NumPy ``nanargmax``: the index of the largest non-NaN entry (for an all-NaN slice,
    where NumPy raises, 0)."""
    return R.argmax(_filled(a, -np.inf), axis=axis, out=out, keepdims=keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    """NumPy ``nanargmin``: the index of the smallest non-NaN entry (all-NaN: 0)."""
    return R.argmin(_filled(a, np.inf), axis=axis, out=out, keepdims=keepdims)


# Covariance ---------------------------------------------------------------------------


def _variables(m, rowvar: bool) -> Node:
    """NumPy's ``cov`` layout: variables as rows of a 2-D node."""
    x = S.atleast_2d(as_node(m))
    return structure.transpose(x) if not rowvar and x.shape[0] != 1 else x


def _weights(fweights, aweights, n):
    """NumPy's checks of ``cov``'s frequency and analytic weights (constants): their
    product, or None."""
    w = None
    for name, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        if isinstance(given, Node):
            raise TypeError(f"cov: {name} must be a constant array, got {describe(given)}")
        given = np.asarray(given, dtype=float)
        if given.ndim != 1 or given.shape[0] != n:
            raise RuntimeError(f"cov: {name} must be 1-D with one entry per observation "
                               f"({n}), got shape {given.shape}")
        if np.any(given < 0):
            raise ValueError(f"{name} cannot be negative")
        if name == "fweights" and np.any(given != np.around(given)):
            raise TypeError("fweights must be integer")
        w = given if w is None else w * given
    return w


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """NumPy ``cov``: the covariance matrix of the variables (rows, or columns with
    ``rowvar=False``) of ``m`` (and ``y``), normalized by ``N - ddof`` (``ddof``
    defaults to 1, or 0 with ``bias=True``), weighted as NumPy does."""
    _no_buffers("cov", dtype)
    x = _variables(m, rowvar)
    if y is not None:
        x = F.concatenate([x, _variables(y, rowvar)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = x.shape[1]
    w = _weights(fweights, aweights, n if isinstance(n, int) else -1)
    if w is None:
        centered = x - F.mean(x, axis=1, keepdims=True)
        fact = R._dof("cov", x, (1,), ddof)
        product = centered @ structure.transpose(centered)
    else:
        w_sum = float(np.sum(w))
        centered = x - F.sum(x * w, axis=1, keepdims=True) / w_sum
        a_w = aweights if aweights is None else np.asarray(aweights, dtype=float)
        fact = (w_sum if ddof == 0 else w_sum - ddof if a_w is None
                else w_sum - ddof * float(np.sum(w * a_w)) / w_sum)
        fact = max(fact, 0.0)
        product = (centered * w) @ structure.transpose(centered)
    return S.squeeze(product / fact)


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """NumPy ``corrcoef``: the covariance scaled by the standard deviations (clipped to
    [-1, 1] as NumPy)."""
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    stddev = elementwise.sqrt(F.diag(c))
    scaled = c / stddev[:, None] / stddev[None, :]
    return F.clip(scaled, -1.0, 1.0)


# Signals, polynomials, integration ----------------------------------------------------


def _signal_vector(name: str, which: str, x) -> Node:
    """Operand ``which`` of ``convolve``/``correlate`` as a non-empty vector (a scalar
    is one entry, as NumPy reads it)."""
    node = as_node(x)
    if node.ndim == 0:
        node = S.ravel(node)
    if node.ndim != 1:
        raise ValueError(f"{name}: object too deep for desired array ({describe(node)})")
    if S._int_dim(node, 0, name) == 0:
        raise ValueError(f"{name}: {which} cannot be empty")
    return node


#: (start, stop) of each mode's part of the full convolution of lengths n >= m.
_CONVOLVE_MODES = {
    "full": lambda n, m: (0, n + m - 1),
    "same": lambda n, m: ((m - 1) // 2, (m - 1) // 2 + n),
    "valid": lambda n, m: (m - 1, n),
}


def convolve(a, v, mode="full"):
    """NumPy ``convolve``: ``(a * v)[k] = Σ_i a[i] v[k - i]`` of two vectors, the
    ``full``, ``same`` or ``valid`` part; linear in each operand."""
    if mode not in _CONVOLVE_MODES:
        raise ValueError(f"convolve: mode must be one of {', '.join(_CONVOLVE_MODES)}, "
                         f"got {mode!r}")
    a, v = _signal_vector("convolve", "a", a), _signal_vector("convolve", "v", v)
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    n, m = a.shape[0], v.shape[0]
    full = F.sum(F.stack([v[i] * S.pad(a, (i, m - 1 - i)) for i in range(m)]), axis=0)
    start, stop = _CONVOLVE_MODES[mode](n, m)
    return full if (start, stop) == (0, n + m - 1) else full[start:stop]


def correlate(a, v, mode="valid"):
    """NumPy ``correlate``: ``c[k] = Σ_n a[n + k] v[n]`` of two real vectors (NumPy's
    output order, also when ``v`` is the longer one)."""
    a, v = _signal_vector("correlate", "a", a), _signal_vector("correlate", "v", v)
    if v.shape[0] > a.shape[0]:
        return convolve(v, a[::-1], mode)[::-1]
    return convolve(a, v[::-1], mode)


def polyval(p, x):
    """NumPy ``polyval``: ``p[0] x^(N-1) + ... + p[N-1]`` by Horner's scheme
    (``p`` a vector node, or a sequence of numbers and nodes)."""
    coefficients = list(p) if not isinstance(p, Node) else [p[i] for i in range(
        S._int_dim(p, 0, "polyval"))]
    x = as_node(x)
    result = F.zeros(x.shape) if not coefficients else None
    for c in coefficients:
        result = c + 0.0 * x if result is None else result * x + c
    return result


def _slices(ndim: int, axis: int, key) -> tuple:
    return (slice(None),) * (axis % ndim) + (key,)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """NumPy ``trapezoid``: the trapezoidal rule ``Σ (x[i+1] - x[i]) (y[i+1] + y[i]) / 2``
    along ``axis`` (spacing ``dx`` without ``x``)."""
    y = as_node(y)
    if y.ndim == 0:
        raise ValueError("trapezoid: y must have at least one dimension")
    heights = (y[_slices(y.ndim, axis, slice(1, None))]
               + y[_slices(y.ndim, axis, slice(None, -1))]) / 2.0
    if x is None:
        widths = dx
    else:
        x = as_node(x)
        widths = R.diff(x, axis=axis if x.ndim > 1 else 0)
        if x.ndim == 1 and y.ndim > 1:
            shape = [1] * y.ndim
            shape[axis % y.ndim] = widths.shape[0]
            widths = structure.reshape(widths, shape=tuple(shape))
    return F.sum(widths * heights, axis=axis)


def ediff1d(ary, to_end=None, to_begin=None):
    """NumPy ``ediff1d``: the differences of the flattened entries, with ``to_begin``
    and ``to_end`` attached."""
    parts = [R.diff(S.ravel(as_node(ary)))]
    if to_begin is not None:
        parts.insert(0, S.ravel(as_node(to_begin)))
    if to_end is not None:
        parts.append(S.ravel(as_node(to_end)))
    return parts[0] if len(parts) == 1 else F.concatenate(parts)


def _cumulative(name: str, scan, initial: float):
    """NumPy 2.1's ``cumulative_sum``/``cumulative_prod``: ``axis`` needed above 1-D;
    ``include_initial`` puts the identity first."""
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        _no_buffers(name, dtype, out)
        x = as_node(x)
        if axis is None:
            if x.ndim > 1:
                raise ValueError(f"{name}: for arrays which have more than one dimension "
                                 "'axis' argument is required.")
            axis = 0
        result = scan(x, axis=axis)
        if not include_initial:
            return result
        shape = list(result.shape)
        shape[axis % x.ndim] = 1
        return F.concatenate([full(tuple(shape), initial), result], axis=axis)
    cumulative.__name__ = cumulative.__qualname__ = name
    cumulative.__doc__ = f"NumPy ``{name}``: ``{scan.__name__}`` with the array API's options."
    return cumulative


# Creation -----------------------------------------------------------------------------


def full(shape, fill_value, dtype=None, order="C"):
    """NumPy ``full``: ``fill_value`` repeated to ``shape`` (which may name dimensions)."""
    shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
    value = as_node(fill_value) if dtype is None else F.astype(as_node(fill_value), dtype)
    return structure.broadcast_to_op(value, shape=shape)


def ones(shape, dtype=float, order="C"):
    """NumPy ``ones``: a constant array of ones (float64 by default)."""
    return full(shape, np.ones((), dtype=as_dtype(dtype)))


def identity(n, dtype=float):
    """NumPy ``identity``: the n x n identity."""
    return F.eye(n, dtype=dtype)


def _like(name: str, value):
    def like(a, dtype=None, order="K", subok=True, shape=None):
        return full_like(a, value, dtype=dtype, shape=shape)
    like.__name__ = like.__qualname__ = name
    like.__doc__ = f"NumPy ``{name}``: a constant of ``a``'s shape and dtype."
    return like


zeros_like = _like("zeros_like", 0)
ones_like = _like("ones_like", 1)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    """NumPy ``full_like``: ``fill_value`` in ``a``'s shape (and dtype unless given)."""
    a = as_node(a)
    target = a.dtype if dtype is None else as_dtype(dtype)
    return full(a.shape if shape is None else shape, fill_value, dtype=target)


def diagflat(v, k=0):
    """NumPy ``diagflat``: the flattened ``v`` on diagonal ``k`` of a matrix."""
    return F.diag(S.ravel(as_node(v)), k)


def copy(a, order="K", subok=False):
    """NumPy ``copy``: the node itself (nodes are immutable, so a copy is the same)."""
    return as_node(a)


cumulative_sum = _cumulative("cumulative_sum", R.cumsum, 0.0)
cumulative_prod = _cumulative("cumulative_prod", R.cumprod, 1.0)


# The array API's names ------------------------------------------------------------------


def matrix_transpose(x, /):
    """The array API's ``matrix_transpose``: the last two axes swapped."""
    x = as_node(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: input must have at least 2 dimensions, got "
                         f"{describe(x)}")
    return S.swapaxes(x, -1, -2)


def permute_dims(a, axes=None):
    """The array API's ``permute_dims``: NumPy's ``transpose``."""
    return F.transpose(a, axes)


def concat(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """The array API's ``concat``: NumPy's ``concatenate``."""
    return F.concatenate(arrays, axis=axis, out=out, dtype=dtype, casting=casting)


def _check_contraction(name: str, a: Node, b: Node, i: int, j: int) -> None:
    if a.shape[i] != b.shape[j]:
        raise ShapeError(f"{name}: the contracted axes differ: {format_shape(a.shape)} and "
                         f"{format_shape(b.shape)}")


def matvec(x1, x2, /):
    """NumPy 2.2's ``matvec``: matrix-vector products over broadcast stacks."""
    a, b = as_node(x1), as_node(x2)
    _check_contraction("matvec", a, b, -1, -1)
    return (a @ b[..., None])[..., 0]


def vecmat(x1, x2, /):
    """NumPy 2.2's ``vecmat``: vector-matrix products over broadcast stacks."""
    a, b = as_node(x1), as_node(x2)
    _check_contraction("vecmat", a, b, -1, -2)
    return (a[..., None, :] @ b)[..., 0, :]


__all__ = [
    "positive", "rint", "fix", "float_power", "cbrt", "not_equal", "greater_equal",
    "less_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "any", "all",
    "ptp", "quantile", "percentile", "median", "nansum", "nanprod", "nanmean", "nanmax",
    "nanmin", "nanvar", "nanstd", "nancumsum", "nancumprod", "nanargmax", "nanargmin", "cov",
    "corrcoef", "convolve", "correlate", "polyval", "trapezoid", "ediff1d", "cumulative_sum",
    "cumulative_prod", "full", "ones", "identity", "zeros_like", "ones_like", "full_like",
    "diagflat", "copy", "matrix_transpose", "permute_dims", "concat", "matvec", "vecmat",
]
NUMPY_FUNCTIONS.update({name: globals()[name] for name in __all__})
