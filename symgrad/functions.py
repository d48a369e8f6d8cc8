"""The NumPy-named functions of the public API: thin wrappers over the op records.

They give each op its NumPy signature (positional attributes, defaults) and
add the few composites that need no op of their own (``mean``, ``dot``).
"""
from __future__ import annotations

from collections import namedtuple as _namedtuple

from .graph import NUMPY_FUNCTIONS, as_node
from .ops import elementwise, linalg as linalg_ops, reductions, structure, transcendental
from .ops.elementwise import log_sigmoid, square  # noqa: F401  (re-exported)
from .ops.linalg import dot  # noqa: F401
from .ops.reductions import mean  # noqa: F401


def _named(apply, name: str, doc: str | None):
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc or f"Elementwise NumPy ``{name}`` as a graph node."
    return apply


def _unary(op, doc: str | None = None):
    """The NumPy function ``name(x)`` for an op record of that name."""
    return _named(lambda x: op(x), op.name, doc)


def _binary(op, doc: str | None = None):
    """The NumPy function ``name(x1, x2)`` for an op record of that name."""
    return _named(lambda x1, x2: op(x1, x2), op.name, doc)


E, T, L = elementwise, transcendental, linalg_ops
exp, log, log1p, sqrt, abs, sin, cos, tanh = map(  # noqa: A001
    _unary, [E.exp, E.log, E.log1p, E.sqrt, E.abs_, E.sin, E.cos, E.tanh])
sigmoid, relu, softplus, sign = map(_unary, [E.sigmoid, E.relu, E.softplus, E.sign])
trace, det, logdet, inv, norm = map(_unary, [L.trace, L.det, L.logdet, L.inv, L.norm])
diag = _unary(structure.diag)
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
power = _binary(E.power, "Elementwise NumPy ``power`` (``x1 ** x2``).")
maximum, minimum, greater, less, equal = map(
    _binary, [E.maximum, E.minimum, E.greater, E.less, E.equal])
del E, T, L

def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b`` (``cond`` a boolean node, e.g. ``x > 0``)."""
    return elementwise.where(cond, a, b)


def round(a, decimals=0):  # noqa: A001
    """NumPy ``round``/``around`` (half to even); its derivative is 0."""
    return elementwise.round_(a, decimals=decimals)


around = round


def clip(a, a_min, a_max):
    """NumPy ``clip``: ``minimum(maximum(a, a_min), a_max)``; the gradient is 1 inside
    the bounds, 0 outside, and at a bound follows ``maximum``/``minimum`` (to ``a``)."""
    result = a if a_min is None else elementwise.maximum(a, a_min)
    return result if a_max is None else elementwise.minimum(result, a_max)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return reductions.sum_(x, axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):  # noqa: A001
    """NumPy ``max``/``amax``: the largest entry along ``axis``; tied maxima share the
    gradient equally (JAX's convention)."""
    return reductions.max_(a, axis=axis, keepdims=keepdims)


def min(a, axis=None, keepdims=False):  # noqa: A001
    """NumPy ``min``/``amin``: the smallest entry along ``axis``; ties share the gradient."""
    return reductions.min_(a, axis=axis, keepdims=keepdims)


amax, amin = max, min


def outer(a, b):
    return linalg_ops.outer(a, b)


def matmul(a, b):
    return linalg_ops.matmul(a, b)


def transpose(x, axes=None):
    return structure.transpose(x, axes=axes)


def reshape(x, shape):
    return structure.reshape(x, shape=shape)


def broadcast_to(x, shape):
    return structure.broadcast_to_op(x, shape=shape)


def concatenate(xs, axis=0):
    """Join nodes along an existing axis (sizes along it must be ints)."""
    if not isinstance(xs, (list, tuple)):
        raise TypeError("concatenate takes a list or tuple of nodes")
    return structure.concatenate(*xs, axis=axis)


def stack(xs, axis=0):
    """Join nodes of equal shape along a new axis."""
    xs = [as_node(x) for x in xs]
    if not xs:
        raise ValueError("stack needs at least one node")
    shape = xs[0].shape
    if not -len(shape) - 1 <= axis <= len(shape):
        raise ValueError(f"stack: axis {axis} is out of bounds for result of "
                         f"ndim {len(shape) + 1} (operand shape {shape})")
    axis = axis % (len(shape) + 1)
    expanded = shape[:axis] + (1,) + shape[axis:]
    return concatenate([reshape(x, expanded) for x in xs], axis=axis)


def eye(n):
    """The n x n identity (n an int or a dimension name)."""
    return structure.eye(n=n)


def zeros(shape):
    return structure.zeros_op(shape=tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))


def slogdet(a):
    """NumPy ``linalg.slogdet``: (sign, log|det a|) as two nodes; the sign is not
    differentiated, ``d log|det A| / dA = A⁻ᵀ``."""
    return _SlogdetResult(linalg_ops.det_sign(a), linalg_ops.logabsdet(a))


_SlogdetResult = _namedtuple("SlogdetResult", ["sign", "logabsdet"])  # NumPy's result type


def solve(a, b):
    """x with a @ x = b, by LU (never inv(a) @ b)."""
    return linalg_ops.solve(a, b)


def softmax(x, axis=-1):
    return reductions.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return reductions.log_softmax(x, axis=axis)


def logsumexp(x, axis=None, keepdims=False):
    return reductions.logsumexp(x, axis=axis, keepdims=keepdims)


def one_hot(labels, k):
    """Float rows of the k x k identity picked by integer ``labels``."""
    return structure.one_hot(labels, k=k)


# The hook the nodes' methods and NumPy's protocols read: every public function here.
NUMPY_FUNCTIONS.update({name: value for name, value in globals().items()
                        if callable(value) and not name.startswith("_")
                        and value not in (as_node, NUMPY_FUNCTIONS)})
