"""The NumPy-named functions of the public API: thin wrappers over the op records.

They give each op its NumPy signature (positional attributes, defaults) and
add the few composites that need no op of their own (``mean``, ``dot``).
"""
from __future__ import annotations

from collections import namedtuple as _namedtuple

import numpy as np

from ..ir.graph import NUMPY_FUNCTIONS, as_dtype, command_line, describe
from ..ir.leaves import as_node
from ..ir.shapes import AxisError, ShapeError
from ..ops import elementwise, linalg as linalg_ops, reductions, structure, transcendental
from ..ops import products
from ..ops.elementwise import square  # noqa: F401  (re-exported)
from ..ops.indexing import take, take_along_axis  # noqa: F401
from .reductions import _accumulated, _masked, _no_buffers


def _named(apply, name: str, doc: str | None):
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc or f"Elementwise NumPy ``{name}`` as a graph node."
    return apply


def _unary(op, doc: str | None = None, name: str | None = None):
    """The NumPy function ``name(x)`` (default: the op record's name) for an op record."""
    return _named(lambda x: op(x), name or op.name, doc)


def _binary(op, doc: str | None = None, name: str | None = None):
    """The NumPy function ``name(x1, x2)`` (default: the op record's name) for an op record."""
    return _named(lambda x1, x2: op(x1, x2), name or op.name, doc)


E, T, L = elementwise, transcendental, linalg_ops
exp, log, log1p, sqrt, abs, sin, cos, tanh = map(  # noqa: A001
    _unary, [E.exp, E.log, E.log1p, E.sqrt, E.abs_, E.sin, E.cos, E.tanh])
sigmoid, relu, softplus, sign = map(_unary, [E.sigmoid, E.relu, E.softplus, E.sign])
command_line(name="expit", x="node")(sigmoid)  # SciPy's name of sigmoid
det, logdet, inv, norm = map(_unary, [L.det, L.logdet, L.inv, L.norm])
(tan, arcsin, arccos, arctan, sinh, cosh, arcsinh, arccosh, arctanh, exp2, expm1, log2, log10,
 reciprocal, deg2rad, rad2deg) = map(_unary, [
    T.tan, T.arcsin, T.arccos, T.arctan, T.sinh, T.cosh, T.arcsinh, T.arccosh, T.arctanh,
    T.exp2, T.expm1, T.log2, T.log10, T.reciprocal, T.deg2rad, T.rad2deg])
floor = _unary(E.floor, "Elementwise NumPy ``floor``; its derivative is 0 (between the jumps).")
ceil = _unary(E.ceil, "Elementwise NumPy ``ceil``; its derivative is 0 (between the jumps).")
arctan2 = _binary(T.arctan2, "Elementwise NumPy ``arctan2``: the angle of the point (x2, x1).")
logaddexp = _binary(T.logaddexp, "``log(exp(x1) + exp(x2))`` without overflow (NumPy).")
logaddexp2 = _binary(T.logaddexp2, "``log2(2**x1 + 2**x2)`` without overflow (NumPy).")
fmax = _binary(E.fmax, "NumPy ``fmax``: the maximum ignoring NaN; gradient as ``maximum``.")
fmin = _binary(E.fmin, "NumPy ``fmin``: the minimum ignoring NaN; gradient as ``minimum``.")
log_sigmoid = _unary(E.log_sigmoid, "``log(sigmoid(x)) = -logaddexp(0, -x)``, exact in both tails.")
power = _binary(E.power, "Elementwise NumPy ``power`` (``x1 ** x2``).")
maximum, minimum, greater, less, equal = map(
    _binary, [E.maximum, E.minimum, E.greater, E.less, E.equal])
(sinc, trunc, isfinite, isnan, isinf, signbit) = map(
    _unary, [T.sinc, E.trunc, E.isfinite, E.isnan, E.isinf, E.signbit])
remainder = _binary(T.remainder, "NumPy ``remainder``/``mod`` (Python's ``%``): the sign "
                    "of ``x2``; gradient 1 wrt x1 and ``-floor(x1 / x2)`` wrt x2.")
mod = remainder
command_line(name="mod", x1="node", x2="node")(remainder)
fmod = _binary(T.fmod, "NumPy ``fmod`` (C's): the sign of ``x1``; gradient 1 wrt x1 and "
                       "``-trunc(x1 / x2)`` wrt x2.")
floor_divide = _binary(E.floor_divide, "NumPy ``floor_divide`` (``//``); its derivative is 0.")
copysign = _binary(T.copysign, "NumPy ``copysign``: ``|x1|`` with the sign of ``x2``.")
heaviside = _binary(T.heaviside, "NumPy ``heaviside``: 0 below 0, ``x2`` at 0, 1 above.")
del E, T, L


def divmod(x1, x2):  # noqa: A001  (NumPy's name)
    """NumPy ``divmod``: ``(floor_divide(x1, x2), remainder(x1, x2))`` as two nodes."""
    return floor_divide(x1, x2), remainder(x1, x2)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NumPy ``nan_to_num``: NaN -> ``nan``, ±inf -> ``posinf``/``neginf`` (default the
    largest/smallest finite float); derivative 1 where ``x`` is finite, else 0.
    ``copy`` has no meaning for an immutable node."""
    return transcendental.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def select(condlist, choicelist, default=0):
    """NumPy ``select``: the choice of the first true condition, else ``default``,
    as nested ``where`` nodes (so each choice gets the gradient where it is chosen)."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions "
                         f"(got {len(choicelist)} choices, {len(condlist)} conditions)")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    result = as_node(default)
    for i in reversed(range(len(condlist))):
        cond = as_node(condlist[i])
        if cond.dtype != "bool":
            raise TypeError(f"select: invalid entry {i} in condlist: should be boolean, got "
                            f"{cond.dtype} ({describe(cond)})")
        result = elementwise.where(cond, choicelist[i], result)
    return result

@command_line(condition="node", x="node", y="node")
def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y`` (``condition`` a boolean node, e.g.
    ``x > 0``; a number or int condition is read as ``condition != 0``, as NumPy).
    NumPy's one-argument ``where(condition)`` (the indices of the true entries) has a
    data-dependent shape and is refused."""
    condition = as_node(condition)
    if condition.dtype != "bool":
        condition = elementwise.not_equal(condition, 0)
    return elementwise.where(condition, x, y)


def round(a, decimals=0):  # noqa: A001
    """NumPy ``round``/``around`` (half to even); its derivative is 0."""
    return elementwise.round_(a, decimals=decimals)


around = round


_NO_VALUE = object()  # NumPy's "not given" for clip's bounds (None means "no bound")


def clip(a, a_min=_NO_VALUE, a_max=_NO_VALUE, out=None, *, min=_NO_VALUE, max=_NO_VALUE):  # noqa: A002
    """NumPy ``clip``: ``minimum(maximum(a, a_min), a_max)``; the gradient is 1 inside
    the bounds, 0 outside, and at a bound follows ``maximum``/``minimum`` (to ``a``).
    ``min``/``max`` are NumPy 2.1's keyword names of the bounds (give one name each)."""
    _no_buffers("clip", None, out)
    a_min, a_max = (_one_bound(name, positional, keyword) for name, positional, keyword in
                    (("min", a_min, min), ("max", a_max, max)))
    if a_min is None and a_max is None:  # NumPy 2.1+: no bound, ``a`` unchanged
        return as_node(a)
    result = a if a_min is None else elementwise.maximum(a, a_min)
    return result if a_max is None else elementwise.minimum(result, a_max)


def _one_bound(name: str, positional, keyword):
    """The bound given positionally (``a_min``) or by keyword (``min``), not both."""
    if positional is not _NO_VALUE and keyword is not _NO_VALUE:
        raise TypeError(f"clip: passing both a_{name} and {name} is not allowed")
    bound = keyword if positional is _NO_VALUE else positional
    return None if bound is _NO_VALUE else bound


def astype(x, dtype, copy=True, device=None):
    """NumPy 2's ``astype(x, dtype)``: ``x`` cast to float64, int64 or bool (no gradient;
    a cast to ``x``'s own dtype is ``x``). ``copy`` and ``device`` have no meaning here."""
    return elementwise.astype(x, dtype=dtype)


@command_line(a="node", axis="axis", keepdims="bool")
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True):  # noqa: A001
    """NumPy ``sum``: the sum over ``axis`` (None: every axis), ``keepdims`` as in NumPy;
    ``initial`` is added to the result; ``where`` (a boolean mask) leaves entries out."""
    a = _masked("sum", _accumulated("sum", a, dtype, out), where, 0)
    total = reductions.sum_(a, axis=axis, keepdims=keepdims)
    return total if _is_zero(initial) else total + initial


def max(a, axis=None, out=None, keepdims=False, initial=None):  # noqa: A001
    """NumPy ``max``/``amax``: the largest entry along ``axis``; tied maxima share the
    gradient equally (JAX's convention). ``initial`` is a lower bound of the result."""
    _no_buffers("max", None, out)
    largest = reductions.max_(a, axis=axis, keepdims=keepdims)
    return largest if initial is None else elementwise.maximum(largest, initial)


def min(a, axis=None, out=None, keepdims=False, initial=None):  # noqa: A001
    """NumPy ``min``/``amin``: the smallest entry along ``axis``; ties share the gradient.
    ``initial`` is an upper bound of the result."""
    _no_buffers("min", None, out)
    smallest = reductions.min_(a, axis=axis, keepdims=keepdims)
    return smallest if initial is None else elementwise.minimum(smallest, initial)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """NumPy ``mean``: the sum over ``axis`` divided by the (possibly named) count;
    ``where`` (a boolean mask): the mean of the entries it selects."""
    _no_buffers("mean", dtype, out)
    if where is True:
        return reductions.mean(a, axis=axis, keepdims=keepdims)
    a = as_node(a)
    count = _masked("mean", structure.broadcast_to_op(1.0, shape=a.shape), where, 0.0)
    return (reductions.sum_(_masked("mean", a, where, 0), axis=axis, keepdims=keepdims)
            / reductions.sum_(count, axis=axis, keepdims=keepdims))


def _is_zero(value) -> bool:
    """Whether ``value`` is the plain number 0 (an ``initial`` that changes nothing)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


amax, amin = max, min


@command_line(a="node", axes="ints")
def transpose(a, axes=None):
    """NumPy ``transpose``: axes reversed, or permuted as ``axes`` says."""
    return structure.transpose(a, axes=axes)


@command_line(a="node", shape="shape")
def reshape(a, shape, order="C", *, copy=None):
    """NumPy ``reshape`` (C or F order; one ``-1`` is inferred); named dimensions may be kept.
    ``copy`` has no meaning for an immutable node."""
    if order == "F":  # Fortran order: reshape the transpose, transpose back
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        flipped = structure.reshape(structure.transpose(as_node(a)), shape=shape[::-1])
        return structure.transpose(flipped)
    if order != "C":
        raise ValueError(f"reshape: order must be 'C' or 'F', got {order!r}")
    return structure.reshape(a, shape=shape)


def broadcast_to(array, shape, subok=False):
    """NumPy ``broadcast_to``: ``array`` repeated to ``shape`` (gradient: summed back)."""
    return structure.broadcast_to_op(array, shape=shape)


@command_line(arrays="nodes", axis="int")
def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """NumPy ``concatenate``: join nodes along an existing axis (sizes along it must be
    ints); ``axis=None`` joins the flattened nodes."""
    _no_buffers("concatenate", dtype, out)
    if not isinstance(arrays, (list, tuple)):
        raise TypeError("concatenate takes a list or tuple of nodes")
    if axis is None:
        arrays, axis = [structure.reshape(as_node(x), shape=(-1,)) for x in arrays], 0
    return structure.concatenate(*arrays, axis=axis)


@command_line(arrays="nodes", axis="int")
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """NumPy ``stack``: join nodes of equal shape along a new axis."""
    _no_buffers("stack", dtype, out)
    xs = [as_node(x) for x in arrays]
    if not xs:
        raise ValueError("stack needs at least one node")
    shape = xs[0].shape
    if not -len(shape) - 1 <= axis <= len(shape):
        raise AxisError(f"stack({describe(xs[0])}, ...): axis {axis} is out of bounds for "
                        f"result of ndim {len(shape) + 1}")
    for x in xs[1:]:
        if x.shape != shape:  # else the reshape below would silently reorder entries
            raise ShapeError(f"stack({', '.join(describe(x) for x in xs)}): all input arrays "
                             "must have the same shape")
    axis = axis % (len(shape) + 1)
    expanded = shape[:axis] + (1,) + shape[axis:]
    return concatenate([reshape(x, expanded) for x in xs], axis=axis)


@command_line(N="dim")
def eye(N, M=None, k=0, dtype=float):
    """NumPy ``eye``: ones on diagonal ``k`` of an N x M matrix (M defaults to N; an int
    or a dimension name when square with ``k = 0``)."""
    _no_buffers("eye", dtype)
    if (M is None or M == N) and k == 0:
        return structure.eye(n=N)
    return as_node(np.eye(N, M, k))


def zeros(shape, dtype=float, order="C"):
    """NumPy ``zeros``: a constant array of ``shape``, which may name dimensions."""
    shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
    return structure.zeros_op(shape=shape, dtype=as_dtype(dtype).name)


def slogdet(a):
    """NumPy ``linalg.slogdet``: (sign, log|det a|) as two nodes; the sign is not
    differentiated, ``d log|det A| / dA = A⁻ᵀ``."""
    return _SlogdetResult(linalg_ops.det_sign(a), linalg_ops.logabsdet(a))


_SlogdetResult = _namedtuple("SlogdetResult", ["sign", "logabsdet"])  # NumPy's result type


def solve(a, b):
    """x with a @ x = b, by LU (never inv(a) @ b)."""
    return linalg_ops.solve(a, b)


@command_line(x="node", axis="axis")
def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``, shifted by the maximum (never overflows); SciPy's ``softmax``."""
    return reductions.softmax(x, axis=axis)


@command_line(x="node", axis="axis")
def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis, keepdims=True)``: log of ``softmax``, accurate in the tails."""
    return reductions.log_softmax(x, axis=axis)


@command_line(labels="node", k="dim")
def one_hot(labels, k):
    """Float rows of the k x k identity picked by integer ``labels``."""
    return structure.one_hot(labels, k=k)


# Products of any rank (symgrad.ops.products; their 2-D forms are the 2-D ops).
from ..ops.products import (cross, diag, diagonal, dot, einsum, inner, kron, matmul,  # noqa: E402,F401
                           outer, tensordot, trace, vdot, vecdot)
from .reductions import (argmax, argmin, average, count_nonzero, cumprod,  # noqa: E402
                               cumsum, diff, logsumexp, prod, std, var)

# The hook the nodes' methods and NumPy's protocols read: every public function here.
NUMPY_FUNCTIONS.update({name: value for name, value in globals().items()
                        if callable(value) and not name.startswith("_")
                        and value not in (as_node, describe, NUMPY_FUNCTIONS)})
# numpy.linalg's functions whose conventions differ from the top-level ones of the same
# name (last two axes): what ``np.linalg.trace(node)`` dispatches to.
NUMPY_FUNCTIONS.update({"linalg." + f.__name__.replace("linalg_", ""): f for f in (
    products.linalg_trace, products.linalg_diagonal, products.linalg_cross,
    products.linalg_outer)})
