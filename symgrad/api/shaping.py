"""NumPy's shape functions on nodes, with NumPy's names, signatures and errors.

Most are composites of reshape, transpose, getitem, concatenate, broadcast_to
and where, so their gradients come from those ops; flip, roll, the ``tri`` mask
and sort are primitives (:mod:`symgrad.ops.shaping`). Dimension names are
single symbols: a result size such as ``2 * n`` (``repeat``, ``tile``, ``pad``
or ``ravel`` of a named axis) cannot be represented, and raises ``ShapeError``.
"""
from __future__ import annotations

import operator

import numpy as np

from ..ir.graph import NUMPY_FUNCTIONS, Node, describe
from ..ir.leaves import NESTED, as_node
from ..ops import broadcast_to as _broadcast_to, reductions as R, shaping as S, structure
from ..ops.elementwise import where as _where
from ..ops.indexing import take_along_axis
from ..ir.shapes import AxisError, ShapeError, broadcast_shapes, dim_mul, format_shape, size_of


def _axes(axis, ndim: int, what: str = "axis") -> tuple:
    """NumPy's normalize_axis_tuple: ints in [-ndim, ndim), no repeats."""
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise AxisError(f"{what}: axis {a} is out of bounds for array of dimension {ndim}")
        result.append(a % ndim)
    if len(set(result)) != len(result):
        raise AxisError(f"{what}: repeated axis in {tuple(axes)}")
    return tuple(result)


def _take(x: Node, axis: int, key) -> Node:
    """``x`` indexed by ``key`` (a slice) along ``axis``."""
    return structure.getitem(x, index=(slice(None),) * axis + (key,))


def _sequence(tup, who: str) -> list:
    if not isinstance(tup, (list, tuple)):
        raise TypeError(f'{who}: arrays to stack must be passed as a "sequence" type such as '
                        "list or tuple.")
    return [as_node(t) for t in tup]


def _int_dim(x, axis: int, who: str) -> int:
    """The int size of ``x``'s (a node's or a shape's) axis; ShapeError for a name."""
    shape = x.shape if isinstance(x, Node) else x
    dim = shape[axis]
    if not isinstance(dim, int):
        raise ShapeError(f"{who}: axis {axis} of {format_shape(shape)} has the named size "
                         f"{dim!r}; {who} needs an int size there (its index map depends on the "
                         "size's value)")
    return dim


# Reshaping ---------------------------------------------------------------------------

def ravel(a, order="C"):
    """The entries as a vector, in C (row-major) or F (column-major) order."""
    a = as_node(a)
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"ravel: order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return structure.reshape(a.T if order == "F" else a, shape=(size_of(a.shape),))


def squeeze(a, axis=None):
    """``a`` without its axes of size 1 (all of them, or those in ``axis``). A named
    dimension is never taken for 1 (it may be bound to 1 only at call time)."""
    a = as_node(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = _axes(axis, a.ndim, "squeeze")
        for i in axes:
            if a.shape[i] != 1:
                raise ValueError(f"squeeze({describe(a)}): cannot select an axis to squeeze out "
                                 f"which has size not equal to one (axis {i})")
    return structure.reshape(a, shape=tuple(d for i, d in enumerate(a.shape) if i not in axes))


def expand_dims(a, axis):
    """``a`` with new axes of size 1 at the positions ``axis`` of the result."""
    a = as_node(a)
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = _axes(axis, a.ndim + count, "expand_dims")
    dims = iter(a.shape)
    return structure.reshape(a, shape=tuple(1 if i in axes else next(dims)
                                            for i in range(a.ndim + count)))


def _atleast(arys, build):
    results = tuple(build(as_node(a)) for a in arys)
    return results[0] if len(results) == 1 else results


def atleast_1d(*arys):
    """Each input viewed with at least one axis (a tuple for several inputs)."""
    return _atleast(arys, lambda a: structure.reshape(a, shape=(1,)) if a.ndim == 0 else a)


def atleast_2d(*arys):
    """Each input with at least two axes: ``(n,)`` becomes ``(1, n)``."""
    return _atleast(arys, lambda a: a if a.ndim >= 2 else structure.reshape(
        a, shape=(1,) * (2 - a.ndim) + a.shape))


def atleast_3d(*arys):
    """Each input with at least three axes: ``(n,)`` is ``(1, n, 1)``, ``(m, n)`` is ``(m, n, 1)``."""
    def build(a):
        shape = {0: (1, 1, 1), 1: (1,) + a.shape + (1,), 2: a.shape + (1,)}.get(a.ndim)
        return a if shape is None else structure.reshape(a, shape=shape)
    return _atleast(arys, build)


# Axis permutations -------------------------------------------------------------------

def moveaxis(a, source, destination):
    """``a`` with the axes ``source`` moved to the positions ``destination``."""
    a = as_node(a)
    source = _axes(source, a.ndim, "moveaxis source")
    destination = _axes(destination, a.ndim, "moveaxis destination")
    if len(source) != len(destination):
        raise ValueError("moveaxis: `source` and `destination` arguments must have the same "
                         "number of elements")
    order = [n for n in range(a.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return structure.transpose(a, axes=tuple(order))


def swapaxes(a, axis1, axis2):
    """``a`` with two axes interchanged."""
    a = as_node(a)
    (i,), (j,) = _axes(axis1, a.ndim, "swapaxes"), _axes(axis2, a.ndim, "swapaxes")
    order = list(range(a.ndim))
    order[i], order[j] = j, i
    return structure.transpose(a, axes=tuple(order))


def flip(m, axis=None):
    """``m`` with the order of entries reversed along ``axis`` (None: every axis)."""
    m = as_node(m)
    return S.flip(m, axis=None if axis is None else _axes(axis, m.ndim, "flip"))


def fliplr(m):
    """``m`` reversed along axis 1 (left/right)."""
    m = as_node(m)
    if m.ndim < 2:
        raise ValueError(f"fliplr: Input must be >= 2-d (got shape {format_shape(m.shape)}).")
    return S.flip(m, axis=1)


def flipud(m):
    """``m`` reversed along axis 0 (up/down)."""
    m = as_node(m)
    if m.ndim < 1:
        raise ValueError("flipud: Input must be >= 1-d (got a 0-d node).")
    return S.flip(m, axis=0)


def rot90(m, k=1, axes=(0, 1)):
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes`` (NumPy's
    flip/transpose recipe)."""
    m = as_node(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == m.ndim:
        raise ValueError(f"rot90: Axes must be different (axes {axes}, shape {format_shape(m.shape)}).")
    if not all(-m.ndim <= a < m.ndim for a in axes):
        raise ValueError(f"rot90: Axes={axes} out of range for array of ndim={m.ndim}.")
    k = operator.index(k) % 4
    first, second = (a % m.ndim for a in axes)
    if k == 0:
        return m
    if k == 2:
        return S.flip(m, axis=(first, second))
    order = list(range(m.ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return structure.transpose(S.flip(m, axis=second), axes=tuple(order))
    return S.flip(structure.transpose(m, axes=tuple(order)), axis=second)


def roll(a, shift, axis=None):
    """``a`` rolled by ``shift`` along ``axis`` (None: the flattened array, shape kept)."""
    return S.roll(as_node(a), shift=shift, axis=axis)


# Repetition and padding ------------------------------------------------------------

def _gather(x: Node, axis: int, indices) -> Node:
    """``x`` taken along ``axis`` at constant ``indices``, as few slices as possible:
    runs of consecutive indices are slices, descending runs flipped slices, runs of one
    repeated index a broadcast slice; then concatenated."""
    indices = [int(i) for i in indices]
    pieces, i = [], 0
    while i < len(indices):
        step = indices[i + 1] - indices[i] if i + 1 < len(indices) else 1
        step = step if step in (-1, 0, 1) else 1
        j = i + 1
        while j < len(indices) and indices[j] - indices[j - 1] == step:
            j += 1
        start, count = indices[i], j - i
        if step == 0:
            one = _take(x, axis, slice(start, start + 1))
            pieces.append(_broadcast_to(one, one.shape[:axis] + (count,) + one.shape[axis + 1:]))
        elif step == 1:
            pieces.append(_take(x, axis, slice(start, start + count)))
        else:
            pieces.append(S.flip(_take(x, axis, slice(start - count + 1, start + 1)), axis=axis))
        i = j
    if not pieces:
        return structure.zeros_op(shape=x.shape[:axis] + (0,) + x.shape[axis + 1:], dtype=x.dtype)
    return pieces[0] if len(pieces) == 1 else structure.concatenate(*pieces, axis=axis)


def repeat(a, repeats, axis=None):
    """Each entry repeated ``repeats`` times along ``axis`` (None: of the flattened
    array); ``repeats`` an int or one count per entry."""
    a = as_node(a)
    if axis is None:
        a, axis = ravel(a), 0
    (axis,) = _axes(axis, a.ndim, "repeat")
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iub":
        raise TypeError(f"repeat: repeats must be integers, got {repeats!r}")
    if (counts < 0).any():
        raise ValueError("repeat: repeats may not contain negative values")
    if counts.ndim == 0 or counts.size == 1:
        return _repeat_each(a, axis, int(counts.reshape(-1)[0]))
    dim = _int_dim(a, axis, "repeat")
    if counts.shape != (dim,):
        raise ValueError(f"repeat({describe(a)}): operands could not be broadcast together "
                         f"with shape ({dim},) ({counts.size},)")
    return _gather(a, axis, np.repeat(np.arange(dim), counts))


def _repeat_each(a: Node, axis: int, count: int) -> Node:
    if count == 1:
        return a
    dim = a.shape[axis]
    spread = structure.reshape(a, shape=a.shape[:axis + 1] + (1,) + a.shape[axis + 1:])
    spread = _broadcast_to(spread, a.shape[:axis + 1] + (count,) + a.shape[axis + 1:])
    return structure.reshape(spread, shape=a.shape[:axis] + (dim_mul(dim, count),)
                             + a.shape[axis + 1:])


def tile(A, reps):
    """``A`` repeated ``reps[i]`` times along axis i (NumPy aligns ``reps`` and the
    shape at the right, padding the shorter with 1s)."""
    A = as_node(A)
    reps = tuple(operator.index(r) for r in (reps if isinstance(reps, (tuple, list)) else (reps,)))
    if any(r < 0 for r in reps):
        raise ValueError("tile: negative dimensions are not allowed")
    shape = (1,) * (len(reps) - A.ndim) + A.shape
    reps = (1,) * (len(shape) - len(reps)) + reps
    inner, spread, out = [], [], []
    for axis, (dim, r) in enumerate(zip(shape, reps)):
        if r == 1:
            inner.append(dim), spread.append(dim), out.append(dim)
            continue
        inner += [1, dim]
        spread += [r, dim]
        out.append(dim_mul(r, dim))
    spread_node = _broadcast_to(structure.reshape(A, shape=tuple(inner)), tuple(spread))
    return structure.reshape(spread_node, shape=tuple(out))


def _as_pairs(value, ndim: int, as_index: bool, what: str):
    """NumPy's ``_as_pairs``: a scalar, a (before, after) pair or one pair per axis."""
    x = np.asarray(value)
    if as_index:
        if x.size and x.dtype.kind not in "iu":
            raise TypeError("pad: `pad_width` must be of integral type.")
        if x.size and x.min() < 0:
            raise ValueError("pad: index can't contain negative values")
    if x.size == 1:
        x = x.ravel()
        return [(x[0].item(), x[0].item())] * ndim
    if x.size == 2 and x.shape != (2, 1):
        x = x.ravel()
        return [(x[0].item(), x[1].item())] * ndim
    try:
        return np.broadcast_to(x, (ndim, 2)).tolist()
    except ValueError:
        raise ValueError(f"pad: {what} of shape {x.shape} does not broadcast to "
                         f"({ndim}, 2)") from None


PAD_MODES = {"constant": {"constant_values"}, "edge": set(), "reflect": {"reflect_type"},
             "symmetric": {"reflect_type"}, "wrap": set(), "empty": set(),
             "maximum": {"stat_length"}, "minimum": {"stat_length"}, "mean": {"stat_length"},
             "median": {"stat_length"}}


def _median_keep(x: Node, axis: int) -> Node:
    """The median along ``axis`` (kept as size 1): the middle of the sorted entries."""
    n = _int_dim(x, axis, "pad(mode='median')")
    ordered = S.sort(x, axis=axis, kind=None)

    def middle(i):
        index = [slice(None)] * x.ndim
        index[axis] = slice(i, i + 1)
        return ordered[tuple(index)]
    return middle(n // 2) if n % 2 else (middle(n // 2 - 1) + middle(n // 2)) * 0.5


PAD_STATISTICS = {"maximum": lambda x, axis: R.max_(x, axis=axis, keepdims=True),
                  "minimum": lambda x, axis: R.min_(x, axis=axis, keepdims=True),
                  "mean": lambda x, axis: R.mean(x, axis=axis, keepdims=True),
                  "median": _median_keep}


def _pad_statistic(x: Node, axis: int, widths, lengths, mode: str) -> Node:
    """NumPy's statistic modes: each side filled with the statistic of the first (last)
    ``stat_length`` entries along ``axis`` (None: all of them), as ``constant`` values."""
    values = []
    for side, length in enumerate(lengths):
        region = x
        if length is not None:
            dim = _int_dim(x, axis, f"pad(mode={mode!r}, stat_length=...)")
            if length <= 0:
                raise ValueError("pad: stat_length must be positive")
            if length < dim:
                index = [slice(None)] * x.ndim
                index[axis] = slice(0, length) if side == 0 else slice(dim - length, dim)
                region = x[tuple(index)]
        values.append(PAD_STATISTICS[mode](region, axis))
    return _pad_constant(x, axis, widths, values)


def pad(array, pad_width, mode="constant", **kwargs):
    """``array`` padded along each axis: ``constant`` (``constant_values``, which may be
    a 0-d node), ``edge``, ``reflect``, ``symmetric`` or ``wrap`` (NumPy's index maps),
    or a statistic of the entries along the axis, ``maximum``, ``minimum``, ``mean`` or
    ``median`` (``stat_length``: of the first/last entries only), differentiated through it."""
    array = as_node(array)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported (symgrad pads with "
                         f"{', '.join(PAD_MODES)})")
    unsupported = set(kwargs) - PAD_MODES[mode]
    if unsupported:
        raise ValueError(f"pad: unsupported keyword arguments for mode {mode!r}: {unsupported}")
    if kwargs.get("reflect_type", "even") != "even":
        raise ValueError("pad: only reflect_type='even' is supported")
    widths = _as_pairs(pad_width, array.ndim, True, "pad_width")
    stat_length = kwargs.get("stat_length")
    lengths = ([(None, None)] * array.ndim if stat_length is None
               else _as_pairs(stat_length, array.ndim, True, "stat_length"))
    values = kwargs.get("constant_values", 0)
    values = ([(values, values)] * array.ndim if isinstance(values, Node)
              else _as_pairs(values, array.ndim, False, "constant_values"))
    for axis, ((before, after), pair) in enumerate(zip(widths, values)):
        if before == after == 0:
            continue
        if mode in ("constant", "empty"):  # "empty": unspecified values, here zeros
            array = _pad_constant(array, axis, (before, after), pair)
            continue
        if mode in PAD_STATISTICS:
            array = _pad_statistic(array, axis, (before, after), lengths[axis], mode)
            continue
        dim = _int_dim(array, axis, "pad")
        if dim == 0:
            raise ValueError(f"pad: can't extend empty axis {axis} using modes other than "
                             "'constant' or 'empty'")
        else:
            array = _gather(array, axis, np.pad(np.arange(dim), (before, after), mode=mode))
    return array


def _pad_constant(x: Node, axis: int, widths, values) -> Node:
    parts = []
    for width, value in zip(widths, values):
        value = value if isinstance(value, Node) else as_node(np.asarray(value, dtype=x.dtype))
        parts.append(_broadcast_to(value, x.shape[:axis] + (width,) + x.shape[axis + 1:])
                     if width else None)
    return structure.concatenate(*[p for p in (parts[0], x, parts[1]) if p is not None], axis=axis)


# Joining and splitting ---------------------------------------------------------------

def _join(nodes, axis: int) -> Node:
    if not nodes:
        raise ValueError("need at least one array to concatenate")
    return structure.concatenate(*nodes, axis=axis)


def vstack(tup, *, dtype=None, casting="same_kind"):
    """Rows stacked: ``atleast_2d`` of each, joined along axis 0."""
    return _join([atleast_2d(t) for t in _sequence(tup, "vstack")], 0)


def hstack(tup, *, dtype=None, casting="same_kind"):
    """Columns stacked: joined along axis 1, or axis 0 for vectors."""
    nodes = [atleast_1d(t) for t in _sequence(tup, "hstack")]
    return _join(nodes, 0 if nodes and nodes[0].ndim == 1 else 1)


def dstack(tup):
    """Depth stacked: ``atleast_3d`` of each, joined along axis 2."""
    return _join([atleast_3d(t) for t in _sequence(tup, "dstack")], 2)


def column_stack(tup):
    """Vectors as columns (``(n,)`` becomes ``(n, 1)``), joined along axis 1."""
    nodes = [structure.reshape(t, shape=(t.shape or (1,)) + (1,)) if t.ndim < 2 else t
             for t in _sequence(tup, "column_stack")]
    return _join(nodes, 1)


def array_split(ary, indices_or_sections, axis=0):
    """A list of sub-nodes: ``indices_or_sections`` equal-as-possible sections along
    ``axis`` (the first ones one longer), or the pieces between the given indices."""
    ary = as_node(ary)
    (axis,) = _axes(axis, ary.ndim, "array_split")
    if not isinstance(indices_or_sections, (list, tuple, np.ndarray)):
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number sections must be larger than 0.")
        if sections == 1:
            return [ary]
        each, extras = divmod(_int_dim(ary, axis, "array_split"), sections)
        sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
        points = np.cumsum(sizes).tolist()
    else:
        points = [0] + [operator.index(i) for i in indices_or_sections] + [
            _int_dim(ary, axis, "array_split")]
    return [_take(ary, axis, slice(start, stop)) for start, stop in zip(points, points[1:])]


def split(ary, indices_or_sections, axis=0):
    """As ``array_split``, but a number of sections must divide the axis evenly."""
    ary = as_node(ary)
    if not isinstance(indices_or_sections, (list, tuple, np.ndarray)):
        (ax,) = _axes(axis, ary.ndim, "split")
        sections = operator.index(indices_or_sections)
        if sections > 1 and _int_dim(ary, ax, "split") % sections:
            raise ValueError(f"split({describe(ary)}): array split does not result in an equal "
                             f"division ({ary.shape[ax]} into {sections} along axis {ax})")
    return array_split(ary, indices_or_sections, axis)


def _split_along(name: str, min_ndim: int, pick_axis):
    def split_along(ary, indices_or_sections):
        ary = as_node(ary)
        if ary.ndim < min_ndim:
            raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions")
        return split(ary, indices_or_sections, axis=pick_axis(ary))
    split_along.__name__ = split_along.__qualname__ = name
    split_along.__doc__ = f"NumPy ``{name}``: ``split`` along axis {pick_axis.__doc__}."
    return split_along


def _hsplit_axis(a):
    """1 (0 for vectors)"""
    return 1 if a.ndim > 1 else 0


hsplit = _split_along("hsplit", 1, _hsplit_axis)
vsplit = _split_along("vsplit", 2, lambda a: 0)
dsplit = _split_along("dsplit", 3, lambda a: 2)
vsplit.__doc__ = "NumPy ``vsplit``: ``split`` along axis 0."
dsplit.__doc__ = "NumPy ``dsplit``: ``split`` along axis 2."


def broadcast_arrays(*args):
    """The nodes broadcast against each other, as a tuple."""
    nodes = [as_node(a) for a in args]
    shape = broadcast_shapes(*(n.shape for n in nodes))
    return tuple(_broadcast_to(n, shape) for n in nodes)


# Triangles and sorting ---------------------------------------------------------------

def tri(N, M=None, k=0, dtype=float):
    """Ones at and below the ``k``-th diagonal of an ``N x M`` array (names allowed)."""
    return S.tri(n=N, m=M, k=k, dtype=dtype)


def _triangle(m, k: int, lower: bool) -> Node:
    m = as_node(m)
    if m.ndim == 0:
        raise TypeError("tri() missing 1 required positional argument: 'N' "
                        "(tril/triu of a 0-d node)")
    n, cols = m.shape[-2:] if m.ndim >= 2 else (m.shape[0], m.shape[0])
    mask = S.tri(n=n, m=cols, k=k if lower else operator.index(k) - 1, dtype="bool")
    zero = structure.zeros_op(shape=(), dtype=m.dtype)
    return _where(mask, m, zero) if lower else _where(mask, zero, m)


def tril(m, k=0):
    """``m`` with the entries above the ``k``-th diagonal zeroed (last two axes)."""
    return _triangle(m, k, True)


def triu(m, k=0):
    """``m`` with the entries below the ``k``-th diagonal zeroed (last two axes)."""
    return _triangle(m, k, False)


def _sort_args(a, axis, kind, order, stable):
    a = as_node(a)
    if order is not None:
        raise ValueError("Cannot specify order when the array has no fields.")
    if stable:
        kind = "stable"
    if axis is None:
        return ravel(a), 0, kind
    if a.ndim == 0:
        raise AxisError(f"axis {axis} is out of bounds for array of dimension 0")
    return a, axis, kind


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``a`` sorted along ``axis`` (None: flattened); the gradient goes back through the
    sorting permutation (ties: a stable sort's order)."""
    a, axis, kind = _sort_args(a, axis, kind, order, stable)
    return S.sort(a, axis=axis, kind=kind)


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """The indices that sort ``a`` along ``axis`` (int64; not differentiable)."""
    a, axis, kind = _sort_args(a, axis, kind, order, stable)
    return S.argsort(a, axis=axis, kind=kind)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """NumPy ``argpartition``: indices that put the ``kth`` entries where a sort would,
    the smaller before and the larger after (int64; not differentiable)."""
    if kind != "introselect":
        raise ValueError(f"argpartition: kind must be 'introselect', got {kind!r}")
    a, axis, _ = _sort_args(a, axis, None, order, None)
    return S.argpartition(a, kth=kth, axis=axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """NumPy ``partition``: ``a`` picked along ``axis`` by ``argpartition`` (NumPy's own
    order: ``np.partition`` and ``np.argpartition`` share the selection); the gradient
    goes back through that permutation, as ``sort``'s does."""
    indices = argpartition(a, kth, axis=axis, kind=kind, order=order)
    a, axis, _ = _sort_args(a, axis, None, order, None)
    return take_along_axis(a, indices, axis=axis)


# Building from nested lists ------------------------------------------------------------

def array(object, dtype=None, *, ndmin=0):  # noqa: A002  (NumPy's name)
    """A node from a (nested) list of nodes and numbers, stacked along new leading
    axes; a list of numbers only is a constant. Elements must have one shape."""
    if not _contains_node(object):
        node = as_node(np.array(object, dtype=dtype))
        return _at_least_ndim(node, ndmin)
    node = _build_array(object)
    if dtype is not None and np.dtype(dtype).name != node.dtype:
        raise TypeError(f"array: dtype {np.dtype(dtype).name} differs from the elements' "
                        f"{node.dtype}; symgrad does not cast here")
    return _at_least_ndim(node, ndmin)


def _at_least_ndim(node: Node, ndmin: int) -> Node:
    if node.ndim < ndmin:
        node = structure.reshape(node, shape=(1,) * (ndmin - node.ndim) + node.shape)
    return node


def _contains_node(obj) -> bool:
    if isinstance(obj, Node):
        return True
    return isinstance(obj, (list, tuple)) and any(_contains_node(o) for o in obj)


def _build_array(obj) -> Node:
    if not _contains_node(obj):
        return as_node(np.array(obj))
    if isinstance(obj, Node):
        return obj
    items = [_build_array(o) for o in obj]
    if not items:
        return as_node(np.array([]))
    shapes = {item.shape for item in items}
    if len(shapes) > 1:
        raise ValueError("array: setting an array element with a sequence. The elements have "
                         f"inhomogeneous shapes {sorted(map(format_shape, shapes))}")
    shape = items[0].shape
    flat = [structure.reshape(i, shape=(1,) + shape) for i in items]
    return flat[0] if len(flat) == 1 else structure.concatenate(*flat, axis=0)


__all__ = ["ravel", "squeeze", "expand_dims", "atleast_1d", "atleast_2d", "atleast_3d",
           "moveaxis", "swapaxes", "flip", "fliplr", "flipud", "rot90", "roll", "repeat",
           "tile", "pad", "vstack", "hstack", "dstack", "column_stack", "split", "array_split",
           "hsplit", "vsplit", "dsplit", "broadcast_arrays", "tri", "tril", "triu", "sort",
           "argsort", "partition", "argpartition", "array"]

# NumPy's dispatch (np.flip(node), np.pad(node, 1), ...) and the node methods read this hook.
NUMPY_FUNCTIONS.update({name: globals()[name] for name in __all__})
NESTED["build"] = array  # as_node([x, x + 2]): a list of nodes is their stack
