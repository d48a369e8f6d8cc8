"""Leaves and structural ops: inputs, constants, zeros, eye, transpose, reshape,
broadcast_to, indexing, concatenate, diag, one_hot. All but one_hot are linear."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..ir.graph import REGISTRY, Node, as_dtype, describe, result_dtype
from ..ir.leaves import as_node
from ..ir.template_forms import numpy_dtype
from ..ir.shapes import (ShapeError, broadcast_shapes, format_shape, normalize_axis,
                      normalize_shape, symbolic_size, unify_dims, dim_add,
                      dim_divide, size_of)
from ..ir.print_forms import ATOM, POSTFIX, PRODUCT, SCRIPT, UNARY, Piece
from .base import Sample, Spec, constant_uniform, linear_jvp, op, operand_uniform, zeros
from . import facts as F
from . import runtime
from ..ir.graph import Portable
from . import portable as xpl

# Leaves --------------------------------------------------------------------------


def _constant_facts(node, facts):
    value = node.value
    found = F.sign_facts(value)
    if value.ndim == 2 and value.shape[0] == value.shape[1] and np.array_equal(value, value.T):
        found.add("symmetric")
        if value.size and value.dtype.kind == "f" and _cholesky_ok(value):
            found.add("spd")
    return found


def _cholesky_ok(value: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(value)
    except np.linalg.LinAlgError:
        return False
    return True


#: Structure an input may be declared to have (``sg.matrix(..., symmetric=True)``); a
#: declared fact is trusted, like a dtype: the rewrites and lowerings build on it.
DECLARED_FACTS = {"symmetric": {"symmetric"}, "positive_definite": {"spd"}}


def _print_constant(p, node):
    return _constant_piece(p, node.value)


def _constant_piece(p, array):
    """A number, ``I``, a short array literal, or ``const(shape)``; a uniform array
    ``full(shape, c)`` (or its literal), which an elementwise parent prints as ``c``."""
    if array.ndim == 0:
        text = p.number(array.item())
        if text.startswith("-"):
            return Piece(text, UNARY, neg=Piece(text[1:]), weight=0)
        return Piece(text, weight=0)
    if array.ndim == 2 and array.shape[0] == array.shape[1] and np.array_equal(
            array, np.eye(len(array))):
        return Piece("I", weight=0)
    number = None
    if array.size and np.all(array == array.flat[0]):  # a broadcast number
        number = _constant_piece(p, as_node(array.flat[0].item()).value)
    if array.size <= 16 and array.ndim <= 2:
        return Piece(p.array(array), weight=0, implicit=number)
    if number is not None:
        return dataclasses.replace(p.call("full", [p.attr(array.shape), number.text]),
                                   weight=0, implicit=number)
    return dataclasses.replace(p.call("const", [p.attr(d) for d in array.shape]), weight=0)


def _sympy_input(s, node):
    """A real Symbol for a scalar, a MatrixSymbol (vectors as columns) for an array."""
    if node.dtype != "float64":
        raise ValueError(f"input {describe(node)} has dtype {node.dtype}; only float64 "
                         "inputs have a SymPy equivalent")
    if not node.ndim:
        return s.sp.Symbol(node.name, real=True)
    return s.sp.MatrixSymbol(node.name, *s.matrix_shape(node.shape))


def _sympy_constant(s, node):
    value = node.value
    if not value.ndim:
        return s.number(value.item())
    rows = value.reshape(-1, 1) if value.ndim == 1 else value
    return s.sp.ImmutableMatrix([[s.number(v) for v in row] for row in rows.tolist()])


def _symmetric_input_transposed(node):
    """``Sᵀ = S`` for an input declared symmetric (the declaration is trusted), so a
    gradient's ``S + Sᵀ`` is built ``2 * S``, as the Cookbook's symmetric cases read."""
    return node if node.attrs.get("structure") in DECLARED_FACTS else None


input_ = op("input", infer=lambda name, shape, dtype, structure=None: (shape, dtype), numpy=None,
            view=True, leaf="input", transposed=_symmetric_input_transposed,
            facts=lambda node, facts: DECLARED_FACTS.get(node.attrs.get("structure"), set()),
            unicode=lambda p, node: Piece(p.input_name(node.name), weight=0),
            to_sympy=_sympy_input)
constant = op("constant", infer=lambda value: (value.array.shape, value.array.dtype.name),
              numpy=None, view=True, leaf="constant", facts=_constant_facts, uniform=constant_uniform,
              unicode=_print_constant,
              to_sympy=_sympy_constant)
zeros_op = op("zeros", infer=lambda shape, dtype="float64": (normalize_shape(shape), dtype),
              # one spelling, so zeros((2, 3)) and zeros((2, 3), "float64") intern together
              prepare=lambda shape, dtype="float64": {"shape": normalize_shape(shape),
                                                     "dtype": as_dtype(dtype).name},
              numpy=lambda args, attrs, ctx: f"np.zeros({ctx.shape(attrs['shape'])}"
              + ("" if attrs.get("dtype", "float64") == "float64" else f", dtype={numpy_dtype(attrs['dtype'])}")
              + ")",
              scalar="0.0",
              fresh=True, uniform=lambda node, value: value == 0,
              facts=lambda node, facts: {"psd", "nonnegative"} if F.is_square(node) else {"nonnegative"},
              unicode=lambda p, node: Piece("0", weight=0),
              to_sympy=lambda s, node: (s.sp.ZeroMatrix(*s.matrix_shape(node.shape)) if node.ndim
                                        else s.sp.Integer(0)),
    array_api=lambda args, attrs, ctx: f"xp.zeros({ctx.shape(attrs['shape'])}, dtype=xp.{attrs.get('dtype', 'float64')})")
eye = op("eye", infer=lambda n: ((n, n), "float64"),
         numpy=lambda args, attrs, ctx: f"np.eye({ctx.dim(attrs['n'])})", fresh=True,
         positive_result=True, facts=F.constant_rule({"spd", "nonnegative"}),
         unicode=lambda p, node: Piece("I", weight=0),
         to_sympy=lambda s, node: s.sp.Identity(s.dim(node.attrs["n"])),
    array_api=lambda args, attrs, ctx: f"xp.eye({ctx.dim(attrs['n'])}, dtype=xp.float64)")


def _print_dimsize(joiner: str):
    """``n·m``: the named dimensions' product, joined by ``joiner``."""
    def rule(p, node):
        dims = [p.attr(d) for d in node.attrs["dims"]]
        return Piece(joiner.join(dims), PRODUCT if len(dims) > 1 else ATOM, weight=0)
    return rule


dimsize = op("dimsize", infer=lambda dims: ((), "float64"),
             # a NumPy float, so that dividing by an empty size gives inf/nan as NumPy does
             # (a Python float raises ZeroDivisionError)
             numpy=lambda args, attrs, ctx: "np.float64(" + " * ".join(ctx.dim(d) for d in attrs["dims"]) + ")",
             positive_result=True,
             unicode=_print_dimsize("·"), latex=_print_dimsize(r" \cdot "),
             to_sympy=lambda s, node: s.sp.Mul(*[s.dim(d) for d in node.attrs["dims"]]),
    array_api=lambda args, attrs, ctx: "xp.asarray(" + " * ".join(ctx.dim(d) for d in attrs["dims"]) + ", dtype=xp.float64)")


# Transpose, reshape, broadcast ---------------------------------------------------

def _transpose_prepare(x, axes=None):
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(normalize_axis(a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose axes {axes} are not a permutation of {x.ndim} axes")
    return {"axes": axes}


def _transpose_fold(x, axes):
    if axes == tuple(range(x.ndim)):
        return x
    if x.op is transpose:
        inner = x.attrs["axes"]
        return transpose(x.operands[0], axes=tuple(inner[a] for a in axes))
    if x.op.transposed is not None and axes == (1, 0):
        return x.op.transposed(x)
    return None


def _transpose_numpy(args, attrs, ctx):
    axes = attrs["axes"]
    if axes == tuple(reversed(range(len(axes)))):
        return f"{args[0]}.T"
    return f"np.transpose({args[0]}, {axes!r})"


def _inverse_permutation(axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)


def _print_transpose(p, node, x):
    """``Aᵀ`` (a call for another axis order)."""
    axes = node.attrs["axes"]
    if axes != tuple(reversed(range(len(axes)))):
        return p.call("transpose", [x.text], {"axes": axes})
    return p.script(x, p.head(node.op), "transpose")


transpose = op("transpose", infer=lambda x, axes: (tuple(x.shape[a] for a in axes), x.dtype),
               prepare=_transpose_prepare, fold=_transpose_fold, numpy=_transpose_numpy,
               vjp=lambda g, out, x, axes: [transpose(g, axes=_inverse_permutation(axes))],
               jvp=linear_jvp, view=True, linear_in=(0,), keeps_positive=True,
               facts=F.keeps("symmetric", "psd", "spd", *F.SIGN),
               jacobian=lambda s, node, js: transpose(
                   js[0], axes=node.attrs["axes"] + tuple(range(node.ndim, node.ndim + s.k))),
               samples=lambda: [Sample((Spec((2, 3)),)), Sample((Spec(("n", "m")),)),
                                Sample((Spec((2, 3, 4)),), {"axes": (1, 2, 0)})],
               operators=(np.ndarray.transpose,),
               unicode=_print_transpose, symbol="ᵀ", latex_symbol="^{T}",
               to_sympy=lambda s, node, x: s.T(x),
    array_api=lambda args, attrs, ctx: (f"{args[0]}.T" if attrs["axes"] == (1, 0)
                                       else f"xp.permute_dims({args[0]}, {attrs['axes']!r})"))


def _reshape_prepare(x, shape):
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if -1 in shape:
        shape = _resolve_minus_one(x, shape)
    shape = normalize_shape(shape)
    if symbolic_size(shape) != symbolic_size(x.shape):
        raise ShapeError(f"cannot reshape {format_shape(x.shape)} into {format_shape(shape)}")
    return {"shape": shape}


def _resolve_minus_one(x, shape):
    """The size a -1 stands for: the entries of ``x`` divided by the known sizes (an
    int, a name or a derived size such as ``3*n``)."""
    known = [d for d in shape if d != -1]
    fill = dim_divide(size_of(x.shape), size_of(known)) if shape.count(-1) == 1 else None
    if fill is None or size_of(known) == 0:
        raise ShapeError(f"cannot reshape {format_shape(x.shape)} into {shape}")
    return tuple(fill if d == -1 else d for d in shape)


def _reshape_fold(x, shape):
    if shape == x.shape:
        return x
    if x.op is reshape:
        return reshape(x.operands[0], shape=shape)
    return None


def _squeezed(node: Node) -> tuple:
    """The shape of ``node``'s keepdims-reduction operand without the kept axes."""
    reduced = node.operands[0]
    axis = reduced.attrs["axis"]
    return tuple(d for i, d in enumerate(reduced.shape) if i not in axis)


def _print_reshape(p, node, x):
    """A reshape undoing a printed reduction's keepdims prints as the reduction without it."""
    if x.squeezed is not None and node.shape == _squeezed(node):
        return x.squeezed
    return p.call(node.op, [x.text], {"shape": node.shape})


def _sympy_reshape(s, node, x):
    source, target = node.operands[0].shape, node.shape
    if not source and target in ((1,), (1, 1)):
        return s.sp.ImmutableMatrix([[x]])
    if not target and source in ((1,), (1, 1)):
        return s.element(x)
    if source and target and s.matrix_shape(source) == s.matrix_shape(target):
        return x
    # a row to a column (or back) keeps NumPy's row-major order: a transpose; any
    # other reshape between (a, b) and (b, a) reorders entries and has no SymPy form
    if source and target and s.matrix_shape(source) == s.matrix_shape(target)[::-1] \
            and 1 in s.matrix_shape(source):
        return s.T(x)
    return s.unsupported(node)


reshape = op("reshape", infer=lambda x, shape: (shape, x.dtype), prepare=_reshape_prepare,
             fold=_reshape_fold,
             numpy=lambda args, attrs, ctx: f"np.reshape({args[0]}, {ctx.shape(attrs['shape'])})",
             vjp=lambda g, out, x, shape: [reshape(g, shape=x.shape)],
             jvp=linear_jvp, view=True, linear_in=(0,), keeps_positive=True,
             facts=F.keeps(*F.SIGN), uniform=operand_uniform,
             jacobian=lambda s, node, js: reshape(js[0], shape=node.shape + s.x.shape),
             samples=lambda: [Sample((Spec((2, 3)),), {"shape": (6,)}),
                              Sample((Spec(("n", 3)),), {"shape": (3, "n")}),
                              Sample((Spec((4,)),), {"shape": (2, -1)})],
             operators=(np.ndarray.reshape,),
             unicode=_print_reshape,
             to_sympy=_sympy_reshape)


def unbroadcast(g: Node, shape) -> Node:
    """Sum ``g`` over the axes that broadcasting added or stretched, down to ``shape``."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    stretched = tuple(lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    if not stretched:
        return REGISTRY["sum"](g, axis=tuple(range(lead)))
    summed = REGISTRY["sum"](g, axis=tuple(range(lead)) + stretched, keepdims=True)
    return reshape(summed, shape=shape)


def _broadcast_facts(node, facts):
    (x,) = node.operands
    found = F.sign_facts_of(facts(x))
    if F.is_square(node) and x.ndim == 0:
        found.add("symmetric")
    return found


def _broadcast_infer(x, shape):
    shape = normalize_shape(shape)
    if broadcast_shapes(x.shape, shape) != shape:
        raise ShapeError(f"cannot broadcast {format_shape(x.shape)} to {format_shape(shape)}")
    return shape, x.dtype


def _print_broadcast(p, node, x):
    """A broadcast number as the uniform array it is, spelled as a constant array
    prints (``[0.2, 0.2, 0.2]``, ``full((n,), 1 / n)``: the gradient of a mean reads
    as its simplified form); any other broadcast as the call. An elementwise parent
    prints the operand alone (``implicit``)."""
    operand = node.operands[0]
    if operand.ndim:
        return Piece(p.call(node.op, [x.text], {"shape": node.shape}).text, implicit=x)
    known = all(isinstance(d, int) for d in node.shape)
    if operand.value is not None and known and np.prod(node.shape) <= 16 and node.ndim <= 2:
        return dataclasses.replace(_constant_piece(p, np.broadcast_to(operand.value, node.shape)),
                                   implicit=x)
    return Piece(p.call("full", [p.attr(node.shape), x.text]).text, implicit=x,
                 weight=x.weight)


broadcast_to_op = op("broadcast_to", infer=_broadcast_infer,
                     prepare=lambda x, shape: {"shape": normalize_shape(shape)},
                     fold=lambda x, shape: x if x.shape == shape else None,
                     numpy=lambda args, attrs, ctx:
                     f"np.broadcast_to({args[0]}, {ctx.shape(attrs['shape'])})",
                     vjp=lambda g, out, x, shape: [unbroadcast(g, x.shape)],
                     jvp=linear_jvp, view=True, linear_in=(0,), uniform=operand_uniform,
                     keeps_positive=True, facts=_broadcast_facts,
                     jacobian=lambda s, node, js: s.lift(js[0], node.shape),
                     samples=lambda: [Sample((Spec((3,)),), {"shape": (2, 3)}),
                                      Sample((Spec(("n", 1)),), {"shape": ("n", 4)})],
                     unicode=lambda p, node, x: _print_broadcast(p, node, x),
                     to_sympy=lambda s, node, x: s.broadcast(x, node.operands[0], node),
    array_api=lambda args, attrs, ctx: (
        f"xp.broadcast_to(xp.asarray({args[0]}, dtype=xp.{ctx.operands[0].dtype}), {ctx.shape(attrs['shape'])})"
        if ctx.ndim(0) == 0 else f"xp.broadcast_to({args[0]}, {ctx.shape(attrs['shape'])})"))


# Indexing ------------------------------------------------------------------------

FULL = ("slice", None, None, None)


def _named_slice(key, dim, axis):
    """A bounded slice of the named size ``dim``: ``start`` None or an int >= 0, ``stop``
    None, an int < 0 (counted from the end) or ``dim`` itself, step 1: its size
    ``dim - start - |stop|`` is derived from ``dim`` (checked >= 0 at call time)."""
    _, start, stop, step = key
    if stop == dim and isinstance(stop, str):
        stop = None
    if step in (None, 1) and (start is None or (isinstance(start, int) and start >= 0)) and (
            stop is None or (isinstance(stop, int) and stop < 0)):
        key = ("slice", start or None, stop, None)
        return FULL if key == FULL else key
    raise ShapeError(f"axis {axis} has the named size {dim!r}: slice {slice(*key[1:])} would "
                     f"give a size that depends on {dim!r}'s value (min(...)); slice it with a "
                     f"start >= 0 and a stop counted from the end (x[1:], x[:-1], x[2:-3]), "
                     "':' or '::-1'")


def _slice_size(entry, dim):
    """The size a (normalized) slice entry leaves of ``dim``."""
    if isinstance(dim, int):
        return len(range(*slice(*entry[1:]).indices(dim)))
    if entry == FULL or entry[1:] == (None, None, -1):
        return dim
    _, start, stop, _ = entry
    begin = dim_add(dim, start) if start is not None and start < 0 else (start or 0)
    end = dim if stop is None else dim_add(dim, stop) if stop < 0 else stop
    return dim_add(end, begin, sign=-1)


def _index_entry(entry, dim, axis):
    if isinstance(entry, tuple) and len(entry) == 4 and entry[0] == "slice":
        entry = slice(*entry[1:])
        if isinstance(entry.stop, str) and entry.stop == dim:
            entry = slice(entry.start, None, entry.step)
    if isinstance(entry, slice):
        key = ("slice", entry.start, entry.stop, entry.step)
        if isinstance(key[2], str) and key[2] == dim:
            key = key[:2] + (None, key[3])
        for part in key[1:]:
            if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
                raise TypeError(f"slice bounds must be ints (or the axis's own dimension name "
                                f"as the stop), got {entry}")
        if key[3] == 0:
            raise ShapeError("slice step cannot be zero")
        if key == FULL or isinstance(dim, int) or key[1:] == (None, None, -1):
            return key
        if key[3] in (None, 1):  # built by the ops themselves (concatenate's VJP): any bounds
            return ("slice", key[1], key[2], None)
        return _named_slice(key, dim, axis)
    if isinstance(entry, bool) or not isinstance(entry, int):
        raise TypeError(f"index {entry!r} on axis {axis}: only ints and slices are supported")
    if isinstance(dim, int):
        if not -dim <= entry < dim:
            raise ShapeError(f"index {entry} is out of bounds for axis {axis} with size {dim}")
        return entry % dim
    return entry


def _getitem_prepare(x, index):
    if not isinstance(index, tuple):
        index = (index,)
    if any(e is Ellipsis for e in index):
        at = index.index(Ellipsis)
        fill = x.ndim - (len(index) - 1)
        index = index[:at] + (slice(None),) * fill + index[at + 1:]
    if len(index) > x.ndim:
        raise ShapeError(f"too many indices ({len(index)}) for shape {format_shape(x.shape)}")
    entries = tuple(_index_entry(e, d, a) for a, (e, d) in enumerate(zip(index, x.shape)))
    return {"index": entries + (FULL,) * (x.ndim - len(entries))}


def _getitem_infer(x, index):
    shape = []
    for entry, dim in zip(index, x.shape):
        if isinstance(entry, tuple):
            shape.append(_slice_size(entry, dim))
    return tuple(shape), x.dtype


def index_source(index) -> str:
    """``0, 1:3, :`` for an index tuple."""
    def part(entry):
        if isinstance(entry, int):
            return str(entry)
        start, stop, step = (("" if p is None else str(p)) for p in entry[1:])
        return f"{start}:{stop}" + (f":{step}" if step else "")
    return ", ".join(part(e) for e in index)


def _scatter_infer(g, shape, index):
    return normalize_shape(shape), g.dtype


def _print_getitem(p, node, x):
    text = p.wrap(x, x.prec < SCRIPT) + f"[{index_source(node.attrs['index'])}]"
    return Piece(text, POSTFIX, weight=x.weight + 1)


def _latex_getitem(p, node, x):
    return p.subscript(x, index_source(node.attrs["index"]))


def _sympy_getitem(s, node, x):
    """An entry (a MatrixElement of a symbol, else a (1, 1) slice's trace) or a slice."""
    keys = [slice(*entry[1:]) if isinstance(entry, tuple) else entry
            for entry in node.attrs["index"]]
    if len(keys) == 1:
        keys.append(0)
    if isinstance(keys[0], int) and isinstance(keys[1], int):
        if isinstance(x, s.sp.MatrixSymbol):
            return s.matrix_element(x, keys[0], keys[1])
        return s.element(x[keys[0]:keys[0] + 1, keys[1]:keys[1] + 1])
    picked = x[keys[0], keys[1]]
    return s.T(picked) if isinstance(keys[0], int) else picked


getitem = op("getitem", infer=_getitem_infer, prepare=_getitem_prepare,
             fold=lambda x, index: x if all(e == FULL for e in index) else None,
             numpy=lambda args, attrs, ctx: f"{args[0]}[{index_source(attrs['index'])}]",
             vjp=lambda g, out, x, index: [scatter(g, shape=x.shape, index=index)],
             jvp=linear_jvp, view=True, linear_in=(0,), keeps_positive=True,
             facts=F.keeps(*F.SIGN),
             jacobian=lambda s, node, js: getitem(js[0], index=tuple(node.attrs["index"]) + (FULL,) * s.k),
             samples=lambda: [Sample((Spec((4,)),), {"index": 1}),
                              Sample((Spec((3, 4)),), {"index": (slice(None), 2)}),
                              Sample((Spec((3, "n")),), {"index": (slice(0, 2),)})],
             unicode=_print_getitem, latex=_latex_getitem,
             to_sympy=_sympy_getitem)

scatter = op("scatter", infer=_scatter_infer,
             prepare=lambda g, shape, index: {"shape": normalize_shape(shape), "index": index},
             numpy=lambda args, attrs, ctx: f"_scatter({args[0]}, {ctx.shape(attrs['shape'])}, "
                                            f"np.s_[{index_source(attrs['index'])}])",
             helpers=(runtime._scatter,), fresh=True, linear_in=(0,), keeps_positive=True,
             vjp=lambda g, out, x, shape, index: [getitem(g, index=index)],
             jvp=linear_jvp,
             jacobian=lambda s, node, js: scatter(js[0], shape=node.shape + s.x.shape,
                                                  index=tuple(node.attrs["index"]) + (FULL,) * s.k),
             samples=lambda: [Sample((Spec((2,)),), {"shape": (3, 2), "index": (1, FULL)})],
             unicode=lambda p, node, g: p.call(node.op, [g.text, p.attr(node.shape),
                                                         p.brackets(index_source(node.attrs["index"]))]),
    array_api=Portable(lambda args, attrs, ctx: f"_xp_scatter(xp, {args[0]}, {ctx.shape(attrs['shape'])}, "
                                             f"{xpl.index_tuple(attrs['index'])})",
                       helpers=(xpl._xp_scatter,)))


def _scatter_sum_infer(*gs, shape, indices):
    if len(gs) != len(indices):
        raise ShapeError(f"{len(gs)} operands but {len(indices)} indices")
    return normalize_shape(shape), "float64"


def _scatter_sum_numpy(args, attrs, ctx) -> str:
    indices = ", ".join(f"np.s_[{index_source(index)}]" for index in attrs["indices"])
    return f"_scatter_sum({ctx.shape(attrs['shape'])}, ({indices},), {', '.join(args)})"


#: ``scatter(g1, shape, i1) + scatter(g2, shape, i2) + ...`` in one buffer (a
#: compile-time lowering, symgrad.compile.specialize): the chain of adds allocated and
#: added a whole array per term, quadratic in the number of terms.
scatter_sum = op("scatter_sum", reads_indices=True, infer=_scatter_sum_infer, numpy=_scatter_sum_numpy,
                 helpers=(runtime._scatter_sum,), fresh=True, differentiable=False,
    array_api=Portable(reason="only the NumPy backend's compile-time specialization forms it"))


# Concatenate, diag, one_hot ---------------------------------------------------------

def _concatenate_infer(*xs, axis):
    first = xs[0]
    total = 0
    for x in xs:
        if x.ndim != first.ndim:
            raise ShapeError(f"all operands need rank {first.ndim}")
        for a, (d, e) in enumerate(zip(first.shape, x.shape)):
            if a == axis:
                total = dim_add(total, e)
            else:
                unify_dims(d, e, f"axis {a}")
    if sum(not isinstance(x.shape[axis], int) for x in xs) > 1:
        raise ShapeError(f"cannot concatenate along axis {axis} more than one operand of named "
                         f"size ({', '.join(format_shape(x.shape) for x in xs)}): the gradient's "
                         "slices need every other size to be an int")
    shape = first.shape[:axis] + (total,) + first.shape[axis + 1:]
    return shape, result_dtype(*(x.dtype for x in xs))


def _concatenate_prepare(*xs, axis=0):
    if not xs:
        raise ValueError("concatenate needs at least one operand")
    if xs[0].ndim == 0:
        raise ShapeError("zero-dimensional nodes cannot be concatenated")
    return {"axis": normalize_axis(axis, xs[0].ndim)}


def _concatenate_vjp(g, out, *xs, axis):
    """Each operand's slice of ``g``: counted from the start before the (at most one)
    operand of named size, from the end after it."""
    sizes = [x.shape[axis] for x in xs]
    named = next((i for i, d in enumerate(sizes) if not isinstance(d, int)), len(xs))
    grads, start = [], 0
    for i, x in enumerate(xs):
        if i < named:
            entry = ("slice", start, start + sizes[i], None)
            start += sizes[i]
        else:
            after = sum(sizes[i + 1:])
            before = -(after + sizes[i]) if i > named else start
            entry = ("slice", before or None, -after if after else None, None)
        index = (FULL,) * axis + (FULL if entry == FULL else entry,)
        grads.append(getitem(g, index=index))
    return grads


def _concatenate_jvp(tangents, out, *xs, axis):
    if all(t is None for t in tangents):
        return None
    filled = [t if t is not None else zeros(x.shape) for t, x in zip(tangents, xs)]
    return concatenate(*filled, axis=axis)


concatenate = op("concatenate", infer=_concatenate_infer, prepare=_concatenate_prepare,
                 numpy=lambda args, attrs, ctx: f"np.concatenate(({', '.join(args)},), axis={attrs['axis']})",
                 vjp=_concatenate_vjp, jvp=_concatenate_jvp, fresh=True, keeps_positive=True,
                 jacobian=lambda s, node, js: concatenate(
                     *[j if j is not None else zeros(o.shape + s.x.shape)
                       for j, o in zip(js, node.operands)], axis=node.attrs["axis"]),
                 samples=lambda: [Sample((Spec((2,)), Spec((3,))), {}),
                                  Sample((Spec(("n", 2)), Spec(("n", 1))), {"axis": 1})],
                 unicode=lambda p, node, *xs: p.call(node.op, [x.text for x in xs],
                                                     {"axis": node.attrs["axis"]} if node.attrs["axis"] else {}),
    array_api=lambda args, attrs, ctx: f"xp.concat(({', '.join(args)},), axis={attrs['axis']})")


def _diag_infer(x):
    if x.ndim == 1:
        return (x.shape[0], x.shape[0]), x.dtype
    if x.ndim == 2:
        return (unify_dims(*x.shape, "diag of a non-square matrix"),), x.dtype
    raise ShapeError("diag needs a vector or a square matrix")


def _diag_facts(node, facts):
    (x,) = node.operands
    if x.ndim != 1:
        return F.NONE
    fx = facts(x)
    found = {"symmetric"}
    if "nonnegative" in fx:
        found.add("psd")
    if "positive" in fx:
        found.add("spd")
    return found


diag = op("diag", infer=_diag_infer, numpy="np.diag({0})", linear_in=(0,), keeps_positive=True,
          facts=_diag_facts,
          vjp=lambda g, out, x: [diag(g)], jvp=linear_jvp,
          view=True,  # np.diag of a matrix is a read-only view of it
          samples=lambda: [Sample((Spec((3,)),)), Sample((Spec(("n", "n")),))],
          cli=(("node", None),),
    array_api=lambda args, attrs, ctx: (
        f"xp.where(xp.eye({ctx.dim(ctx.operands[0].shape[0])}, dtype=xp.bool), {args[0]}, "
        f"xp.zeros((), dtype=xp.{ctx.operands[0].dtype}))" if ctx.ndim(0) == 1
        else f"xp.linalg.diagonal({args[0]})"))


def _one_hot_infer(labels, k):
    if labels.dtype not in ("int64",):
        raise ShapeError(f"labels must be integers, got {labels.dtype}")
    return labels.shape + (k,), "float64"


one_hot = op("one_hot", reads_indices=True, infer=_one_hot_infer,
             prepare=lambda labels, k: {"k": normalize_shape((k,))[0]},
             numpy=lambda args, attrs, ctx: f"_one_hot({args[0]}, {ctx.dim(attrs['k'])})",
             helpers=(runtime._one_hot,), differentiable=False,
             positive_result=True, facts=F.NONNEGATIVE,
             unicode=lambda p, node, labels: p.call(node.op, [labels.text, p.attr(node.attrs["k"])]),
    array_api=lambda args, attrs, ctx: f"xp.astype({args[0]}[..., None] == xp.arange({ctx.dim(attrs['k'])}), xp.float64)")


# Compile-time lowering ops for labels (symgrad.compile.specialize): indexing instead of
# a materialized one_hot. Not differentiable; they appear only in compiled code.
# ``label_rows(y, k)`` is one node per label array, so the range check and the
# index arrays are computed once for every ``pick`` and ``one_hot_add`` of it.


def _label_rows_infer(labels, k):
    _one_hot_infer(labels, k)
    return labels.shape, "int64"


label_rows = op("label_rows", reads_indices=True, infer=_label_rows_infer,
                prepare=lambda labels, k: {"k": normalize_shape((k,))[0]},
                numpy=lambda args, attrs, ctx: f"_label_rows({args[0]}, {ctx.dim(attrs['k'])})",
                helpers=(runtime._label_rows,), differentiable=False,
    array_api=Portable(reason="only the NumPy backend's compile-time specialization forms it"))


def _rows_of(x, rows):
    if rows.op is not label_rows:
        raise ShapeError("the rows operand must be label_rows of the labels")
    if x.ndim != rows.ndim + 1:
        raise ShapeError(f"labels of shape {format_shape(rows.shape)} do not index the rows "
                         f"of shape {format_shape(x.shape)}")
    for d, e in zip(x.shape, rows.shape + (rows.attrs["k"],)):
        unify_dims(d, e, "rows and labels")


def _pick_infer(x, rows):
    _rows_of(x, rows)
    return rows.shape, "float64"


def _one_hot_add_infer(x, rows, sign):
    _rows_of(x, rows)
    return x.shape, "float64"


pick = op("pick", reads_indices=True, infer=_pick_infer, numpy="_pick({0}, {1})", helpers=(runtime._pick,),
          differentiable=False,
    array_api=Portable(reason="only the NumPy backend's compile-time specialization forms it"))
one_hot_add = op("one_hot_add", reads_indices=True, infer=_one_hot_add_infer, numpy="_one_hot_add({0}, {1}, {sign!r})",
                 fresh=True, helpers=(runtime._one_hot_add,), differentiable=False,
    array_api=Portable(reason="only the NumPy backend's compile-time specialization forms it"))


def stack_rows(rows, shape) -> Node:
    """Nodes of equal shape stacked along a new leading axis, reshaped to ``shape``."""
    flat = [reshape(r, shape=(1,) + r.shape) for r in rows]
    return reshape(concatenate(*flat, axis=0), shape=shape) if len(flat) > 1 else reshape(
        flat[0], shape=shape)


