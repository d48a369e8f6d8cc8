"""Shapes whose dimensions are ints or names: pure functions on tuples.

A dimension is a non-negative ``int``, a dimension name (``str``), or a
:class:`Size` derived from names (``n-1`` for ``x[1:]``, ``3*n`` for ``ravel`` of
``(n, 3)``): an integer polynomial in the names, itself a ``str`` (its canonical
text), so code that treats any ``str`` as symbolic keeps working. Names are
symbolic sizes bound only when a compiled function is called. Two dimensions
unify only when they are equal, or when one of them is the int ``1`` under
broadcasting: a name never silently becomes a number, and two different names
never silently become one.
"""
from __future__ import annotations

import math
import operator
from typing import Iterable, Sequence, Union

import numpy as np

Dim = Union[int, str]
Shape = tuple


class ShapeError(ValueError):
    """Shapes of operands contradict each other (raised at build time)."""


class AxisError(ShapeError, np.exceptions.AxisError):
    """An axis out of bounds or repeated: a ShapeError that is also NumPy's AxisError
    (so ``except IndexError`` catches it, as for NumPy's)."""

    def __init__(self, message: str):
        ShapeError.__init__(self, message)

    def __str__(self):
        return self.args[0]


class _Derived(str):
    """A symbolic size of symgrad's own: equal only to one of its kind with the same key
    (never to a plain name, though its text may read the same)."""

    key: tuple = ()

    def __eq__(self, other):
        return type(other) is type(self) and self.key == other.key

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


class Size(_Derived):
    """A size derived from dimension names: an integer polynomial in them, e.g.
    ``n-1``, ``2*n``, ``n*m+3``. Its text is canonical, so equal sizes are equal
    strings; it is never equal to a plain name. Build with :func:`make_dim`."""

    def __new__(cls, terms: dict):
        items = tuple(sorted(terms.items(), key=lambda t: (-len(t[0]), t[0])))
        parts = []
        for monomial, c in items:
            body = "*".join(monomial)
            text = str(abs(c)) if not monomial else (body if abs(c) == 1 else f"{abs(c)}*{body}")
            parts.append(("-" if c < 0 else "+") + text)
        self = super().__new__(cls, "".join(parts).lstrip("+"))
        self.terms = self.key = items
        return self

    def __reduce__(self):
        return (Size, (dict(self.terms),))

    @property
    def names(self) -> tuple:
        return tuple(dict.fromkeys(n for monomial, _ in self.terms for n in monomial
                                   if not isinstance(n, Count)))

    def evaluate(self, sizes: dict) -> int:
        return sum(c * math.prod(sizes[n] for n in monomial) for monomial, c in self.terms)

    def source(self, name_source) -> str:
        """Python source of the size, each name read by ``name_source(name)``."""
        parts = []
        for monomial, c in self.terms:
            factors = [name_source(n) for n in monomial]
            if abs(c) != 1 or not factors:
                factors.insert(0, str(abs(c)))
            parts.append(("- " if c < 0 else "+ ") + " * ".join(factors))
        text = " ".join(parts)
        return "(" + (text[2:] if text.startswith("+ ") else "-" + text[2:]) + ")"


class Count(_Derived):
    """The number of True entries of a boolean input (``x[m]``'s length): a size known
    only at call time, read off the mask (``nnz(m)``). It equals only the count of the
    same input (name and shape), never a plain name; it depends on no dimension name."""

    def __new__(cls, name: str, shape: tuple):
        self = super().__new__(cls, f"nnz({name})")
        self.key = (name, tuple(shape))
        return self

    def __reduce__(self):
        return (Count, self.key)

    names = ()


def _terms(dim) -> dict:
    if isinstance(dim, Size):
        return dict(dim.terms)
    if isinstance(dim, str):
        return {(dim,): 1}
    return {(): int(dim)} if dim else {}


def make_dim(terms: dict) -> Dim:
    """The dimension a polynomial ``{monomial (sorted names): coefficient}`` is: an int,
    a plain name, or a :class:`Size`. A negative constant raises ShapeError."""
    terms = {m: c for m, c in terms.items() if c}
    if not terms:
        return 0
    if list(terms) == [()]:
        if terms[()] < 0:
            raise ShapeError(f"a negative size ({terms[()]})")
        return terms[()]
    if len(terms) == 1:
        (monomial, c), = terms.items()
        if c == 1 and len(monomial) == 1:
            return monomial[0]
    if any(c < 0 for m, c in terms.items()) and any(isinstance(n, Count) for m in terms for n in m):
        raise ShapeError(f"the size {Size(terms)} may be negative: a boolean mask's count is "
                         "known only at call time, so sizes are derived from it only by sums "
                         "and products")
    return Size(terms)


def dim_add(a: Dim, b: Dim, sign: int = 1) -> Dim:
    """``a + b`` (``a - b`` for ``sign=-1``) of two dimensions."""
    terms = _terms(a)
    for m, c in _terms(b).items():
        terms[m] = terms.get(m, 0) + sign * c
    return make_dim(terms)


def dim_mul(a: Dim, b: Dim) -> Dim:
    """``a * b`` of two dimensions."""
    terms: dict = {}
    for m1, c1 in _terms(a).items():
        for m2, c2 in _terms(b).items():
            m = tuple(sorted(m1 + m2))
            terms[m] = terms.get(m, 0) + c1 * c2
    return make_dim(terms)


def dim_divide(a: Dim, b: Dim):
    """``a / b`` when ``b`` is one term that divides every term of ``a`` exactly, else None."""
    divisor = _terms(b)
    if len(divisor) != 1:
        return None
    (dm, dc), = divisor.items()
    terms = {}
    for m, c in _terms(a).items():
        rest = list(m)
        for name in dm:
            if name not in rest:
                return None
            rest.remove(name)
        if c % dc:
            return None
        terms[tuple(rest)] = c // dc
    return make_dim(terms)


def size_of(shape: Shape) -> Dim:
    """The number of entries of ``shape`` as a dimension (an int, a name or a Size)."""
    total: Dim = 1
    for d in shape:
        total = dim_mul(total, d)
    return total


def never_larger(a: Shape, b: Shape) -> bool:
    """Whether ``a`` has at most as many entries as ``b`` at every binding of the named
    sizes: each coefficient of the polynomial size(b) - size(a) is >= 0 (sizes are >= 0),
    so ``(n, 10)`` is never larger than ``(n, 64)``, while ``(n, 10)`` and ``(64, 10)``
    compare either way."""
    terms = _terms(size_of(b))
    for monomial, c in _terms(size_of(a)).items():
        terms[monomial] = terms.get(monomial, 0) - c
    return all(c >= 0 for c in terms.values())


def _has_count(d) -> bool:
    return isinstance(d, Count) or isinstance(d, Size) and any(
        isinstance(n, Count) for monomial, _ in d.terms for n in monomial)


def count_dims(shape: Shape) -> tuple:
    """The entries of ``shape`` that are or hold a :class:`Count` (known only at call time)."""
    return tuple(d for d in shape if _has_count(d))


def derived_dims(shape: Shape) -> tuple:
    """The :class:`Size` entries of ``shape`` (sizes that must be >= 0 when bound; one
    of a :class:`Count` has positive terms only, so it is, and is not listed)."""
    return tuple(d for d in shape if isinstance(d, Size) and not _has_count(d))


def normalize_dim(dim) -> Dim:
    """Validate one dimension: a non-negative int or a non-empty name."""
    if isinstance(dim, bool):
        raise TypeError(f"dimension {dim!r} is a bool; use an int or a name")
    if isinstance(dim, Size):
        return dim
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
    """The names ``shape`` depends on (those inside derived sizes too), in order."""
    names: list = []
    for d in shape:
        for name in (d.names if isinstance(d, (Size, Count)) else (d,) if isinstance(d, str)
                     else ()):
            if name not in names:
                names.append(name)
    return tuple(names)


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
        raise AxisError(f"axis {axis} is out of bounds for rank {ndim}")
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
    """A key equal for equal sizes (the terms of the product polynomial)."""
    return tuple(sorted(_terms(size_of(shape)).items()))


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


def evaluate_dim(d: Dim, sizes: dict) -> int:
    """A dimension's size under a name -> int mapping."""
    if isinstance(d, Size):
        return d.evaluate(sizes)
    return sizes[d] if isinstance(d, str) else d


def substitute(shape: Shape, sizes: dict) -> tuple:
    """Concrete shape from a symbolic one and a name -> int mapping."""
    return tuple(evaluate_dim(d, sizes) for d in shape)


def all_names(shapes: Iterable[Shape]) -> list:
    """Dimension names in first-seen order."""
    seen: dict = {}
    for shape in shapes:
        for d in dim_names(shape):
            seen.setdefault(d, None)
    return list(seen)
