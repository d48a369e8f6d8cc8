"""Products of any rank: one general ``einsum`` op, the ``diagonal`` pair, and NumPy's
product functions built from them.

``einsum`` holds its subscripts in a canonical form, ``"ij,jk->ik"``: letters
only (an ellipsis is spelled out in letters that the subscripts do not use),
the output always explicit. Its shape rule keeps named dimensions symbolic;
a label of size 1 in one operand and ``n`` in another broadcasts, as in
NumPy, by squeezing that axis (the operand is then constant along the label).
Its derivatives are einsums again: the VJP for an operand swaps the output's
subscripts with that operand's, with an identity factor for each repeated
label (the adjoint of taking a diagonal embeds into one), broadcast along each
label summed inside that operand alone; the JVP is the product rule, and so is
the whole-Jacobian rule (the point's axes get fresh labels). Matrix products
fold to the 2-D ``matmul`` op and lower to ``np.matmul``/``np.tensordot``.

``matmul``/``@`` of rank > 2 (NumPy's batch broadcasting), ``dot``, ``inner``,
``tensordot``, ``vdot``, ``kron`` and ``cross`` are einsums, or the existing
2-D ``matmul``/``outer`` ops where those compute the same thing, so graphs,
printing and generated code of the 2-D products stay what they were.
"""
from __future__ import annotations

import operator
import string

import numpy as np

from ..ir.graph import Node, command_line, describe, result_dtype
from ..ir.leaves import as_node, constant
from ..ir.shapes import (ShapeError, broadcast_shapes, format_shape, normalize_axis,
                      normalize_shape, symbolic_size)
from .base import Sample, Spec, add_all, broadcast_to, is_constant, op, zeros
from . import elementwise
from .linalg import BATCHED_MATMUL, dot as dot_2d, matmul as matmul_op, outer as outer_op, trace as trace_op
from .linalg import dot_source, print_matmul
from .reductions import sum_
from .structure import concatenate, diag as diag_op, eye, reshape, transpose
from . import runtime
from ..ir.graph import Portable
from . import portable as xpl

LETTERS = string.ascii_letters
# Letters for spelled-out ellipses and fresh labels of the derivative rules: capitals
# first, since users' subscripts are mostly lowercase (NumPy sorts capitals first too).
FRESH_ORDER = string.ascii_uppercase + string.ascii_lowercase


# Subscripts ----------------------------------------------------------------------------

def _fresh_letters(used, count: int) -> list:
    """``count`` letters outside ``used``, in FRESH_ORDER."""
    free = [c for c in FRESH_ORDER if c not in used]
    if count > len(free):
        raise ValueError(f"einsum: more than {len(LETTERS)} distinct labels are needed")
    return free[:count]


def _split_term(term: str, ndim: int, position: int) -> tuple:
    """(letters before '...', letters after, number of dims the ellipsis covers)."""
    if term.count("...") > 1 or term.replace("...", "").count("."):
        raise ValueError(f"einsum: invalid ellipsis in the subscripts {term!r} "
                         f"of operand {position}")
    head, _, tail = term.partition("...")
    for c in head + tail:
        if c not in LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in einstein sum subscripts "
                             "string, subscripts must be letters")
    covered = ndim - len(head) - len(tail)
    if "..." not in term and covered:
        raise ValueError(f"einsum: operand {position} has {ndim} dimensions but the subscripts "
                         f"{term!r} name {len(term)} (and there is no '...' ellipsis)")
    if covered < 0:
        raise ValueError(f"einsum: the subscripts {term!r} name more dimensions than operand "
                         f"{position} has ({ndim})")
    return head, tail, covered


def canonical_subscripts(subscripts: str, ndims) -> str:
    """NumPy's subscripts (implicit or explicit output, ellipses) for operands of the
    given ranks as ``"ij,jk->ik"``: letters only, the output explicit."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum subscripts must be a str, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    if "-" in lhs or ">" in lhs or (arrow and ("-" in rhs or ">" in rhs)):
        raise ValueError(f"einsum: invalid subscripts {subscripts!r} ('->' at most once)")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: the subscripts {subscripts!r} are for {len(terms)} operands, "
                         f"got {len(ndims)}")
    parts = [_split_term(t, n, i) for i, (t, n) in enumerate(zip(terms, ndims))]
    width = max((covered for _, _, covered in parts), default=0)
    ellipsis = _fresh_letters(set(spec), width)
    inputs = ["".join([h] + ellipsis[width - covered:] + [t]) for h, t, covered in parts]
    if arrow:
        output = _explicit_output(rhs, inputs, ellipsis)
    else:
        counts = {c: "".join(inputs).count(c) for c in "".join(inputs)}
        output = "".join(ellipsis) + "".join(sorted(c for c, k in counts.items()
                                                    if k == 1 and c not in ellipsis))
    return ",".join(inputs) + "->" + output


def _explicit_output(rhs: str, inputs, ellipsis) -> str:
    """The output subscripts after '->', the ellipsis spelled out; NumPy's checks."""
    head, dots, tail = rhs.partition("...")
    if "." in head + tail or (ellipsis and not dots):
        raise ValueError(f"einsum: invalid output subscripts {rhs!r}" +
                         ("" if dots or not ellipsis else " (the operands' '...' dims need "
                          "a '...' in the output)"))
    output = head + ("".join(ellipsis) if dots else "") + tail
    for c in head + tail:
        if c not in LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in the output {rhs!r}")
        if output.count(c) > 1:
            raise ValueError(f"einsum: the output subscripts {rhs!r} include {c!r} more than once")
        if not any(c in term for term in inputs):
            raise ValueError(f"einsum: the output subscript {c!r} never appears in an input")
    return output


def parse(spec: str) -> tuple:
    """(input subscripts, output subscripts) of a canonical spec."""
    lhs, _, output = spec.partition("->")
    return lhs.split(","), output


def _join(inputs, output) -> str:
    return ",".join(inputs) + "->" + output


# Label sizes ---------------------------------------------------------------------------

def label_sizes(inputs, operands) -> tuple:
    """({label: size}, [(operand, axis) of size 1 that broadcast]) from the operands'
    shapes; ShapeError when two sizes of a label differ and neither is 1."""
    sizes, where = {}, {}
    for k, (term, x) in enumerate(zip(inputs, operands)):
        for axis, (c, d) in enumerate(zip(term, x.shape)):
            if d == 1 or sizes.get(c, 1) == d:
                sizes.setdefault(c, d)
                where.setdefault(c, (k, axis))
                continue
            if sizes.get(c, 1) != 1:
                k0, a0 = where[c]
                raise ShapeError(f"size of label {c!r} for operand {k} ({d!r}, axis {axis}) "
                                 f"does not match operand {k0} ({sizes[c]!r}, axis {a0})")
            sizes[c], where[c] = d, (k, axis)
    broadcast = [(k, axis) for k, (term, x) in enumerate(zip(inputs, operands))
                 for axis, (c, d) in enumerate(zip(term, x.shape)) if d == 1 and sizes[c] != 1]
    return sizes, broadcast


def _einsum_prepare(*operands, spec):
    return {"spec": canonical_subscripts(spec, [x.ndim for x in operands])}


def _einsum_infer(*operands, spec):
    inputs, output = parse(spec)
    sizes, _ = label_sizes(inputs, operands)
    return tuple(sizes[c] for c in output), result_dtype(*(x.dtype for x in operands))


def _einsum_fold(*operands, spec):
    """Simpler forms, each rebuilt through this op (so they compose): broadcast size-1
    axes squeezed away; a zero factor makes zeros; transposed operands are read through
    permuted subscripts; a factor of ones whose labels other operands carry is dropped
    (the seed of a gradient); 0-d factors move out as ``*``; a product of matrices and
    vectors is the 2-D ``matmul`` op; a permutation of one operand a transpose."""
    inputs, output = parse(spec)
    try:
        sizes, broadcast = label_sizes(inputs, operands)
    except ShapeError:
        return None  # the shape rule raises it, naming the op and the operands
    if broadcast:
        return _squeeze_broadcast(operands, inputs, output, broadcast)
    if any(is_constant(x, 0.0) for x in operands):
        return zeros(tuple(sizes[c] for c in output), result_dtype(*(x.dtype for x in operands)))
    if any(x.op is transpose for x in operands):
        return _absorb_transposes(operands, inputs, output)
    if len(operands) > 1:
        simpler = _without_factors(operands, inputs, output)
        if simpler is not None:
            return simpler
    plan = matmul_plan(inputs, output) if len(operands) == 2 else None
    if plan is not None and all(x.ndim <= 2 for x in operands):
        # a 2-D product: the matmul op, its rewrite rules, facts and lowering
        left, right = (transpose(operands[k]) if swap else operands[k] for k, swap in plan)
        return matmul_op(left, right)
    if len(operands) == 1 and sorted(inputs[0]) == sorted(output) \
            and len(set(output)) == len(output):
        return transpose(operands[0], axes=tuple(inputs[0].index(c) for c in output))
    return None


def _without_factors(operands, inputs, output):
    """A ones factor dropped, or the 0-d factors as ``s * einsum(rest)``; else None."""
    for k, (x, term) in enumerate(zip(operands, inputs)):
        others = "".join(t for j, t in enumerate(inputs) if j != k)
        if is_constant(x, 1.0) and set(term) <= set(others):
            return einsum_op(*operands[:k], *operands[k + 1:],
                             spec=_join(inputs[:k] + inputs[k + 1:], output))
    scalars = [k for k, term in enumerate(inputs) if not term]
    if not scalars or len(scalars) == len(operands):
        return None
    rest = [k for k in range(len(operands)) if k not in scalars]
    product = einsum_op(*[operands[k] for k in rest], spec=_join([inputs[k] for k in rest], output))
    factor = operands[scalars[0]]
    for k in scalars[1:]:
        factor = factor * operands[k]
    return factor * product


def _absorb_transposes(operands, inputs, output):
    """A transposed operand read through permuted subscripts instead: ``Bᵀ`` as ``'ij'``
    is ``B`` as ``'ji'``."""
    operands, inputs = list(operands), list(inputs)
    for k, x in enumerate(operands):
        if x.op is transpose:
            letters = [""] * x.ndim
            for position, axis in enumerate(x.attrs["axes"]):
                letters[axis] = inputs[k][position]
            operands[k], inputs[k] = x.operands[0], "".join(letters)
    return einsum_op(*operands, spec=_join(inputs, output))


def _squeeze_broadcast(operands, inputs, output, broadcast):
    operands, inputs = list(operands), list(inputs)
    for k in sorted({k for k, _ in broadcast}):
        axes = {axis for j, axis in broadcast if j == k}
        x = operands[k]
        operands[k] = reshape(x, shape=tuple(d for a, d in enumerate(x.shape) if a not in axes))
        inputs[k] = "".join(c for a, c in enumerate(inputs[k]) if a not in axes)
    return einsum_op(*operands, spec=_join(inputs, output))


# Lowering ------------------------------------------------------------------------------

def matmul_plan(inputs, output):
    """How ``np.matmul`` computes a two-operand spec, or None: ``(first, second)``,
    each ``(operand index, swap its last two axes)``. The pattern is
    ``...ij,...jk->...ik`` up to the order of each operand's last two labels and of
    the operands, one operand's batch labels ending the other's (NumPy's batch
    broadcasting); or a vector side (``...ij,j->...i``, ``j,...jk->...k``, ``j,j->``)."""
    a, b = inputs
    if not a or not b or len(set(a)) != len(a) or len(set(b)) != len(b):
        return None
    if len(b) == 1:
        return ((0, False), (1, False)) if b == a[-1] and output == a[:-1] else None
    if len(a) == 1:
        return ((0, False), (1, False)) if a == b[-2] and output == b[:-2] + b[-1] else None
    if len(output) < 2:
        return None
    row, col = output[-2], output[-1]
    first, second = (0, 1) if row in a[-2:] else (1, 0)
    left, right = inputs[first], inputs[second]
    contracted = set(left[-2:]) - {row}
    if row not in left[-2:] or col not in right[-2:] or len(contracted) != 1:
        return None
    (c,) = contracted
    long, short = sorted((a[:-2], b[:-2]), key=len, reverse=True)
    if (set(right[-2:]) != {c, col} or not long.endswith(short) or row == col
            or set(a) & set(b) != set(short) | {c} or output != long + row + col):
        return None
    return (first, left[-1] != c), (second, right[-2] != c)


def _swapped(source: str, ndim: int) -> str:
    return f"{source}.T" if ndim == 2 else f"np.swapaxes({source}, -1, -2)"


def tensordot_plan(inputs, output):
    """``(axes of a, axes of b, permutation or None)`` when a two-operand spec is
    ``np.tensordot`` (then transposed): shared labels are all summed, every other
    label is kept, none repeats; else None."""
    a, b = inputs
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        return None
    shared = [c for c in a if c in b]
    free = [c for c in a if c not in b] + [c for c in b if c not in a]
    if set(shared) & set(output) or sorted(free) != sorted(output):
        return None
    axes = ([a.index(c) for c in shared], [b.index(c) for c in shared])
    permutation = tuple(free.index(c) for c in output)
    return axes + (None if permutation == tuple(range(len(free))) else permutation,)


def _einsum_numpy(args, attrs, ctx):
    """``np.matmul`` for its pattern (operands transposed as needed), ``np.tensordot``
    for its (one BLAS call), ``np.einsum(..., optimize=True)`` for three or more
    operands (pairwise, BLAS where it can), plain ``np.einsum`` otherwise. One
    operand's einsum without summation is a view of it ('ii->i'): copied, so the
    result is always a fresh array."""
    spec = attrs["spec"]
    inputs, output = parse(spec)
    plan = matmul_plan(inputs, output) if len(inputs) == 2 else None
    if plan is not None:
        parts = [_swapped(args[k], len(inputs[k])) if swap else args[k] for k, swap in plan]
        return f"np.matmul({parts[0]}, {parts[1]})"
    dot = tensordot_plan(inputs, output) if len(inputs) == 2 else None
    if dot is not None:
        axes_a, axes_b, permutation = dot
        call = f"np.tensordot({args[0]}, {args[1]}, axes=({axes_a}, {axes_b}))"
        if permutation is None:
            return call
        if permutation == tuple(reversed(range(len(permutation)))):
            return f"{call}.T"
        return f"np.transpose({call}, {permutation})"
    call = f"np.einsum({spec!r}, {', '.join(args)}"
    if len(inputs) > 2:
        return call + ", optimize=True)"
    if len(inputs) == 1 and set(output) == set(inputs[0]):
        return call + ").copy()"
    return call + ")"


def _einsum_array_api(args, attrs, ctx):
    """The array-API lowering: ``xp.matmul`` or ``xp.tensordot`` where ``_einsum_numpy``
    uses them; the standard has no einsum, so other specs have no portable lowering
    (the backend check names ``xp.einsum``)."""
    inputs, output = parse(attrs["spec"])
    plan = matmul_plan(inputs, output) if len(inputs) == 2 else None
    if plan is not None:
        parts = [f"xp.matrix_transpose({args[k]})" if swap else args[k] for k, swap in plan]
        return f"xp.matmul({parts[0]}, {parts[1]})"
    dot = tensordot_plan(inputs, output) if len(inputs) == 2 else None
    if dot is not None:
        axes_a, axes_b, permutation = dot
        call = f"xp.tensordot({args[0]}, {args[1]}, axes=({axes_a}, {axes_b}))"
        return call if permutation is None else f"xp.permute_dims({call}, {permutation})"
    return f"xp.einsum({attrs['spec']!r}, {', '.join(args)})"


# Derivatives ---------------------------------------------------------------------------

def _einsum_vjp(g, out, *operands, spec):
    inputs, output = parse(spec)
    sizes, _ = label_sizes(inputs, operands)
    return [_adjoint(g, operands, inputs, output, sizes, k) if x.dtype == "float64" else None
            for k, x in enumerate(operands)]


def _adjoint(g, operands, inputs, output, sizes, k) -> Node:
    """``einsum(g, other operands -> operand k)``: a repeated label of operand k gets a
    fresh letter and an identity factor tying the two; along a label found nowhere
    else (summed within operand k) the adjoint is broadcast."""
    terms = [output] + [t for j, t in enumerate(inputs) if j != k]
    nodes = [g] + [x for j, x in enumerate(operands) if j != k]
    fresh = iter(_fresh_letters(set("".join(inputs)), len(inputs[k])))
    target, seen = "", set()
    for c in inputs[k]:
        if c in seen:
            letter = next(fresh)
            terms.append(c + letter)
            nodes.append(eye(n=sizes[c]))
            target += letter
        else:
            seen.add(c)
            target += c
    present = set("".join(terms))
    kept = "".join(c for c in target if c in present)
    adjoint = einsum_op(*nodes, spec=_join(terms, kept))
    if kept == target:
        return adjoint
    shape = operands[k].shape  # labels summed inside operand k alone: g is constant along them
    unit = tuple(d if c in present else 1 for c, d in zip(target, shape))
    return broadcast_to(reshape(adjoint, shape=unit), shape)


def _einsum_jvp(tangents, out, *operands, spec):
    """The product rule: one einsum per operand with a tangent, that operand replaced."""
    terms = [einsum_op(*operands[:k], t, *operands[k + 1:], spec=spec)
             for k, t in enumerate(tangents) if t is not None]
    return add_all(terms, out.shape)


def _einsum_jacobian(sweep, node, js):
    """J[node] = Σ_k einsum with operand k replaced by J[operand k], whose trailing
    axes (those of the point x) get fresh labels carried to the output."""
    inputs, output = parse(node.attrs["spec"])
    extra = "".join(_fresh_letters(set("".join(inputs)), sweep.k))
    terms = []
    for k, j in enumerate(js):
        if j is not None:
            subs = list(inputs)
            subs[k] += extra
            operands = node.operands[:k] + (j,) + node.operands[k + 1:]
            terms.append(einsum_op(*operands, spec=_join(subs, output + extra)))
    return add_all(terms)


EINSUM_SAMPLES = [
    ("bij,jk->bik", (2, 2, 3), (3, 4)), ("ii->i", (3, 3)), ("ii", ("n", "n")),
    ("bij,bjk->bik", ("n", 2, 3), ("n", 3, 2)), ("ij->", (2, 3)), ("ij->j", ("n", 3)),
    ("i,i->i", ("n",), ("n",)), ("ij,ij->ij", (2, 3), (2, 3)), ("ij,kj->ikj", (2, 3), (4, 3)),
    ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)), ("iij->j", (2, 2, 3)),
    ("...ij,...jk->...ik", (2, 2, 3), (3, 2)), ("ij,kj->ij", (2, 3), (1, 3)),
    ("i,j->ij", ("n",), ("m",)), ("iji->j", (2, "k", 2)),
]


def _einsum_samples():
    return [Sample(tuple(Spec(s) for s in shapes), {"spec": spec})
            for spec, *shapes in EINSUM_SAMPLES]


def _print_einsum(subscripts):
    """A batched matrix product as ``A @ B``; otherwise NumPy's spelling,
    ``einsum('ij,kj->ik', A, B)``, its subscripts written by ``subscripts``."""
    def rule(p, node, *operands):
        inputs, output = parse(node.attrs["spec"])
        if len(inputs) == 2 and matmul_plan(inputs, output) == ((0, False), (1, False)):
            return print_matmul(p, node, *operands)
        return p.call(node.op, [subscripts(node.attrs["spec"])] + [o.text for o in operands])
    return rule


einsum_op = op("einsum", infer=_einsum_infer, prepare=_einsum_prepare, fold=_einsum_fold,
               numpy=_einsum_numpy, vjp=_einsum_vjp, jvp=_einsum_jvp, jacobian=_einsum_jacobian,
               fresh=True, keeps_positive=True, samples=_einsum_samples,
               unicode=_print_einsum(repr),
               latex=_print_einsum(lambda spec: r"\mathtt{" + spec.replace("->", r" \to ") + "}"),
    array_api=_einsum_array_api)


# The diagonal and its adjoint ------------------------------------------------------------

def diagonal_length(d1, d2, offset: int):
    """NumPy's diagonal length of axes of sizes d1, d2 at ``offset``; a name only when
    both sizes are that name and the offset is 0 (else it is no dimension)."""
    if isinstance(d1, int) and isinstance(d2, int):
        return max(0, min(d1, d2 - offset) if offset >= 0 else min(d1 + offset, d2))
    if d1 == d2 and offset == 0:
        return d1
    raise ShapeError(f"the diagonal (offset {offset}) of axes of sizes {d1!r} and {d2!r} has no "
                     "symbolic length: declare int sizes, or the same name with offset 0")


def _diagonal_prepare(x, offset=0, axis1=0, axis2=1):
    if x.ndim < 2:
        raise ShapeError(f"diagonal needs at least two dimensions, got {format_shape(x.shape)}")
    return _diagonal_attrs(x.ndim, offset, axis1, axis2)


def _diagonal_attrs(ndim, offset, axis1, axis2) -> dict:
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise TypeError(f"diagonal offset must be an int, got {offset!r}")
    axis1, axis2 = normalize_axis(axis1, ndim), normalize_axis(axis2, ndim)
    if axis1 == axis2:
        raise ShapeError("axis1 and axis2 cannot be the same")
    return {"offset": int(offset), "axis1": axis1, "axis2": axis2}


def _rest(shape, axis1, axis2) -> tuple:
    return tuple(d for a, d in enumerate(shape) if a not in (axis1, axis2))


def _diagonal_infer(x, offset, axis1, axis2):
    length = diagonal_length(x.shape[axis1], x.shape[axis2], offset)
    return _rest(x.shape, axis1, axis2) + (length,), x.dtype


def _move_last(node: Node, position: int) -> Node:
    """``node`` with its last axis moved to ``position``."""
    axes = list(range(node.ndim - 1))
    axes.insert(position, node.ndim - 1)
    return transpose(node, axes=tuple(axes))


def _move_to_last(node: Node, position: int) -> Node:
    """``node`` with the axis at ``position`` moved last."""
    axes = [a for a in range(node.ndim) if a != position] + [position]
    return transpose(node, axes=tuple(axes))


diagonal_op = op(
    "diagonal", infer=_diagonal_infer, prepare=_diagonal_prepare,
    numpy="np.diagonal({0}, {offset}, {axis1}, {axis2})", view=True, linear_in=(0,),
    keeps_positive=True,
    vjp=lambda g, out, x, **attrs: [diagonal_embed(g, shape=x.shape, **attrs)],
    jvp=lambda ts, out, x, **attrs: diagonal_op(ts[0], **attrs),
    jacobian=lambda s, node, js: _move_last(diagonal_op(js[0], **node.attrs), node.ndim - 1),
    samples=lambda: [Sample((Spec((3, 4)),), {"offset": 1}),
                     Sample((Spec((2, 3, 4)),), {"offset": -1, "axis1": 2, "axis2": 0}),
                     Sample((Spec(("n", 2, "n")),), {"axis1": 0, "axis2": 2})],
    array_api=lambda args, attrs, ctx: (f"xp.linalg.diagonal(xp.moveaxis({args[0]}, ({attrs['axis1']}, "
                                       f"{attrs['axis2']}), (-2, -1)), offset={attrs['offset']})"))


def _diagonal_embed_prepare(v, shape, offset=0, axis1=0, axis2=1):
    shape = normalize_shape(shape)
    if len(shape) < 2:
        raise ShapeError(f"diagonal_embed needs a shape of rank 2 or more, got {shape}")
    return {"shape": shape, **_diagonal_attrs(len(shape), offset, axis1, axis2)}


def _diagonal_embed_infer(v, shape, offset, axis1, axis2):
    expected = _rest(shape, axis1, axis2) + (diagonal_length(shape[axis1], shape[axis2], offset),)
    if v.shape != expected:
        raise ShapeError(f"the diagonal of {format_shape(shape)} (offset {offset}, axes "
                         f"{axis1}, {axis2}) has shape {format_shape(expected)}, "
                         f"not {format_shape(v.shape)}")
    return shape, result_dtype(v.dtype, "float64")


def _diagonal_embed_jacobian(sweep, node, js):
    attrs = dict(node.attrs)
    attrs["shape"] = node.shape + sweep.x.shape
    (v,) = node.operands
    return diagonal_embed(_move_to_last(js[0], v.ndim - 1), **attrs)


diagonal_embed = op(
    "diagonal_embed", infer=_diagonal_embed_infer, prepare=_diagonal_embed_prepare,
    numpy=lambda args, attrs, ctx: f"_diagonal_embed({args[0]}, {ctx.shape(attrs['shape'])}, "
                                   f"{attrs['offset']}, {attrs['axis1']}, {attrs['axis2']})",
    helpers=(runtime._diagonal_embed,), fresh=True, linear_in=(0,), keeps_positive=True,
    vjp=lambda g, out, v, shape, **attrs: [diagonal_op(g, **attrs)],
    jvp=lambda ts, out, v, **attrs: diagonal_embed(ts[0], **attrs),
    jacobian=_diagonal_embed_jacobian,
    samples=lambda: [Sample((Spec((3,)),), {"shape": (4, 4), "offset": 1}),
                     Sample((Spec((2, 3)),), {"shape": (3, 2, 4), "offset": -1, "axis1": 2,
                                               "axis2": 0}),
                     Sample((Spec((2, "n")),), {"shape": ("n", 2, "n"), "axis1": 0, "axis2": 2})],
    array_api=Portable(lambda args, attrs, ctx: f"_xp_diagonal_embed(xp, {args[0]}, {ctx.shape(attrs['shape'])}, "
                                             f"{attrs['offset']}, {attrs['axis1']}, {attrs['axis2']})",
                       helpers=(xpl._xp_diagonal_embed,)))


# NumPy's product functions -------------------------------------------------------------

def _mismatch(name: str, a: Node, b: Node, detail: str) -> ShapeError:
    return ShapeError(f"{name}({describe(a)}, {describe(b)}): {detail}")


def _aligned(name: str, a: Node, b: Node, axis_a: int, axis_b: int) -> None:
    """NumPy's "shapes (2,3) and (4,5) not aligned" for contracted axes of unequal size."""
    da, db = a.shape[axis_a], b.shape[axis_b]
    if da != db:
        raise _mismatch(name, a, b, f"shapes {format_shape(a.shape)} and {format_shape(b.shape)} "
                                    f"not aligned: {da!r} (dim {axis_a}) != {db!r} (dim {axis_b})")


def _batches_broadcast(name: str, a: Node, b: Node, core: int) -> None:
    """The leading (batch) axes before the last ``core`` ones must broadcast."""
    batch_a, batch_b = a.shape[:max(a.ndim - core, 0)], b.shape[:max(b.ndim - core, 0)]
    try:
        broadcast_shapes(batch_a, batch_b)
    except ShapeError as err:
        raise _mismatch(name, a, b, f"batch dimensions {format_shape(batch_a)} and "
                                    f"{format_shape(batch_b)} do not broadcast: {err}") from None


def _ravel(x: Node) -> Node:
    return x if x.ndim == 1 else reshape(x, shape=(-1,))


def einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe",
           optimize=False):
    """NumPy ``einsum``: any subscripts (implicit or explicit output, repeated labels,
    ``...``), or the interleaved form ``einsum(x, [0, 1], y, [1, 2], [0, 2])``. ``order``,
    ``casting`` and ``optimize`` only steer NumPy's evaluation (the compiled code always
    optimizes the contraction order); ``out`` and ``dtype`` are not supported."""
    if out is not None or dtype is not None:
        raise TypeError("einsum: out= and dtype= are not supported on symgrad nodes")
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts,) + operands)
    return einsum_op(*operands, spec=subscripts)


def _interleaved(args) -> tuple:
    """(subscripts, operands) from ``x, sublist, y, sublist, ..., [output sublist]``."""
    operands, terms = list(args[0::2]), [_sublist(s) for s in args[1::2]]
    output = None
    if len(operands) > len(terms):
        output = _sublist(operands.pop()) if isinstance(args[-1], (list, tuple)) else None
        if output is None:
            raise ValueError("einsum: each operand needs a sublist of subscripts")
    return ",".join(terms) + ("" if output is None else "->" + output), operands


def _sublist(sublist) -> str:
    letters = []
    for entry in sublist:
        if entry is Ellipsis:
            letters.append("...")
        elif isinstance(entry, int) and not isinstance(entry, bool) and 0 <= entry < len(LETTERS):
            letters.append(LETTERS[entry])
        else:
            raise ValueError(f"einsum: subscript {entry!r} in a sublist must be an int in "
                             f"[0, {len(LETTERS)}) or Ellipsis")
    return "".join(letters)


def batched_matmul(a: Node, b: Node) -> Node:
    """NumPy ``matmul`` when an operand has rank > 2: the last two axes are matrices,
    the leading ones broadcast (``(b, n, m) @ (m, k) -> (b, n, k)``); a 1-D operand is
    a row (left) or column (right) whose axis is removed again."""
    for k, x in enumerate((a, b)):
        if x.ndim == 0:
            raise _mismatch("matmul", a, b, f"operand {k} is 0-d; matmul needs rank 1 or more "
                                            "(use * for scalars)")
    _aligned("matmul", a, b, a.ndim - 1, max(b.ndim - 2, 0))
    _batches_broadcast("matmul", a, b, 2)
    left = "...ij" if a.ndim > 1 else "j"
    right = "...jk" if b.ndim > 1 else "j"
    result = "..." + ("i" if a.ndim > 1 else "") + ("k" if b.ndim > 1 else "")
    return einsum_op(a, b, spec=f"{left},{right}->{result}")


BATCHED_MATMUL.append(batched_matmul)


# Sums of products sharing a factor --------------------------------------------------------

def _readings(product: Node) -> list:
    """The ways to read a 2-D ``matmul`` product as a matrix applied to a shared factor:
    (side, factor, matrix, whether the matrix is read transposed). ``M @ v`` applies M
    from the left (``"right"``: the factor is on the right), ``u @ M`` from the right;
    a vector factor reads both ways (``x @ A`` is ``Aᵀ @ x``)."""
    left, right = product.operands
    found = []
    if left.ndim == 2:
        found += [("right", right, left, False)] + ([("left", right, left, True)]
                                                     if right.ndim == 1 else [])
    if right.ndim == 2:
        found += [("left", left, right, False)] + ([("right", left, right, True)]
                                                    if left.ndim == 1 else [])
    return found


def _chain_link(matrix: Node) -> bool:
    """Whether ``matrix`` is a product (or its transpose): a link of a matrix chain,
    whose bracketing the compiler chooses; summing two would form both products."""
    if matrix.op is transpose:
        matrix = matrix.operands[0]
    return matrix.op is matmul_op or matrix.op is outer_op or matrix.op is einsum_op


def _matrix_sum(p: Node, q: Node, combine) -> Node:
    """``p ± q``, a transpose second in a sum (``A + Aᵀ``, as the Cookbook and
    ``simplify`` write it)."""
    if combine is elementwise.add and p.op is transpose and p.operands[0] is q:
        p, q = q, p
    return combine(p, q)


def _applied(matrix: Node, factor: Node, side: str) -> Node:
    """``matrix @ factor`` ("right": the factor on the right) or ``factor @ matrix``."""
    return matrix @ factor if side == "right" else factor @ matrix


def _factored(a: Node, b: Node, combine):
    """``P v ± Q v = (P ± Q) v`` and ``u P ± u Q = u (P ± Q)`` for two float64 ``matmul``
    products of one shape, a vector factor read either way (``x A + B x = (Aᵀ + B) x``,
    the gradient of ``xᵀAx``); the factor on the right preferred. P and Q are no
    products themselves (:func:`_chain_link`), so the fold trades a product for a sum
    of two matrices; the compiler takes a product back out where it is computed anyway
    (:mod:`symgrad.compile.node_lowerings`)."""
    if a.op is not matmul_op or a.shape != b.shape or a.dtype != "float64" or b.dtype != "float64":
        return None
    pairs = [(r, s) for r in _readings(a) for s in _readings(b) if r[0] == s[0] and r[1] is s[1]]
    for (side, factor, m, flip_m), (_, _, n, flip_n) in sorted(
            pairs, key=lambda pair: pair[0][0] != "right"):
        p, q = (m.T if flip_m else m), (n.T if flip_n else n)
        if p.shape == q.shape and not _chain_link(m) and not _chain_link(n):
            if p is q:  # x S + S x = 2 (S x) for a symmetric S (Sᵀ is S when built)
                return 2.0 * _applied(p, factor, side) if combine is elementwise.add else None
            if flip_m and not flip_n and combine is elementwise.add:
                p, q = q, p  # x A + B x = (B + Aᵀ) x, as simplify writes it
            return _applied(_matrix_sum(p, q, combine), factor, side)
    return None


def _shared_factor_fold(a: Node, b: Node, combine):
    """``a ± b`` for a ``matmul`` ``b`` factored with ``a`` (:func:`_factored`), or with
    the last or first term of a sum ``a`` (``(z + x A) + B x = z + (Aᵀ + B) x``)."""
    folded = _factored(a, b, combine)
    if folded is None and a.op is elementwise.add:
        for i in (1, 0):
            inner = _factored(a.operands[i], b, combine)
            if inner is not None:
                return a.operands[1 - i] + inner
    return folded


elementwise.SHARED_FACTOR_FOLDS[matmul_op] = _shared_factor_fold


def _add_product_infer(u: Node, a: Node, b: Node):
    shape, dtype = matmul_op.infer(a, b)
    if u.shape != shape or u.dtype != dtype:
        raise ShapeError(f"add_product: the addend {describe(u)} is not of the product's "
                         f"shape {format_shape(shape)} and dtype {dtype}")
    return shape, dtype


# Compile-time lowering (symgrad.compile.node_lowerings): ``u + a @ b`` in one node, where
# ``u`` is a product the graph computes anyway and the sum was factored when built.
add_product = op("add_product", infer=_add_product_infer,
                 numpy=lambda args, attrs, ctx: f"{args[0]} + " + dot_source(*ctx.operands[1:],
                                                                              *args[1:]),
                 fresh=True, differentiable=False,
                 array_api="{0} + xp.matmul({1}, {2})")


def matmul(x1, x2):
    """NumPy ``matmul`` (``@``) for any rank: the 2-D ``matmul`` op for operands of rank
    1 and 2, the batched einsum above otherwise (the op routes there itself)."""
    return matmul_op(x1, x2)


@command_line(a="node", b="node")
def dot(a, b):
    """NumPy ``dot``: ``*`` for a 0-d operand, ``matmul`` up to rank 2, and for higher
    ranks the sum over ``a``'s last axis and ``b``'s second-to-last (last if 1-D)."""
    a, b = as_node(a), as_node(b)
    if a.ndim <= 2 and b.ndim <= 2 or a.ndim == 0 or b.ndim == 0:
        return dot_2d(a, b)
    axis_b = max(b.ndim - 2, 0)
    _aligned("dot", a, b, a.ndim - 1, axis_b)
    left, right = LETTERS[:a.ndim], list(LETTERS[a.ndim:a.ndim + b.ndim])
    right[axis_b] = left[-1]
    result = left[:-1] + "".join(c for i, c in enumerate(right) if i != axis_b)
    return einsum_op(a, b, spec=f"{left},{''.join(right)}->{result}")


@command_line(a="node", b="node")
def inner(a, b):
    """NumPy ``inner``: the sum over the last axes of both (``*`` for a 0-d operand)."""
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    _aligned("inner", a, b, a.ndim - 1, b.ndim - 1)
    if a.ndim <= 2 and b.ndim <= 2:
        return b @ a if a.ndim == 1 and b.ndim == 2 else a @ (b.T if b.ndim == 2 else b)
    left, right = LETTERS[:a.ndim], LETTERS[a.ndim:a.ndim + b.ndim - 1] + LETTERS[a.ndim - 1]
    return einsum_op(a, b, spec=f"{left},{right}->{left[:-1]}{right[:-1]}")


def _tensordot_axes(axes, a: Node, b: Node) -> tuple:
    """(axes of a, axes of b) summed over, as NumPy reads ``axes``."""
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        axes = int(axes)
        if axes < 0 or axes > a.ndim or axes > b.ndim:
            raise _mismatch("tensordot", a, b, f"axes={axes} needs 0 <= axes <= both ranks")
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    try:
        axes_a, axes_b = axes
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}") \
            from None
    axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
    axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    if len(axes_a) != len(axes_b):
        raise _mismatch("tensordot", a, b, f"shape-mismatch for sum: {len(axes_a)} axes of a "
                                           f"({axes_a}) and {len(axes_b)} of b ({axes_b})")
    axes_a = [normalize_axis(operator.index(i), a.ndim) for i in axes_a]
    axes_b = [normalize_axis(operator.index(j), b.ndim) for j in axes_b]
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise _mismatch("tensordot", a, b, f"repeated axis in axes={axes!r}")
    return axes_a, axes_b


@command_line(a="node", b="node")
def tensordot(a, b, axes=2):
    """NumPy ``tensordot``: the sum over ``axes`` (an int N: a's last N with b's first N;
    or a pair of axis lists); the free axes of ``a`` then those of ``b``."""
    a, b = as_node(a), as_node(b)
    axes_a, axes_b = _tensordot_axes(axes, a, b)
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise _mismatch("tensordot", a, b, f"shape-mismatch for sum: axis {i} of a has size "
                                               f"{a.shape[i]!r}, axis {j} of b {b.shape[j]!r}")
    if (axes_a, axes_b) == ([a.ndim - 1], [0]) and a.ndim <= 2 and b.ndim <= 2:
        return a @ b
    left = list(LETTERS[:a.ndim])
    right = list(LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(axes_a, axes_b):
        right[j] = left[i]
    result = [c for i, c in enumerate(left) if i not in axes_a] + \
             [c for j, c in enumerate(right) if j not in axes_b]
    return einsum_op(a, b, spec=f"{''.join(left)},{''.join(right)}->{''.join(result)}")


@command_line(a="node", b="node")
def vdot(a, b):
    """NumPy ``vdot``: the dot product of the flattened operands (equal sizes)."""
    a, b = as_node(a), as_node(b)
    if a.shape != b.shape:
        if symbolic_size(a.shape) != symbolic_size(b.shape):
            raise _mismatch("vdot", a, b, "the operands have different sizes")
        a, b = _ravel(a), _ravel(b)
    if a.ndim <= 1:
        return a @ b if a.ndim else a * b
    labels = LETTERS[:a.ndim]
    return einsum_op(a, b, spec=f"{labels},{labels}->")


def outer(a, b):
    """NumPy ``outer``: the ``outer`` op of the flattened operands."""
    return outer_op(_ravel(as_node(a)), _ravel(as_node(b)))


def _dim_product(a: Node, b: Node, da, db):
    if isinstance(da, int) and isinstance(db, int):
        return da * db
    if da == 1 or db == 1:
        return db if da == 1 else da
    raise _mismatch("kron", a, b, f"the product of the sizes {da!r} and {db!r} is no dimension "
                                  "(declare int sizes)")


@command_line(a="node", b="node")
def kron(a, b):
    """NumPy ``kron``: the Kronecker product (ranks padded with leading 1s to match)."""
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    n = max(a.ndim, b.ndim)
    a = a if a.ndim == n else reshape(a, shape=(1,) * (n - a.ndim) + a.shape)
    b = b if b.ndim == n else reshape(b, shape=(1,) * (n - b.ndim) + b.shape)
    shape = tuple(_dim_product(a, b, da, db) for da, db in zip(a.shape, b.shape))
    if n == 1:
            return reshape(outer_op(a, b), shape=shape)
    left, right = LETTERS[:n], LETTERS[n:2 * n]
    spread = einsum_op(a, b, spec=f"{left},{right}->{''.join(p + q for p, q in zip(left, right))}")
    return reshape(spread, shape=shape)


def _levi_civita(n: int) -> Node:
    """The constant ε of rank n (2 or 3): ε[i, j(, k)] the sign of the permutation."""
    eps = np.zeros((n,) * n)
    for perm in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) if n == 3 else ((0, 1),):
        eps[perm] = 1.0
        eps[perm[::-1] if n == 2 else (perm[0], perm[2], perm[1])] = -1.0
    return constant(eps)


def _with_zero_z(x: Node) -> Node:
    """A 2-vector (last axis) as the 3-vector (x, y, 0)."""
    return concatenate(x, zeros(x.shape[:-1] + (1,)), axis=x.ndim - 1)


@command_line(a="node", b="node")
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """NumPy ``cross`` of 3-vectors (or 2-vectors: the z component) along ``axisa`` /
    ``axisb``, batch axes broadcast: ``einsum('ijk,...j,...k->...i', ε, a, b)``."""
    a, b = as_node(a), as_node(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    for x in (a, b):
        if x.ndim == 0:
            raise _mismatch("cross", a, b, "cross needs vectors, got a 0-d operand")
    a = _move_to_last(a, normalize_axis(axisa, a.ndim))
    b = _move_to_last(b, normalize_axis(axisb, b.ndim))
    da, db = a.shape[-1], b.shape[-1]
    if da not in (2, 3) or db not in (2, 3):
        raise _mismatch("cross", a, b, "incompatible dimensions for cross product "
                                       f"(dimension must be 2 or 3, got {da!r} and {db!r})")
    _batches_broadcast("cross", a, b, 1)
    if da == db == 2:
        return einsum_op(_levi_civita(2), a, b, spec="jk,...j,...k->...")
    a = _with_zero_z(a) if da == 2 else a
    b = _with_zero_z(b) if db == 2 else b
    c = einsum_op(_levi_civita(3), a, b, spec="ijk,...j,...k->...i")
    return _move_last(c, normalize_axis(axisc, c.ndim))


def _no_out(name: str, dtype, out) -> None:
    """``out=`` has no graph meaning; ``dtype`` only as the float64 products have."""
    if (dtype is not None and np.dtype(dtype) != np.float64) or out is not None:
        raise TypeError(f"{name}: dtype= (other than float64) and out= are not supported on "
                        "symgrad nodes")


@command_line(a="node")
def diagonal(a, offset=0, axis1=0, axis2=1):
    """NumPy ``diagonal``: the diagonal at ``offset`` of the axes ``axis1``, ``axis2``,
    appended as the last axis (the ``diag`` op for a square matrix)."""
    a = as_node(a)
    if a.ndim == 2 and offset == 0 and a.shape[0] == a.shape[1] and \
            {normalize_axis(axis1, 2), normalize_axis(axis2, 2)} == {0, 1}:
        return diag_op(a)
    return diagonal_op(a, offset=offset, axis1=axis1, axis2=axis2)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """NumPy ``trace``: the sum of ``diagonal(a, offset, axis1, axis2)`` (the ``trace`` op
    for a square matrix)."""
    _no_out("trace", dtype, out)
    a = as_node(a)
    if a.ndim < 2:
        raise ShapeError(f"trace({describe(a)}): needs at least two dimensions")
    if a.ndim == 2 and offset == 0 and a.shape[0] == a.shape[1] and \
            {normalize_axis(axis1, 2), normalize_axis(axis2, 2)} == {0, 1}:
        return trace_op(a)
    return sum_(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    """NumPy ``diag``: a vector's matrix with ``v`` on diagonal ``k``, or a matrix's
    ``k``-th diagonal (the ``diag`` op for ``k = 0``)."""
    v = as_node(v)
    if v.ndim == 1:
        if k == 0:
            return diag_op(v)
        n = v.shape[0]
        if not isinstance(n, int):
            raise ShapeError(f"diag({describe(v)}, k={k}): the size {n!r} + {abs(k)} is no "
                             "dimension (declare an int size)")
        return diagonal_embed(v, shape=(n + abs(k),) * 2, offset=k)
    if v.ndim == 2:
        return diagonal(v, offset=k)
    raise ShapeError(f"diag({describe(v)}): input must be 1- or 2-d")


# numpy.linalg's array-API products (NumPy 2): last-axes conventions -------------------

@command_line(x1="node", x2="node")
def vecdot(x1, x2, axis=-1):
    """NumPy ``vecdot``: the dot product along ``axis`` (default last), other axes
    broadcast: ``einsum('...i,...i->...')``."""
    a, b = as_node(x1), as_node(x2)
    if a.ndim == 0 or b.ndim == 0:
        raise _mismatch("vecdot", a, b, "vecdot needs operands of rank 1 or more")
    a = _move_to_last(a, normalize_axis(axis, a.ndim))
    b = _move_to_last(b, normalize_axis(axis, b.ndim))
    _aligned("vecdot", a, b, a.ndim - 1, b.ndim - 1)
    _batches_broadcast("vecdot", a, b, 1)
    return einsum_op(a, b, spec="...i,...i->...")


def linalg_trace(x, offset=0, dtype=None):
    """``numpy.linalg.trace``: the trace over the last two axes."""
    return trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def linalg_diagonal(x, offset=0):
    """``numpy.linalg.diagonal``: the diagonal of the last two axes."""
    return diagonal(x, offset=offset, axis1=-2, axis2=-1)


def linalg_cross(x1, x2, axis=-1):
    """``numpy.linalg.cross``: the cross product of 3-vectors along ``axis``."""
    a, b = as_node(x1), as_node(x2)
    for x in (a, b):
        if x.ndim == 0 or x.shape[normalize_axis(axis, x.ndim)] != 3:
            raise _mismatch("linalg.cross", a, b, "both operands must be 3-vectors along "
                                                  f"axis {axis}")
    return cross(a, b, axis=axis)


def linalg_outer(x1, x2):
    """``numpy.linalg.outer``: the outer product of two vectors (no flattening)."""
    a, b = as_node(x1), as_node(x2)
    if a.ndim != 1 or b.ndim != 1:
        raise _mismatch("linalg.outer", a, b, "linalg.outer needs two 1-D operands")
    return outer_op(a, b)
