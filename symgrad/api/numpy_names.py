"""NumPy's other names for symgrad's functions, and the few NumPy helpers that are
compositions of existing ops (no op records of their own): the ufunc names
(``add``, ``multiply``, ``divide``, ``absolute``, ``degrees``, ...), the identities
of a real array (``real``, ``conj``, ...), ``hypot``, ``rollaxis``, ``row_stack``,
``append``, ``linspace``, ``gradient`` and the index tricks ``r_`` and ``c_``.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir.graph import NUMPY_FUNCTIONS, Node, _numpy_counterpart, describe
from ..ir.leaves import as_node, constant
from ..ir.shapes import ShapeError, normalize_axes
from ..ops import elementwise as E, structure, transcendental as T
from . import functions, reductions, shaping, statistics
from .functions import _binary, _named, _unary

# Ufunc names (NumPy's ``np.add`` is the ``+`` of arrays, ...).
add = _binary(E.add, "NumPy ``add``: ``x1 + x2``, broadcast.")
subtract = _binary(E.subtract, "NumPy ``subtract``: ``x1 - x2``, broadcast.")
multiply = _binary(E.multiply, "NumPy ``multiply``: ``x1 * x2``, broadcast.")
divide = _binary(E.divide, "NumPy ``divide``/``true_divide``: ``x1 / x2``, broadcast, float64.")
true_divide = divide
negative = _unary(E.negative, "NumPy ``negative``: ``-x``.")
absolute = _unary(E.abs_, "NumPy ``absolute``/``fabs``: ``|x|`` (``sg.abs``; derivative ``sign(x)``).",
                  "absolute")
fabs = _named(lambda x: E.abs_(E.astype(x, dtype="float64")), "fabs",
              "NumPy ``fabs``: ``|x|`` in float64 (of an int ``x`` too, as NumPy).")
degrees = _unary(T.rad2deg, "NumPy ``degrees``: radians to degrees (``rad2deg``).", "degrees")
radians = _unary(T.deg2rad, "NumPy ``radians``: degrees to radians (``deg2rad``).", "radians")


def row_stack(tup, *, dtype=None, casting="same_kind"):
    """NumPy ``row_stack``: ``vstack``."""
    return shaping.vstack(tup, dtype=dtype, casting=casting)
float64, int64, bool_ = np.float64, np.int64, np.bool_  # dtypes: x.astype(sg.int64)


def real(val):
    """NumPy ``real`` of a real (float64) array: the array itself."""
    return as_node(val)


def conj(x):
    """NumPy ``conj``/``conjugate`` of a real array: the array itself."""
    return as_node(x)


conjugate = conj


def real_if_close(a, tol=100):
    """NumPy ``real_if_close`` of a real array: the array itself."""
    return as_node(a)


def imag(val):
    """NumPy ``imag`` of a real array: zeros of its shape (derivative 0)."""
    val = as_node(val)
    return structure.zeros_op(shape=val.shape)


def angle(z, deg=False):
    """NumPy ``angle`` of a real array: π (180 with ``deg``) where ``z < 0``, else 0;
    piecewise constant, derivative 0."""
    z = as_node(z)
    return E.astype(E.less(z, 0.0), dtype="float64") * (180.0 if deg else math.pi)


def hypot(x1, x2):
    """NumPy ``hypot``: √(x1² + x2²); gradient (x1, x2) / hypot (NaN at the origin)."""
    return E.sqrt(E.square(x1) + E.square(x2))


def rollaxis(a, axis, start=0):
    """NumPy ``rollaxis``: axis ``axis`` moved to lie before position ``start``."""
    a = as_node(a)
    n = a.ndim
    (axis,) = normalize_axes(axis, n)
    if not -n <= start <= n:
        raise np.exceptions.AxisError(f"rollaxis({describe(a)}): 'start' arg requires "
                                      f"{-n} <= start < {n + 1}, but {start} was passed in")
    start = start + n if start < 0 else start
    start = start - 1 if axis < start else start
    return a if axis == start else shaping.moveaxis(a, axis, start)


def append(arr, values, axis=None):
    """NumPy ``append``: ``values`` joined after ``arr`` along ``axis`` (None: both raveled)."""
    arr, values = as_node(arr), as_node(values)
    if axis is None:
        return structure.concatenate(shaping.ravel(arr), shaping.ravel(values), axis=0)
    return structure.concatenate(arr, values, axis=axis)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """NumPy ``linspace``: ``num`` evenly spaced values from ``start`` to ``stop`` along a
    new axis ``axis``, ``start + t (stop - start)`` for constant fractions ``t``;
    differentiable in ``start`` and ``stop`` (arrays broadcast, as NumPy)."""
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise TypeError(f"linspace: dtype={dtype!r} is not supported; results are float64")
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: Number of samples, {num!r}, must be a non-negative int")
    start, stop = as_node(start), as_node(stop)
    div = (num - 1) if endpoint else num
    t = np.arange(num, dtype=float) / div if div > 0 else np.zeros(num)
    delta = stop - start
    ndim = max(start.ndim, stop.ndim)
    (axis,) = normalize_axes(axis, ndim + 1)
    t_node = constant(t.reshape((num,) + (1,) * ndim))
    lead = structure.reshape(start, shape=(1,) * (1 + ndim - start.ndim) + start.shape)
    span = structure.reshape(delta, shape=(1,) * (1 + ndim - delta.ndim) + delta.shape)
    result = lead + t_node * span
    if axis != 0:
        result = shaping.moveaxis(result, 0, axis)
    if retstep:
        return result, (delta / div if div > 0 else delta * math.nan)
    return result


def gradient(f, *varargs, axis=None, edge_order=1):
    """NumPy ``gradient`` with scalar spacings: central differences inside, one-sided
    differences of first (``edge_order=1``) or second order at the ends; a list when
    several axes are asked for. Linear in ``f``: its derivative is itself."""
    f = as_node(f)
    axes = tuple(range(f.ndim)) if axis is None else normalize_axes(axis, f.ndim)
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("gradient: invalid number of arguments")
    if any(np.ndim(h) != 0 or isinstance(h, Node) for h in spacings):
        raise TypeError("gradient: only scalar (constant) spacings are supported")
    if edge_order not in (1, 2):
        raise ValueError("gradient: 'edge_order' greater than 2 not supported")
    results = [_gradient_along(f, a, float(h), edge_order) for a, h in zip(axes, spacings)]
    return results[0] if len(results) == 1 else results


def _gradient_along(f, axis, h, edge_order):
    n = f.shape[axis]
    if not isinstance(n, int):
        raise ShapeError(f"gradient({describe(f)}): axis {axis} must have an int size")
    if n < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                         "least (edge_order + 1) elements are required.")

    def part(lo, hi):
        index = [slice(None)] * f.ndim
        index[axis] = slice(lo, hi)
        return f[tuple(index)]
    inner = (part(2, None) - part(None, -2)) / (2.0 * h)
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / h
        last = (part(n - 1, n) - part(n - 2, n - 1)) / h
    else:
        first = (-1.5 * part(0, 1) + 2.0 * part(1, 2) - 0.5 * part(2, 3)) / h
        last = (0.5 * part(n - 3, n - 2) - 2.0 * part(n - 2, n - 1) + 1.5 * part(n - 1, n)) / h
    if n == 2:
        return structure.concatenate(first, last, axis=axis)
    return structure.concatenate(first, inner, last, axis=axis)


class _Concatenator:
    """NumPy's ``r_`` / ``c_`` for nodes: ``sg.r_[x, A, 1:10]`` joins the items (nodes,
    arrays, numbers, and slices as ``arange`` constants) along axis 0, ``sg.c_[...]``
    along the last axis with 1-D items as columns. String directives are not supported."""

    def __init__(self, name: str, axis: int, ndmin: int, doc: str):
        self.name, self.axis, self.ndmin = name, axis, ndmin
        self.__doc__ = doc

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        nodes = [self._item(item) for item in items]
        if not nodes:
            return constant(np.zeros(0))
        return nodes[0] if len(nodes) == 1 else structure.concatenate(*nodes, axis=self.axis)

    def _item(self, item):
        if isinstance(item, str):
            raise NotImplementedError(f"{self.name}[...]: string directives ({item!r}) are "
                                      "not supported; use sg.concatenate")
        if isinstance(item, slice):
            step = 1 if item.step is None else item.step
            if isinstance(step, complex):
                raise NotImplementedError(f"{self.name}[...]: complex steps (linspace) are not "
                                          "supported; use sg.linspace")
            item = np.arange(0 if item.start is None else item.start, item.stop, step)
        node = as_node(item) if isinstance(item, Node) else constant(np.asarray(item, float))
        if node.ndim >= self.ndmin:
            return node
        if self.ndmin == 1:
            return structure.reshape(node, shape=(1,))
        return structure.reshape(node, shape=node.shape + (1,) * (2 - node.ndim)
                                 if node.ndim == 1 else (1, 1))


r_ = _Concatenator("r_", 0, 1, "NumPy ``r_[...]``: the items joined along axis 0 (numbers "
                   "and 1-d slices as ``arange`` constants).")
c_ = _Concatenator("c_", -1, 2, "NumPy ``c_[...]``: the items joined along the last axis, "
                   "1-d items as columns.")

# NumPy 2's array-API names of existing functions.
acos, asin, atan, acosh, asinh, atanh = (
    _unary(op, f"NumPy 2's ``{name}`` (``{op.name}``).", name) for op, name in
    ((T.arccos, "acos"), (T.arcsin, "asin"), (T.arctan, "atan"), (T.arccosh, "acosh"),
     (T.arcsinh, "asinh"), (T.arctanh, "atanh")))
atan2 = _binary(T.arctan2, "NumPy 2's ``atan2`` (``arctan2``).", "atan2")
pow = _binary(E.power, "NumPy 2's ``pow`` (``power``).", "pow")  # noqa: A001


def unstack(x, /, *, axis=0):
    """NumPy 2.1's ``unstack``: the slices of ``x`` along ``axis``, as a tuple."""
    x = as_node(x)
    axis = normalize_axes(axis, x.ndim)[0] if x.ndim else None
    if axis is None or not isinstance(x.shape[axis], int):
        raise ValueError(f"unstack({describe(x)}): needs an axis of int size")
    return tuple(structure.getitem(x, index=(slice(None),) * axis + (i,))
                 for i in range(x.shape[axis]))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """NumPy ``isclose``: ``|a - b| <= atol + rtol |b|`` elementwise (equal infinities are
    close; NaNs only with ``equal_nan``); a bool node, not differentiable."""
    a, b = as_node(a), as_node(b)
    finite = E.less_equal(E.abs_(a - b), atol + rtol * E.abs_(b))
    close = E.logical_or(E.equal(a, b), E.logical_and(finite, E.isfinite(b)))
    return E.logical_or(close, E.logical_and(E.isnan(a), E.isnan(b))) if equal_nan else close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """NumPy ``allclose``: whether every entry is ``isclose`` (a 0-d bool node)."""
    return statistics.all(isclose(a, b, rtol, atol, equal_nan))


def _ufunc_reduce(name, array, axis=0, dtype=None, out=None, keepdims=False, initial=None,
                  where=True):
    """``np.<ufunc>.reduce(node)`` (NumPy's default ``axis=0``) as the symgrad reduction."""
    table = {"add": functions.sum, "multiply": reductions.prod, "maximum": functions.max,
             "minimum": functions.min, "logaddexp": reductions.logsumexp}
    if name not in table:
        raise TypeError(f"np.{name}.reduce has no symgrad equivalent")
    kwargs = {"axis": axis, "keepdims": keepdims}
    if initial is not None:
        kwargs["initial"] = initial
    if where is not True:
        kwargs["where"] = where
    if dtype is not None or out is not None:
        kwargs.update(dtype=dtype, out=out)
    return table[name](array, **kwargs)


def _ufunc_accumulate(name, array, axis=0, dtype=None, out=None):
    """``np.add.accumulate`` / ``np.multiply.accumulate`` (``axis=0``): cumsum / cumprod."""
    table = {"add": reductions.cumsum, "multiply": reductions.cumprod}
    if name not in table:
        raise TypeError(f"np.{name}.accumulate has no symgrad equivalent")
    return table[name](array, axis=axis, dtype=dtype, out=out)


def _ufunc_outer(name, a, b, **kwargs):
    """``np.<ufunc>.outer(a, b)``: the ufunc of ``a`` (axes appended) and ``b``."""
    build = _numpy_counterpart(name)
    if build is None or kwargs:
        raise TypeError(f"np.{name}.outer has no symgrad equivalent")
    a, b = as_node(a), as_node(b)
    return build(structure.reshape(a, shape=a.shape + (1,) * b.ndim), b)


def ndim(a):
    """NumPy ``ndim``: the number of axes (a Python int)."""
    return as_node(a).ndim


def shape(a):
    """NumPy ``shape``: the shape tuple (ints or dimension names)."""
    return as_node(a).shape


def size(a, axis=None):
    """NumPy ``size``: the number of entries, or the length of ``axis``."""
    a = as_node(a)
    return a.size if axis is None else a.shape[normalize_axes(axis, a.ndim)[0]]


def isposinf(x):
    """NumPy ``isposinf``: ``x == +inf`` (a bool node)."""
    return E.equal(as_node(x), np.inf)


def isneginf(x):
    """NumPy ``isneginf``: ``x == -inf`` (a bool node)."""
    return E.equal(as_node(x), -np.inf)


def isreal(x):
    """NumPy ``isreal`` of a real array: True everywhere (a bool node)."""
    x = as_node(x)
    return structure.broadcast_to_op(constant(True), shape=x.shape)


def iscomplex(x):
    """NumPy ``iscomplex`` of a real array: False everywhere (a bool node)."""
    x = as_node(x)
    return structure.broadcast_to_op(constant(False), shape=x.shape)


def isrealobj(x):
    """NumPy ``isrealobj``: symgrad nodes are never complex."""
    return True


def iscomplexobj(x):
    """NumPy ``iscomplexobj``: symgrad nodes are never complex."""
    return False


def ldexp(x1, x2):
    """NumPy ``ldexp``: ``x1 · 2**x2`` (float64; the derivative in ``x1`` is ``2**x2``)."""
    return as_node(x1) * T.exp2(as_node(x2))


def modf(x):
    """NumPy ``modf``: (fractional part, integral part), both with ``x``'s sign; the
    fractional part has derivative 1, the integral part 0."""
    x = as_node(x)
    whole = E.trunc(x)
    return E.where(E.isinf(x), T.copysign(0.0, x), x - whole), whole  # modf(±inf) = (±0, ±inf)


def array_equal(a1, a2, equal_nan=False):
    """NumPy ``array_equal``: a 0-d bool node (every entry equal), or False for different
    shapes (known at build time)."""
    a1, a2 = as_node(a1), as_node(a2)
    if a1.shape != a2.shape:
        return False
    same = E.equal(a1, a2)
    if equal_nan:
        same = E.logical_or(same, E.logical_and(E.isnan(a1), E.isnan(a2)))
    return statistics.all(same)


__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "negative", "absolute",
           "fabs", "degrees", "radians", "row_stack", "real", "conj", "conjugate",
           "real_if_close", "imag", "angle", "hypot", "rollaxis", "append", "linspace",
           "gradient", "r_", "c_", "float64", "int64", "bool_", "acos", "asin", "atan",
           "acosh", "asinh", "atanh", "atan2", "pow", "unstack", "isclose", "allclose",
           "ndim", "shape", "size", "isposinf", "isneginf", "isreal", "iscomplex",
           "isrealobj", "iscomplexobj", "ldexp", "modf", "array_equal"]
NUMPY_FUNCTIONS.update({name: globals()[name] for name in __all__
                        if name not in ("r_", "c_", "float64", "int64", "bool_")})
NUMPY_FUNCTIONS.update({"ufunc.reduce": _ufunc_reduce, "ufunc.accumulate": _ufunc_accumulate,
                        "ufunc.outer": _ufunc_outer})
