"""NumPy indexing of nodes: ``x[key]`` for every key NumPy's basic and advanced
indexing accept, and ``take`` / ``take_along_axis``.

``Node.__getitem__`` calls :func:`index_node`, which parses the key once at
build time (raising NumPy's IndexError/TypeError, naming the node and its
shape) and builds one of:

* ``getitem`` (ints and slices only, in :mod:`structure`), followed by a
  ``reshape`` when the key holds ``None``/``np.newaxis``;
* ``gather(x, *arrays, index=template)`` when the key holds integer arrays,
  lists, boolean masks or int-typed nodes. The template is the key with every
  array replaced by ``("array", k)``, the k-th array operand; the lowering is
  NumPy's own ``x[key]``, so NumPy's placement of advanced dimensions (first
  when a slice or ``None`` separates them) holds by construction, and the
  shape rule below mirrors it symbolically. Its adjoint is ``scatter_add``
  (``np.add.at``): repeated indices accumulate.

Index values are plain ints and integer constant nodes (hoisted by the
compiler, never printed into generated source). A constant boolean mask
becomes its ``nonzero()`` integer arrays, exactly as NumPy treats it. A
boolean *input* mask ``m`` is a ``gather`` operand itself: it indexes
``m.ndim`` axes (whose sizes must be ``m``'s), and its block in the result is
one axis of size ``Count(m)`` (``nnz(m)``), the number of its True entries,
read off ``m`` when the compiled function is called (see docs/design.md).
A computed mask (``x > 0``) is refused: its count has no value before the
graph runs.
"""
from __future__ import annotations

import operator

import numpy as np

from ..ir.graph import INDEXING, Node, describe
from ..ir.leaves import as_node, constant
from ..ir.shapes import (Count, ShapeError, broadcast_shapes, format_shape, normalize_axis,
                          normalize_shape)
from ..ir.print_forms import POSTFIX, SCRIPT, Piece
from .base import Sample, Spec, op
from . import facts as F
from .structure import FULL, getitem, reshape
from . import structure
from . import runtime

ARRAY = "array"
VALID = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
         "integer or boolean arrays are valid indices")


class IndexingError(IndexError, ShapeError):
    """A key that NumPy would reject with IndexError (also a ShapeError/ValueError)."""


class IndexTypeError(IndexError, TypeError):
    """An index of a type NumPy rejects (IndexError there; also a TypeError)."""


# Templates: the parsed key -------------------------------------------------------------

def _is_array(entry) -> bool:
    return type(entry) is tuple and entry[0] == ARRAY


def _slice_length(entry, dim):
    """Length of ``range(dim)[start:stop:step]``; a named ``dim`` takes ``:``, ``::-1``
    and the bounded slices of :func:`structure._named_slice` (``n-1`` for ``[1:]``)."""
    if isinstance(dim, int):
        return len(range(*slice(*entry[1:]).indices(dim)))
    if entry[1] is None and entry[2] is None and entry[3] in (None, 1, -1):
        return dim
    return structure._slice_size(structure._named_slice(entry, dim, None), dim)


def array_parts(arrays) -> list:
    """``(block shape, axes indexed)`` of each array operand of a ``gather``: an integer
    array's own shape and one axis; a boolean mask ``m``'s count, ``(nnz(m),)``, and
    ``m.ndim`` axes (NumPy reads it as its ``nonzero()`` arrays)."""
    return [((Count(a.name, a.shape),), a.ndim) if a.dtype == "bool" else (a.shape, 1)
            for a in arrays]


def _axes(index, arrays):
    """``(entry, first axis, number of axes)`` of each entry of a template that indexes
    axes (not ``None``): a boolean mask indexes ``m.ndim`` axes, any other entry one."""
    axis = 0
    for entry in index:
        if entry is not None:
            width = 1
            if _is_array(entry) and arrays[entry[1]].dtype == "bool":
                width = arrays[entry[1]].ndim
            yield entry, axis, width
            axis += width


def _template_shape(x_shape, parts, index):
    """NumPy's result shape for ``x[index]`` (``parts``: :func:`array_parts`): the broadcast
    shape of the advanced entries (arrays and, alongside them, ints) replaces them where
    they stand when they are adjacent, and leads the result when a slice or None separates them."""
    advanced = [i for i, e in enumerate(index) if _is_array(e) or isinstance(e, int)]
    block = _broadcast_block([shape for shape, _ in parts])
    adjacent = not advanced or advanced == list(range(advanced[0], advanced[-1] + 1))
    dims, axis = [], 0
    for i, entry in enumerate(index):
        if entry is None:
            dims.append(1)
            continue
        dim = x_shape[axis]
        axis += parts[entry[1]][1] if _is_array(entry) else 1
        if i in advanced:
            if adjacent and i == advanced[0]:
                dims.extend(block)
        else:
            dims.append(_slice_length(entry, dim))
    return tuple(dims) if adjacent else tuple(block) + tuple(dims)


def _broadcast_block(array_shapes):
    try:
        return broadcast_shapes(*array_shapes)
    except ShapeError:
        shapes = " ".join(format_shape(s) for s in array_shapes)
        raise IndexingError("shape mismatch: indexing arrays could not be broadcast together "
                            f"with shapes {shapes}") from None


def _check_template(x, arrays, index):
    index = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    placeholders = [e[1] for e in index if _is_array(e)]
    if placeholders != list(range(len(arrays))):
        raise ShapeError(f"the index template {index!r} must refer to the {len(arrays)} "
                         "array operands in order")
    for a in arrays:
        if a.dtype == "bool" and a.op is not structure.input_:
            raise ShapeError(f"a boolean mask operand must be an input (its count is read off "
                             f"it at call time), got {describe(a)}")
        if a.dtype not in ("int64", "bool") or a.dtype == "bool" and not a.ndim:
            raise ShapeError(f"index arrays must be integers or boolean masks, got "
                             f"{describe(a)} {a.dtype} {format_shape(a.shape)}")
    consumed = sum(width for _, _, width in _axes(index, arrays))
    if consumed != len(x.shape):
        raise ShapeError(f"the template indexes {consumed} axes of a rank-{len(x.shape)} operand")
    return index


def _entry_source(entry, arrays=()) -> str:
    if entry is None:
        return "None"
    if isinstance(entry, int):
        return str(entry)
    if _is_array(entry):
        return arrays[entry[1]]
    start, stop, step = (("" if p is None else str(p)) for p in entry[1:])
    return f"{start}:{stop}" + (f":{step}" if step else "")


def template_source(index, arrays) -> str:
    """``ids, 1:3, None`` for a template (``arrays``: the array operands' sources),
    trailing ``:`` dropped; the ints are the template's, never user text."""
    index = list(index)
    while len(index) > 1 and index[-1] == FULL:
        index.pop()
    return ", ".join(_entry_source(e, arrays) for e in index)


def indexed_dims(node: Node, operand: Node) -> list:
    """The sizes of the axes that ``operand`` (an index operand of a ``gather`` or
    ``take_along_axis``) indexes: its entries must lie below each (check_grad draws them so)."""
    if node.op is take_along_axis_op:
        return [node.operands[0].shape[node.attrs["axis"]]]
    x, arrays = node.operands[0], node.operands[1:]
    return [d for entry, axis, width in _axes(node.attrs["index"], arrays)
            if _is_array(entry) and arrays[entry[1]] is operand
            for d in x.shape[axis:axis + width]]


# gather and its adjoint ----------------------------------------------------------------

def _gather_infer(x, *arrays, index):
    for entry, axis, width in _axes(index, arrays):
        axes = tuple(x.shape[axis:axis + width])
        if _is_array(entry) and arrays[entry[1]].dtype == "bool" and axes != arrays[entry[1]].shape:
            where = f"axis {axis}" if width == 1 else f"axes {axis}..{axis + width - 1}"
            raise IndexingError(f"boolean index did not match indexed array along {where}: the "
                                f"mask {describe(arrays[entry[1]])} against sizes "
                                f"{format_shape(axes)}")
    return _template_shape(x.shape, array_parts(arrays), index), x.dtype


def _gather_jvp(tangents, out, x, *arrays, index):
    return None if tangents[0] is None else gather(tangents[0], *arrays, index=index)


def _padded(index, k):
    return tuple(index) + (FULL,) * k


def _print_gather(p, node, x, *arrays):
    index = template_source(node.attrs["index"], [a.text for a in arrays])
    return Piece(p.wrap(x, x.prec < SCRIPT) + f"[{index}]", POSTFIX, weight=x.weight + 1)


def _latex_gather(p, node, x, *arrays):
    return p.subscript(x, template_source(node.attrs["index"], [a.text for a in arrays]))


def _print_scatter_add(p, node, g, *arrays):
    index = template_source(node.attrs["index"], [a.text for a in arrays])
    return p.call(node.op, [g.text, p.attr(node.shape), p.brackets(index)])


gather = op("gather", reads_indices=True, infer=_gather_infer,
            prepare=lambda x, *arrays, index: {"index": _check_template(x, arrays, index)},
            numpy=lambda args, attrs, ctx: f"{args[0]}[{template_source(attrs['index'], args[1:])}]",
            vjp=lambda g, out, x, *arrays, index: [
                scatter_add(g, *arrays, shape=x.shape, index=index)] + [None] * len(arrays),
            jvp=_gather_jvp, fresh=True, linear_in=(0,), keeps_positive=True,
            facts=lambda node, facts: F.sign_facts_of(facts(node.operands[0])),
            jacobian=lambda s, node, js: gather(js[0], *node.operands[1:],
                                                index=_padded(node.attrs["index"], s.k)),
            samples=lambda: [
                Sample((Spec((4,)), Spec((6,), "labels:4")), {"index": ((ARRAY, 0),)}),
                Sample((Spec((3, 4)), Spec((2, 2), "labels:4")), {"index": (FULL, (ARRAY, 0))}),
                Sample((Spec(("n", 3)), Spec(("m",), "labels:3")), {"index": ((ARRAY, 0), FULL)}),
                Sample((Spec((2, 3, 4)), Spec((2,), "labels:2"), Spec((2,), "labels:4")),
                       {"index": ((ARRAY, 0), FULL, (ARRAY, 1))}),
                Sample((Spec((3, 4)), Spec((2,), "labels:3")),
                       {"index": (None, (ARRAY, 0), ("slice", None, None, -2))}),
                Sample((Spec((2, 3, 4)), Spec((3,), "labels:4")), {"index": (1, FULL, (ARRAY, 0))}),
            ],
            unicode=_print_gather, latex=_latex_gather)


def _scatter_add_infer(g, *arrays, shape, index):
    want = _template_shape(shape, array_parts(arrays), index)
    if g.shape != want:
        raise ShapeError(f"the values have shape {format_shape(g.shape)}, but "
                         f"{format_shape(shape)}[{template_source(index, ['i'] * len(arrays))}] "
                         f"has shape {format_shape(want)}")
    return shape, "float64"


def _scatter_add_prepare(g, *arrays, shape, index):
    shape = normalize_shape(shape)
    return {"shape": shape, "index": _check_template(_Rank(shape), arrays, index)}


class _Rank:
    """Stands for an operand of ``shape`` in the shape rules of the adjoints."""

    dtype = "float64"

    def __init__(self, shape):
        self.shape = shape
        self.ndim = len(shape)


def _scatter_add_jvp(tangents, out, g, *arrays, shape, index):
    return None if tangents[0] is None else scatter_add(tangents[0], *arrays, shape=shape,
                                                        index=index)


def _scatter_add_numpy(args, attrs, ctx):
    return (f"_scatter_add({args[0]}, {ctx.shape(attrs['shape'])}, "
            f"np.s_[{template_source(attrs['index'], args[1:])}])")


scatter_add = op("scatter_add", reads_indices=True, infer=_scatter_add_infer, prepare=_scatter_add_prepare,
                 numpy=_scatter_add_numpy, helpers=(runtime._scatter_add,), fresh=True,
                 linear_in=(0,), keeps_positive=True,
                 vjp=lambda g, out, v, *arrays, shape, index: [
                     gather(g, *arrays, index=index)] + [None] * len(arrays),
                 jvp=_scatter_add_jvp,
                 jacobian=lambda s, node, js: scatter_add(
                     js[0], *node.operands[1:], shape=node.shape + s.x.shape,
                     index=_padded(node.attrs["index"], s.k)),
                 samples=lambda: [
                     Sample((Spec((6,)), Spec((6,), "labels:4")),
                            {"shape": (4,), "index": ((ARRAY, 0),)}),
                     Sample((Spec((2, "n")), Spec((2,), "labels:3")),
                            {"shape": (3, "n"), "index": ((ARRAY, 0), FULL)}),
                 ],
                 unicode=_print_scatter_add)


# Parsing a key: node[key] ---------------------------------------------------------------

def _fail(x, message, kind=IndexingError, name="getitem"):
    return kind(f"{name}({describe(x)}): {message}")


def _as_int(value, x, what):
    try:
        return int(operator.index(value))
    except TypeError:
        raise _fail(x, f"{what} must be integers or None or have an __index__ method, "
                       f"got {type(value).__name__}", TypeError) from None


def _parse_entry(x, entry):
    """One key entry as an int, a slice tuple, None, Ellipsis, ("mask", array),
    ("ints", array) or ("node", int node)."""
    if entry is None or entry is Ellipsis:
        return entry
    if isinstance(entry, slice):
        parts = tuple(None if p is None else p if i == 1 and isinstance(p, str)
                      else _as_int(p, x, "slice indices")
                      for i, p in enumerate((entry.start, entry.stop, entry.step)))
        if parts[2] == 0:
            raise _fail(x, "slice step cannot be zero", ValueError)
        return ("slice",) + parts
    if isinstance(entry, (bool, np.bool_)):
        raise _fail(x, "a boolean scalar index is not supported; use None to add an axis")
    if isinstance(entry, (int, np.integer)):
        return int(entry)
    if isinstance(entry, Node):
        return _parse_node(x, entry)
    if isinstance(entry, (list, tuple, np.ndarray)):
        return _parse_array(x, entry)
    raise _fail(x, f"{VALID}, got {type(entry).__name__}", IndexTypeError)


def _parse_node(x, node):
    if node.op is structure.constant:
        return _parse_array(x, node.value)
    if node.dtype == "int64":
        return ("node", node)
    if node.dtype == "bool" and not node.ndim:
        raise _fail(x, f"a boolean scalar index ({describe(node)}) is not supported; use None "
                       "to add an axis")
    if node.dtype == "bool" and node.op is structure.input_:
        return ("bmask", node)
    if node.dtype == "bool":
        raise _fail(x, f"the boolean mask {describe(node)} is computed "
                       "in the graph: the result's length would depend on values the graph has "
                       "not computed when it is built. Index with a boolean input or a constant "
                       "mask, or use sg.where(mask, x, 0) for a same-shape result", TypeError)
    raise _fail(x, f"arrays used as indices must be of integer (or boolean) type, got "
                   f"{describe(node)} {node.dtype}", IndexTypeError)


def _parse_array(x, value):
    try:
        array = np.asarray(value)
    except ValueError as err:
        raise _fail(x, f"{VALID} ({err})", IndexTypeError) from None
    if array.dtype.kind == "b":
        return ("mask", array)
    if array.size == 0 and array.dtype.kind == "f" and not isinstance(value, np.ndarray):
        array = array.astype(np.intp)  # NumPy reads an empty list as an empty integer index
    if array.dtype.kind not in "iu":
        raise _fail(x, f"arrays used as indices must be of integer (or boolean) type, "
                       f"got {array.dtype}", IndexTypeError)
    if array.ndim == 0:
        return int(array)
    return ("ints", np.asarray(array, dtype=np.intp))


def _expand(x, entries):
    """Ellipsis replaced by ':'s, masks by their nonzero() arrays, ':' padding to x.ndim."""
    ellipses = sum(1 for e in entries if e is Ellipsis)
    if ellipses > 1:
        raise _fail(x, "an index can only have a single ellipsis ('...')")
    consumed = sum(e[1].ndim if type(e) is tuple and e[0] in ("mask", "bmask") else 1
                   for e in entries if e is not None and e is not Ellipsis)
    if consumed > x.ndim:
        raise _fail(x, f"too many indices for array: array is {x.ndim}-dimensional, but "
                       f"{consumed} were indexed")
    fill = [FULL] * (x.ndim - consumed)
    if not ellipses:
        entries = list(entries) + fill
    else:
        at = entries.index(Ellipsis)
        entries = list(entries[:at]) + fill + list(entries[at + 1:])
    result, axis = [], 0
    for entry in entries:
        if type(entry) is tuple and entry[0] == "mask":
            result.extend(_mask_arrays(x, entry[1], axis))
            axis += entry[1].ndim
            continue
        result.append(entry)
        axis += entry[1].ndim if type(entry) is tuple and entry[0] == "bmask" else (
            entry is not None)
    return result


def _mask_arrays(x, mask, axis):
    for k, size in enumerate(mask.shape):
        dim = x.shape[axis + k]
        if dim != size:
            what = f"named size {dim!r}" if isinstance(dim, str) else f"size {dim}"
            raise _fail(x, f"boolean index did not match indexed array along axis {axis + k}; "
                           f"{what} of axis does not match size {size} of the boolean axis")
    if mask.ndim == 0:
        raise _fail(x, "a boolean scalar index is not supported; use None to add an axis")
    return [("ints", a.astype(np.intp)) for a in mask.nonzero()]


def _checked(x, entry, dim, axis):
    """An int or int array checked against a concrete axis size and made non-negative."""
    if not isinstance(dim, int):
        return entry
    values = np.asarray(entry)
    if values.size and (values.min() < -dim or values.max() >= dim):
        bad = values[(values < -dim) | (values >= dim)].flat[0]
        raise _fail(x, f"index {int(bad)} is out of bounds for axis {axis} with size {dim}")
    if isinstance(entry, int):
        return entry % dim if dim else entry
    return np.where(values < 0, values + dim, values).astype(np.intp)


def index_node(x: Node, key) -> Node:
    """``x[key]`` with NumPy's semantics (see the module docstring)."""
    entries = _expand(x, [_parse_entry(x, e) for e in (key if type(key) is tuple else (key,))])
    template, arrays, axis = [], [], 0
    for entry in entries:
        if entry is None:
            template.append(None)
            continue
        dim = x.shape[axis]
        if isinstance(entry, int):
            entry = _checked(x, entry, dim, axis)
        elif entry[0] in ("ints", "node", "bmask"):
            node = (constant(_checked(x, entry[1], dim, axis)) if entry[0] == "ints"
                    else entry[1])
            entry = (ARRAY, len(arrays))
            arrays.append(node)
            axis += node.ndim - 1 if node.dtype == "bool" else 0
        elif entry != FULL:
            try:
                if isinstance(entry[2], str) and entry[2] != dim:
                    raise ShapeError(f"the slice stop {entry[2]!r} names a dimension that is not "
                                     f"axis {axis}'s size {dim!r}")
                if not isinstance(dim, int) and entry[1:] != (None, None, -1):
                    entry = structure._named_slice(entry, dim, axis)
                _slice_length(entry, dim)
            except ShapeError as err:
                raise _fail(x, str(err)) from None
        template.append(entry)
        axis += 1
    if arrays:
        try:
            _broadcast_block([shape for shape, _ in array_parts(arrays)])
            _gather_infer(x, *arrays, index=tuple(template))
        except IndexingError as err:
            raise _fail(x, str(err)) from None
        return gather(x, *arrays, index=tuple(template))
    return _basic(x, template)


def _basic(x, template):
    """``getitem`` of the ints and slices, reshaped to insert the ``None`` axes."""
    picked = getitem(x, index=tuple(e for e in template if e is not None))
    if None not in template:
        return picked
    return reshape(picked, shape=_template_shape(x.shape, [], template))


INDEXING["build"] = index_node


# take_along_axis and its adjoint ----------------------------------------------------------

def _along_infer(arr, indices, axis):
    if indices.dtype != "int64":
        raise IndexingError(f"`indices` must be an integer array, got {describe(indices)} "
                            f"{indices.dtype}")
    if indices.ndim != arr.ndim:
        raise ShapeError("`indices` and `arr` must have the same number of dimensions "
                         f"({format_shape(indices.shape)} and {format_shape(arr.shape)})")
    dims = []
    for d, (a, i) in enumerate(zip(arr.shape, indices.shape)):
        dims.append(i if d == axis else _broadcast_block([(a,), (i,)])[0])
    return tuple(dims), arr.dtype


def _along_prepare(arr, indices, axis):
    return {"axis": normalize_axis(axis, arr.ndim)}


def _trailing_ones(indices, k):
    return reshape(indices, shape=indices.shape + (1,) * k) if k else indices


take_along_axis_op = op(
    "take_along_axis", reads_indices=True, infer=_along_infer, prepare=_along_prepare,
    numpy="np.take_along_axis({0}, {1}, axis={axis})", fresh=True, linear_in=(0,),
    keeps_positive=True, facts=lambda node, facts: F.sign_facts_of(facts(node.operands[0])),
    vjp=lambda g, out, arr, indices, axis: [
        add_along_axis(g, indices, axis=axis, shape=arr.shape), None],
    jvp=lambda tangents, out, arr, indices, axis: None if tangents[0] is None else
    take_along_axis_op(tangents[0], indices, axis=axis),
    jacobian=lambda s, node, js: take_along_axis_op(
        js[0], _trailing_ones(node.operands[1], s.k), axis=node.attrs["axis"]),
    samples=lambda: [Sample((Spec((3, 4)), Spec((3, 5), "labels:4")), {"axis": 1}),
                     Sample((Spec((3, 1)), Spec((2, 4), "labels:3")), {"axis": 0}),
                     Sample((Spec(("n", 3)), Spec(("n", 1), "labels:3")), {"axis": -1})])


def _add_along_infer(g, indices, axis, shape):
    want, _ = _along_infer(_Rank(shape), indices, axis)
    if g.shape != want:
        raise ShapeError(f"the values have shape {format_shape(g.shape)}, but taking "
                         f"{format_shape(indices.shape)} along axis {axis} of "
                         f"{format_shape(shape)} gives {format_shape(want)}")
    return shape, "float64"


add_along_axis = op(
    "add_along_axis", reads_indices=True, infer=_add_along_infer,
    prepare=lambda g, indices, axis, shape: {
        "axis": normalize_axis(axis, len(normalize_shape(shape))),
        "shape": normalize_shape(shape)},
    numpy=lambda args, attrs, ctx: f"_add_along_axis({args[0]}, {args[1]}, {attrs['axis']}, "
                                   f"{ctx.shape(attrs['shape'])})",
    helpers=(runtime._add_along_axis,), fresh=True, linear_in=(0,), keeps_positive=True,
    vjp=lambda g, out, v, indices, axis, shape: [take_along_axis_op(g, indices, axis=axis), None],
    jvp=lambda tangents, out, v, indices, axis, shape: None if tangents[0] is None else
    add_along_axis(tangents[0], indices, axis=axis, shape=shape),
    jacobian=lambda s, node, js: add_along_axis(
        js[0], _trailing_ones(node.operands[1], s.k), axis=node.attrs["axis"],
        shape=node.shape + s.x.shape),
    samples=lambda: [Sample((Spec((3, 5)), Spec((3, 5), "labels:4")), {"axis": 1, "shape": (3, 4)}),
                     Sample((Spec((2, "n")), Spec((2, "n"), "labels:3")),
                            {"axis": 0, "shape": (3, "n")})])


# The NumPy functions ----------------------------------------------------------------------

def _index_operand(x, indices, dim, axis, what):
    """``indices`` as an int64 node: an int input as is, a constant checked against ``dim``."""
    try:
        return _index_node_of(x, indices, dim, axis, what)
    except (IndexingError, IndexTypeError) as err:  # named after the function called
        raise type(err)(what + str(err)[len("getitem"):]) from None


def _index_node_of(x, indices, dim, axis, what):
    parsed = _parse_entry(x, indices)
    if isinstance(parsed, int):
        parsed = ("ints", np.asarray(parsed, dtype=np.intp))
    if not (type(parsed) is tuple and parsed[0] in ("ints", "node")):
        raise _fail(x, f"`indices` of {what} must be an integer array", IndexTypeError)
    if parsed[0] == "node":
        return parsed[1]
    return constant(_checked(x, parsed[1], dim, axis))


def take(a, indices, axis=None, out=None, mode="raise"):
    """NumPy ``take``: ``a[..., indices]`` along ``axis`` (``a.ravel()[indices]`` when
    axis is None). ``mode='raise'``: out-of-range constant indices raise IndexError
    at build time, input indices at call time (NumPy's own check); ``'clip'`` and
    ``'wrap'`` bring the indices into range first (the axis needs an int size)."""
    a = as_node(a)
    if out is not None:
        raise TypeError("take: out= is not supported (symgrad nodes are immutable)")
    if mode not in ("raise", "clip", "wrap"):
        raise ValueError(f"take: mode must be 'raise', 'clip' or 'wrap', got mode={mode!r}")
    if axis is None:
        a, axis = reshape(a, shape=(-1,)), 0
    axis = normalize_axis(axis, a.ndim)
    if mode != "raise":
        indices = _in_range(a, axis, indices, mode)
    return a[(slice(None),) * axis + (_as_key(indices),)]


def _in_range(a, axis: int, indices, mode: str):
    """``indices`` clipped to, or wrapped into, ``[0, n)`` for the size ``n`` of ``axis``."""
    n = a.shape[axis]
    if not isinstance(n, int):
        raise ShapeError(f"take({describe(a)}, mode={mode!r}): axis {axis} needs an int size")
    if isinstance(indices, Node):
        from .elementwise import maximum, minimum
        from .transcendental import remainder
        return minimum(maximum(indices, 0), n - 1) if mode == "clip" else remainder(indices, n)
    indices = np.asarray(indices)
    return np.clip(indices, 0, n - 1) if mode == "clip" else np.mod(indices, n)


def _as_key(indices):
    """``indices`` as one advanced entry (a tuple would read as several)."""
    return np.asarray(indices) if isinstance(indices, tuple) else indices


def take_along_axis(arr, indices, axis=-1):
    """NumPy ``take_along_axis``: entries of ``arr`` picked along ``axis`` by ``indices``
    (same rank as ``arr``; the other axes broadcast); ``axis=None`` reads ``arr``
    flattened with 1-d ``indices``. Repeated indices accumulate in the gradient."""
    arr = as_node(arr)
    if axis is None:
        arr, axis = reshape(arr, shape=(-1,)), 0
    axis = normalize_axis(axis, arr.ndim)
    node = _index_operand(arr, _as_key(indices), arr.shape[axis], axis, "take_along_axis")
    if node.ndim == arr.ndim:
        try:
            _along_infer(arr, node, axis)
        except IndexingError as err:
            raise _fail(arr, str(err), name="take_along_axis") from None
    return take_along_axis_op(arr, node, axis=axis)
