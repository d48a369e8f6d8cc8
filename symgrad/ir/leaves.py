"""The leaves of every graph: named inputs and constants.

``tensor``/``scalar``/``vector``/``matrix`` build input nodes (interned by
name, shape and dtype), ``constant`` and ``as_node`` constant nodes (interned
by dtype, shape and bytes, with a fast index for Python numbers). Split from
:mod:`symgrad.ir.graph`, which re-exports every name here.
"""
from __future__ import annotations

import struct

import numpy as np

from .graph import AS_NODE, DTYPES, LEAF_OPS, Node, _forgetter, _Ref
from .shapes import count_dims, format_shape, normalize_shape

#: Constants built from Python numbers, keyed by (type, exact value): a weak
#: index in front of the intern table, whose ConstValue key (an array copy and its
#: bytes) costs ~7 µs to build; VJP rules use ``1.0 - out`` and the like per node.
_NUMBERS: dict = {}
_DOUBLE_BITS = struct.Struct("<d").pack  # tells 0.0 from -0.0; a NaN matches itself
_forget_number = _forgetter(_NUMBERS)


def _remember(key, node: Node) -> None:
    """``_NUMBERS[key]`` = a weak reference to ``node``, removed when it dies."""
    ref = _Ref(node, _forget_number)
    ref.key = key
    _NUMBERS[key] = ref


class ConstValue:
    """A constant's array, hashed and compared by (dtype, shape, bytes)."""

    __slots__ = ("array", "key")

    def __init__(self, array: np.ndarray):
        array = np.array(array, copy=True)
        array.flags.writeable = False
        self.array = array
        self.key = (array.dtype.str, array.shape, array.tobytes())

    def __eq__(self, other):
        return isinstance(other, ConstValue) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return repr(self.array)

    def __reduce__(self):
        return (ConstValue, (self.array,))


_INT64_MAX = np.iinfo(np.int64).max


def _as_array(value) -> np.ndarray:
    """``value`` as a bool, int64 or float64 array. Integers beyond int64 (a Python
    ``2**63``, a uint64 ``2**63``) become float64, their nearest value: an int64 cast
    would wrap them to negative numbers."""
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind == "b":
        return array
    if kind == "u" and array.size and array.max() > _INT64_MAX:
        return array.astype(np.float64)
    if kind in "iu":
        return array.astype(np.int64)
    if kind == "O" and all(type(v) is int for v in array.flat):  # Python ints of any size
        return array.astype(np.float64)
    if kind == "f":
        return _as_float64(array)
    raise TypeError(f"cannot make a symgrad constant from {type(value).__name__} of dtype {array.dtype}")


def _as_float64(array: np.ndarray) -> np.ndarray:
    """A float array as float64; a wider float (longdouble) with a finite value
    beyond float64's range raises instead of silently becoming inf."""
    with np.errstate(over="ignore"):
        result = array.astype(np.float64)
    if array.dtype.itemsize > 8 and not np.array_equal(np.isfinite(result), np.isfinite(array)):
        bad = array[np.isfinite(array) & ~np.isfinite(result)].flat[0]
        raise ValueError(f"constant value {bad!r} ({array.dtype}) is outside float64's range "
                         f"(max {np.finfo(np.float64).max:.6g}): it would become inf")
    return result


def constant(value) -> Node:
    """A constant node from a Python number or NumPy array (interned by value)."""
    kind = type(value)
    if kind is float or kind is int or kind is bool:
        key = (kind, _DOUBLE_BITS(value) if kind is float else value)
        ref = _NUMBERS.get(key)
        node = ref() if ref is not None else None
        if node is None:
            node = LEAF_OPS.constant(value=ConstValue(_as_array(value)))
            _remember(key, node)
        return node
    if isinstance(value, Node):
        return value
    return LEAF_OPS.constant(value=ConstValue(_as_array(value)))


#: ``NESTED["build"](sequence)`` stacks a (nested) list or tuple holding nodes into one
#: node, as ``np.array`` would (``sg.mean([x, x + 2])``): set by :mod:`symgrad.api.shaping`,
#: a hook so this module never imports the layer built on it.
NESTED: dict = {}


def _holds_node(value) -> bool:
    return isinstance(value, Node) or (
        isinstance(value, (list, tuple)) and any(_holds_node(v) for v in value))


def as_node(value) -> Node:
    if isinstance(value, Node):
        return value
    if isinstance(value, (list, tuple)) and "build" in NESTED and _holds_node(value):
        return NESTED["build"](value)
    if isinstance(value, (int, float, bool, np.ndarray, np.generic, list, tuple)):
        return constant(value)
    raise TypeError(f"cannot use {type(value).__name__} {value!r:.40} as a symgrad node")


def check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"an input name must be a str, got {type(name).__name__}")
    if not name:
        raise ValueError("an input name must be a non-empty string")
    return name


def tensor(name: str, shape=(), dtype: str = "float64") -> Node:
    """An input of any rank; ``shape`` entries are ints or dimension names."""
    dtype = np.dtype(dtype).name
    if dtype not in DTYPES:
        raise TypeError(f"input {name!r}: dtype {dtype} is not one of {DTYPES}")
    shape = normalize_shape(shape)
    if count_dims(shape):
        raise ValueError(f"input {name!r}: the size {count_dims(shape)[0]} is a boolean mask's "
                         "count, known only from the mask's values; declare a dimension name "
                         "instead (an input cannot be checked against a count)")
    return LEAF_OPS.input(name=check_name(name), shape=shape, dtype=dtype)


def scalar(name: str, dtype: str = "float64") -> Node:
    """A 0-d input node named ``name`` (dtype float64, int64 or bool)."""
    return tensor(name, (), dtype)


def vector(name: str, n, dtype: str = "float64") -> Node:
    """A 1-d input node of length ``n``: an int or a dimension name (bound at call time)."""
    return tensor(name, (n,), dtype)


def matrix(name: str, shape, dtype: str = "float64", symmetric: bool = False,
           positive_definite: bool = False) -> Node:
    """A 2-d input node of ``shape``: two ints or dimension names, e.g. ``("n", 3)``.

    ``symmetric=True`` declares the values symmetric, ``positive_definite=True``
    symmetric positive definite (so ``logdet``/``solve``/``inv`` of it compile to
    Cholesky). The declaration is trusted, not checked at call time. Gradients
    with respect to a symmetric input are symmetric: ``(G + Gᵀ) / 2`` of the
    unconstrained gradient ``G`` (see docs/design.md).
    """
    shape = normalize_shape(shape)
    if len(shape) != 2:
        raise ValueError(f"matrix {name!r} needs a 2-d shape, got {format_shape(shape)}")
    node = tensor(name, shape, dtype)
    if not (symmetric or positive_definite):
        return node
    if shape[0] != shape[1] or node.dtype != "float64":
        raise ValueError(f"matrix {name!r}: only a square float64 matrix can be declared "
                         f"symmetric or positive definite, got {format_shape(shape)} {node.dtype}")
    structure = "positive_definite" if positive_definite else "symmetric"
    return LEAF_OPS.input(name=node.name, shape=shape, dtype=node.dtype, structure=structure)


AS_NODE.append(as_node)  # what Op.__call__ converts non-node operands with
