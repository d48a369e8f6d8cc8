"""The NumPy-named functions of the public API: thin wrappers over the op records.

They give each op its NumPy signature (positional attributes, defaults) and
add the few composites that need no op of their own (``mean``, ``dot``).
"""
from __future__ import annotations

from .graph import NUMPY_FUNCTIONS, REGISTRY, as_node
from .ops.elementwise import log_sigmoid, square  # noqa: F401  (re-exported)
from .ops.linalg import dot  # noqa: F401
from .ops.reductions import mean  # noqa: F401


def _named(apply, name: str, doc: str | None):
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc or f"Elementwise NumPy ``{name}`` as a graph node."
    return apply


def _unary(name: str, doc: str | None = None):
    """The NumPy function ``name(x)``: the op of that name."""
    op = REGISTRY[name]
    return _named(lambda x: op(x), name, doc)


def _binary(name: str, doc: str | None = None):
    """The NumPy function ``name(x1, x2)``: the op of that name."""
    op = REGISTRY[name]
    return _named(lambda x1, x2: op(x1, x2), name, doc)


exp, log, log1p, sqrt, abs, sin, cos, tanh = map(  # noqa: A001
    _unary, ["exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh"])
sigmoid, relu, softplus, sign = map(_unary, ["sigmoid", "relu", "softplus", "sign"])
trace, det, logdet, inv, norm, diag = map(_unary, ["trace", "det", "logdet", "inv", "norm", "diag"])
(tan, arcsin, arccos, arctan, sinh, cosh, arcsinh, arccosh, arctanh, exp2, expm1, log2, log10,
 reciprocal, deg2rad, rad2deg) = map(_unary, [
    "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "exp2",
    "expm1", "log2", "log10", "reciprocal", "deg2rad", "rad2deg"])
floor = _unary("floor", "Elementwise NumPy ``floor``; its derivative is 0 (between the jumps).")
ceil = _unary("ceil", "Elementwise NumPy ``ceil``; its derivative is 0 (between the jumps).")
arctan2 = _binary("arctan2", "Elementwise NumPy ``arctan2``: the angle of the point (x2, x1).")
logaddexp = _binary("logaddexp", "``log(exp(x1) + exp(x2))`` without overflow (NumPy).")
logaddexp2 = _binary("logaddexp2", "``log2(2**x1 + 2**x2)`` without overflow (NumPy).")
fmax = _binary("fmax", "NumPy ``fmax``: the maximum ignoring NaN; gradient as ``maximum``.")
fmin = _binary("fmin", "NumPy ``fmin``: the minimum ignoring NaN; gradient as ``minimum``.")
power = _binary("power", "Elementwise NumPy ``power`` (``x1 ** x2``).")
maximum, minimum, greater, less, equal = map(
    _binary, ["maximum", "minimum", "greater", "less", "equal"])


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b`` (``cond`` a boolean node, e.g. ``x > 0``)."""
    return REGISTRY["where"](cond, a, b)


def round(a, decimals=0):  # noqa: A001
    """NumPy ``round``/``around`` (half to even); its derivative is 0."""
    return REGISTRY["round"](a, decimals=decimals)


around = round


def clip(a, a_min, a_max):
    """NumPy ``clip``: ``minimum(maximum(a, a_min), a_max)``; the gradient is 1 inside
    the bounds, 0 outside, and at a bound follows ``maximum``/``minimum`` (to ``a``)."""
    result = a if a_min is None else REGISTRY["maximum"](a, a_min)
    return result if a_max is None else REGISTRY["minimum"](result, a_max)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return REGISTRY["sum"](x, axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):  # noqa: A001
    """NumPy ``max``/``amax``: the largest entry along ``axis``; tied maxima share the
    gradient equally (JAX's convention)."""
    return REGISTRY["max"](a, axis=axis, keepdims=keepdims)


def min(a, axis=None, keepdims=False):  # noqa: A001
    """NumPy ``min``/``amin``: the smallest entry along ``axis``; ties share the gradient."""
    return REGISTRY["min"](a, axis=axis, keepdims=keepdims)


amax, amin = max, min


def outer(a, b):
    return REGISTRY["outer"](a, b)


def matmul(a, b):
    return REGISTRY["matmul"](a, b)


def transpose(x, axes=None):
    return REGISTRY["transpose"](x, axes=axes)


def reshape(x, shape):
    return REGISTRY["reshape"](x, shape=shape)


def broadcast_to(x, shape):
    return REGISTRY["broadcast_to"](x, shape=shape)


def concatenate(xs, axis=0):
    """Join nodes along an existing axis (sizes along it must be ints)."""
    if not isinstance(xs, (list, tuple)):
        raise TypeError("concatenate takes a list or tuple of nodes")
    return REGISTRY["concatenate"](*xs, axis=axis)


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
    return REGISTRY["eye"](n=n)


def zeros(shape):
    return REGISTRY["zeros"](shape=tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))


def slogdet(a):
    """NumPy ``linalg.slogdet``: (sign, log|det a|) as two nodes; the sign is not
    differentiated, ``d log|det A| / dA = A⁻ᵀ``."""
    return REGISTRY["det_sign"](a), REGISTRY["logabsdet"](a)


def solve(a, b):
    """x with a @ x = b, by LU (never inv(a) @ b)."""
    return REGISTRY["solve"](a, b)


def softmax(x, axis=-1):
    return REGISTRY["softmax"](x, axis=axis)


def log_softmax(x, axis=-1):
    return REGISTRY["log_softmax"](x, axis=axis)


def logsumexp(x, axis=None, keepdims=False):
    return REGISTRY["logsumexp"](x, axis=axis, keepdims=keepdims)


def one_hot(labels, k):
    """Float rows of the k x k identity picked by integer ``labels``."""
    return REGISTRY["one_hot"](labels, k=k)


# The hook the nodes' methods and NumPy's protocols read: every public function here.
NUMPY_FUNCTIONS.update({name: value for name, value in globals().items()
                        if callable(value) and not name.startswith("_")
                        and value not in (as_node, NUMPY_FUNCTIONS)})
