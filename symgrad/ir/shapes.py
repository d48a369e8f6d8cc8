"""Shapes whose dimensions are ints or names: pure functions on tuples.

A dimension is a non-negative ``int`` or a dimension name (``str``). Names are
symbolic sizes bound only when a compiled function is called. Two dimensions
unify only when they are equal, or when one of them is the int ``1`` under
broadcasting: a name never silently becomes a number, and two different names
never silently become one.
"""
from __future__ import annotations

import math
import operator
from typing import Iterable, Sequence, Union

Dim = Union[int, str]
Shape = tuple


class ShapeError(ValueError):
    """Shapes of operands contradict each other (raised at build time)."""


def normalize_dim(dim) -> Dim:
    """Validate one dimension: a non-negative int or a non-empty name."""
    if isinstance(dim, bool):
        raise TypeError(f"dimension {dim!r} is a bool; use an int or a name")
    if isinstance(dim, str):
        if not dim:
            raise ValueError("a dimension name must be a non-empty string")
        return dim
    try:
        size = operator.index(dim)  # a plain int: an int subclass's own __index__ never runs
    except TypeError:
        raise TypeError(f"dimension {dim!r} must be an int or a name (str)") from None
    if size < 0:
        raise ValueError(f"dimension {size} is negative")
    return size


def normalize_shape(shape) -> Shape:
    """A shape tuple from an int, a name or a sequence of them."""
    if isinstance(shape, (int, str)) and not isinstance(shape, bool):
        shape = (shape,)
    return tuple(normalize_dim(d) for d in shape)


def format_shape(shape: Shape) -> str:
    if not shape:
        return "()"  # scalars: most inputs of deep scalar graphs (one per name in a docstring)
    inner = ", ".join(str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def is_concrete(shape: Shape) -> bool:
    return all(isinstance(d, int) for d in shape)


def dim_names(shape: Shape) -> tuple:
    return tuple(d for d in shape if isinstance(d, str))


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy broadcasting of shapes with named dimensions; ShapeError on conflict."""
    if shapes and all(s == shapes[0] for s in shapes):  # the common case, fast
        return tuple(shapes[0])
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(ndim):
        dims = [s[len(s) - ndim + axis] for s in shapes if len(s) - ndim + axis >= 0]
        chosen: Dim = 1
        for d in dims:
            if d == 1 or d == chosen:
                continue
            if chosen == 1:
                chosen = d
            else:
                raise ShapeError(f"dimension {chosen!r} does not match {d!r}")
        result.append(chosen)
    return tuple(result)


def unify_dims(a: Dim, b: Dim, what: str = "") -> Dim:
    """Two dims that must be equal (matmul inner dims, trace of a square)."""
    if a != b:
        where = f" ({what})" if what else ""
        raise ShapeError(f"dimension {a!r} does not match {b!r}{where}")
    return a


def normalize_axis(axis: int, ndim: int) -> int:
    """``axis`` as a plain non-negative int (an int subclass never reaches generated source)."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"axis {axis!r} must be an int, got {type(axis).__name__}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ShapeError(f"axis {axis} is out of bounds for rank {ndim}")
    return axis % ndim


def normalize_axes(axis, ndim: int) -> tuple:
    """None means all axes; an int or a sequence of ints becomes a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int) and not isinstance(axis, bool):
        axis = (axis,)
    if not isinstance(axis, (tuple, list)):
        raise TypeError(f"axis must be None, an int or a tuple of ints, got "
                        f"{type(axis).__name__} {axis!r}")
    axes = [normalize_axis(a, ndim) for a in axis]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"duplicate value in axis {tuple(axis)} (as NumPy raises)")
    return tuple(sorted(axes))


def symbolic_size(shape: Shape) -> tuple:
    """(product of int dims, sorted names): equal for equal sizes."""
    return (math.prod(d for d in shape if isinstance(d, int)),
            tuple(sorted(dim_names(shape))))


def bind_dims(declared: Shape, actual: Sequence[int], bindings: dict, who: str) -> None:
    """Check a concrete shape against a declared one, binding names in ``bindings``.

    ``bindings`` maps a dimension name to ``(size, who_bound_it)``.
    """
    if len(declared) != len(actual):
        raise ValueError(f"{who} must have rank {len(declared)} (shape {format_shape(declared)}), "
                         f"got shape {tuple(actual)}")
    for axis, (want, got) in enumerate(zip(declared, actual)):
        if isinstance(want, int):
            if want != got:
                raise ValueError(f"{who} has shape {tuple(actual)} but is declared "
                                 f"{format_shape(declared)}: axis {axis} must be {want}")
        elif want in bindings:
            size, other = bindings[want]
            if size != got:
                raise ValueError(f"{who} has {want}={got} (shape {tuple(actual)}) but {other} "
                                 f"has {want}={size}")
        else:
            bindings[want] = (got, f"{who} (shape {tuple(actual)})")


def substitute(shape: Shape, sizes: dict) -> tuple:
    """Concrete shape from a symbolic one and a name -> int mapping."""
    return tuple(sizes[d] if isinstance(d, str) else d for d in shape)


def all_names(shapes: Iterable[Shape]) -> list:
    """Dimension names in first-seen order."""
    seen: dict = {}
    for shape in shapes:
        for d in dim_names(shape):
            seen.setdefault(d, None)
    return list(seen)
