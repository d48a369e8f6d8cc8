"""Scans and products: cumsum, cumprod, prod, argmax/argmin, and the two ops their
derivatives are built from (``shift`` and ``linear_recurrence``).

No rule here divides by ``x``: the derivative of a product is the product of the
*other* factors, formed from exclusive cumulative products taken from both sides
(``shift`` of a ``cumprod``), and the derivative of ``cumprod`` needs a backward
first-order linear recurrence, ``u[i] = g[i] + x[i+1] u[i+1]``, which is its own op
(closed under differentiation: its VJP and JVP are recurrences again). So first and
second derivatives are exact when some entries are zero, where ``out / x`` is
``0 / 0``.
"""
from __future__ import annotations

import math

from ..ir.graph import Node
from ..ir.shapes import ShapeError, broadcast_shapes, format_shape, normalize_axes, normalize_axis
from .base import Sample, Spec, broadcast_to, linear_jvp, op
from .elementwise import equal, exp, where
from .reductions import _reduce_prepare, _reduced_shape, expand_reduced, print_reduction, sum_
from .structure import unbroadcast
from . import runtime
from ..ir.graph import Portable
from . import portable as xpl


def _integer_dtype(x: Node) -> str:
    """NumPy's accumulation dtype: bool and int accumulate in int64."""
    return "int64" if x.dtype == "bool" else x.dtype


def _axis_of(x: Node, axis) -> int:
    if x.ndim == 0:
        raise ShapeError(f"axis {axis} is out of bounds for a 0-d operand")
    return normalize_axis(axis, x.ndim)


def _direction(reverse: bool) -> int:
    """The offset by which ``shift`` moves a value to the next position of the scan."""
    return -1 if reverse else 1


def _scan_prepare(x, axis, reverse=False):
    return {"axis": _axis_of(x, axis), "reverse": bool(reverse)}


def _scan_numpy(name: str, xp: str = "np", flip_axis: str = "{}"):
    """``np.<name>`` along ``axis``; the reversed scan flips before and after (``xp``,
    ``flip_axis``: the namespace and flip's axis argument, for the array-API lowering)."""
    def numpy(args, attrs, ctx):
        axis = attrs["axis"]
        if not attrs["reverse"]:
            return f"{xp}.{name}({args[0]}, axis={axis})"
        flip = flip_axis.format(axis)
        return f"{xp}.flip({xp}.{name}({xp}.flip({args[0]}, {flip}), axis={axis}), {flip})"
    return numpy


SCAN_SAMPLES = lambda domain="real": lambda: [  # noqa: E731
    Sample((Spec((4,), domain),), {"axis": 0}),
    Sample((Spec((2, 3), domain),), {"axis": 1}),
    Sample((Spec(("n", 3), domain),), {"axis": 0}),
    Sample((Spec(("n", 3), domain),), {"axis": 1, "reverse": True}),
    Sample((Spec((3, "n"), domain),), {"axis": 1, "reverse": True}),
]


# shift: y[i] = x[i - offset] along an axis, ``fill`` where nothing moves in ------------


def _shift_prepare(x, axis, offset, fill=0.0):
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise TypeError(f"shift: offset must be an int, got {offset!r}")
    return {"axis": _axis_of(x, axis), "offset": int(offset), "fill": float(fill)}


def shift(x: Node, axis: int, offset: int, fill: float = 0.0) -> Node:
    return shift_op(x, axis=axis, offset=offset, fill=fill)


shift_op = op("shift", infer=lambda x, axis, offset, fill: (x.shape, "float64"),
              prepare=_shift_prepare,
              numpy="_shift({0}, {axis}, {offset}, {fill!r})", helpers=(runtime._shift,), fresh=True,
              vjp=lambda g, out, x, axis, offset, fill: [shift(g, axis, -offset)],
              jvp=lambda ts, out, x, axis, offset, fill: shift(ts[0], axis, offset),
              jacobian=lambda s, node, js: shift(js[0], node.attrs["axis"], node.attrs["offset"]),
              samples=lambda: [Sample((Spec((4,)),), {"axis": 0, "offset": 1, "fill": 1.0}),
                               Sample((Spec(("n", 3)),), {"axis": 0, "offset": -1}),
                               Sample((Spec((2, "n")),), {"axis": 1, "offset": 2, "fill": 0.5})],
    array_api=Portable("_xp_shift(xp, {0}, {axis}, {offset}, {fill!r})", helpers=(xpl._xp_shift,)))


# linear_recurrence: h[i] = a[i] h[i - 1] + b[i] (h[i + 1] when reversed) ---------------


def _linrec_infer(a, b, axis, reverse):
    return broadcast_shapes(a.shape, b.shape), "float64"


def _linrec_prepare(a, b, axis, reverse=False):
    ndim = max(a.ndim, b.ndim)
    if ndim == 0:
        raise ShapeError(f"axis {axis} is out of bounds for 0-d operands")
    return {"axis": normalize_axis(axis, ndim), "reverse": bool(reverse)}


def linear_recurrence(a: Node, b: Node, axis: int, reverse: bool = False) -> Node:
    return linrec_op(a, b, axis=axis, reverse=reverse)


def _linrec_vjp(g, out, a, b, axis, reverse):
    """The transpose of the recurrence runs the other way, each link's coefficient
    moved to the link's other end; ``ā[i] = b̄[i] h[previous]``."""
    step = _direction(reverse)
    b_bar = linear_recurrence(shift(broadcast_to(a, out.shape), axis, -step), g, axis,
                              not reverse)
    a_bar = b_bar * shift(out, axis, step)
    return [unbroadcast(a_bar, a.shape), unbroadcast(b_bar, b.shape)]


def _linrec_jvp(tangents, out, a, b, axis, reverse):
    ta, tb = tangents
    terms = [t for t in (None if ta is None else ta * shift(out, axis, _direction(reverse)), tb)
             if t is not None]
    driven = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return linear_recurrence(a, broadcast_to(driven, out.shape), axis, reverse)


def _linrec_jacobian(sweep, node, js):
    ja, jb = js
    a, _ = node.operands
    axis, reverse = node.attrs["axis"], node.attrs["reverse"]
    terms = [] if jb is None else [sweep.lift(jb, node.shape)]
    if ja is not None:
        previous = sweep.trailing(shift(node, axis, _direction(reverse)))
        terms.append(previous * sweep.lift(ja, node.shape))
    driven = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return linear_recurrence(sweep.trailing(broadcast_to(a, node.shape)), driven, axis, reverse)


linrec_op = op("linear_recurrence", infer=_linrec_infer, prepare=_linrec_prepare,
               numpy="_linear_recurrence({0}, {1}, {axis}, {reverse})", helpers=(runtime._linear_recurrence,),
               fresh=True, vjp=_linrec_vjp, jvp=_linrec_jvp, jacobian=_linrec_jacobian,
               samples=lambda: [Sample((Spec((4,)), Spec((4,))), {"axis": 0}),
                                Sample((Spec((2, 3)), Spec((3,))), {"axis": 1, "reverse": True}),
                                Sample((Spec(("n", 3)), Spec(("n", 3))), {"axis": 0}),
                                Sample((Spec(("n", 1)), Spec(("n", 3))),
                                       {"axis": 0, "reverse": True})],
    array_api=Portable("_xp_linear_recurrence(xp, {0}, {1}, {axis}, {reverse})", helpers=(xpl._xp_linear_recurrence,)))


# cumsum and cumprod --------------------------------------------------------------

def _print_scan(p, node, x):
    """``cumsum(x, axis=0)``; a reversed scan (only built by derivatives) says so."""
    attrs = {"axis": node.attrs["axis"]}
    return p.call(node.op, [x.text], dict(attrs, reverse=True) if node.attrs["reverse"] else attrs)


cumsum_op = op("cumsum", infer=lambda x, axis, reverse: (x.shape, _integer_dtype(x)),
               prepare=_scan_prepare, numpy=_scan_numpy("cumsum"), linear_in=(0,),
               vjp=lambda g, out, x, axis, reverse: [cumsum_op(g, axis=axis, reverse=not reverse)],
               jvp=linear_jvp,
               jacobian=lambda s, node, js: cumsum_op(js[0], **node.attrs),
               samples=SCAN_SAMPLES(),
               unicode=_print_scan,
    array_api=_scan_numpy("cumulative_sum", "xp", "axis={}"))


def _exclusive(out: Node, axis: int, reverse: bool) -> Node:
    """The product of the entries strictly before each one (in the scan's direction)."""
    return shift(out, axis, _direction(reverse), fill=1.0)


def _cumprod_vjp(g, out, x, axis, reverse):
    """x̄[i] = (product before i) * sum over j from i on of g[j] * x[i+1] ... x[j]:
    the sum is a recurrence run backwards, ``u[i] = g[i] + x[i+1] u[i+1]``."""
    step = _direction(reverse)
    later = linear_recurrence(shift(x, axis, -step), g, axis, not reverse)
    return [_exclusive(out, axis, reverse) * later]


def _cumprod_jvp(tangents, out, x, axis, reverse):
    """ẏ[i] = x[i] ẏ[i-1] + (product before i) ẋ[i]."""
    return linear_recurrence(x, _exclusive(out, axis, reverse) * tangents[0], axis, reverse)


def _cumprod_jacobian(sweep, node, js):
    (x,), axis, reverse = node.operands, node.attrs["axis"], node.attrs["reverse"]
    driven = sweep.trailing(_exclusive(node, axis, reverse)) * js[0]
    return linear_recurrence(sweep.trailing(x), driven, axis, reverse)


cumprod_op = op("cumprod", infer=lambda x, axis, reverse: (x.shape, _integer_dtype(x)),
                prepare=_scan_prepare, numpy=_scan_numpy("cumprod"), vjp=_cumprod_vjp,
                jvp=_cumprod_jvp, jacobian=_cumprod_jacobian, keeps_positive=True,
                samples=SCAN_SAMPLES(),
                unicode=_print_scan,
    array_api=_scan_numpy("cumulative_prod", "xp", "axis={}"))


# prod --------------------------------------------------------------------------

def _others(x: Node, axis: tuple) -> Node | None:
    """For each entry, the product of the *other* entries it is reduced with: along each
    axis in turn, exclusive products from both sides of the partial products so far
    (so no division, exact at zeros). None for an empty ``axis`` (the product is ``x``)."""
    weights, partial = None, x
    for a in axis:
        both = (_exclusive(cumprod_op(partial, axis=a), a, False)
                * _exclusive(cumprod_op(partial, axis=a, reverse=True), a, True))
        both = broadcast_to(both, x.shape)
        weights = both if weights is None else weights * both
        partial = prod_op(partial, axis=(a,), keepdims=True)
    return weights


def _prod_vjp(g, out, x, axis, keepdims):
    g = expand_reduced(g, x, axis, keepdims)
    weights = _others(x, axis)
    return [g if weights is None else g * weights]


def _prod_jvp(tangents, out, x, axis, keepdims):
    weights = _others(x, axis)
    tangent = tangents[0] if weights is None else weights * tangents[0]
    return sum_(tangent, axis=axis, keepdims=keepdims)


def _prod_jacobian(sweep, node, js):
    (x,), axis, keepdims = node.operands, node.attrs["axis"], node.attrs["keepdims"]
    weights = _others(x, axis)
    j = js[0] if weights is None else sweep.trailing(weights) * js[0]
    return sum_(j, axis=axis, keepdims=keepdims)


def _prod_numpy(args, attrs, ctx):
    return f"np.prod({args[0]}, axis={attrs['axis']!r}, keepdims={attrs['keepdims']})"


prod_op = op("prod", infer=lambda x, axis, keepdims: (_reduced_shape(x.shape, axis, keepdims),
                                                     _integer_dtype(x)),
             prepare=_reduce_prepare, numpy=_prod_numpy, vjp=_prod_vjp, jvp=_prod_jvp,
             jacobian=_prod_jacobian, keeps_positive=True,
             samples=lambda: [Sample((Spec((4,)),), {}),
                              Sample((Spec((2, 3)),), {"axis": 1}),
                              Sample((Spec(("n", 3)),), {"axis": 0, "keepdims": True}),
                              Sample((Spec((2, 3, 2)),), {"axis": (0, 2)}),
                              Sample((Spec((2, "n")),), {"axis": (0, 1), "keepdims": True})],
             unicode=print_reduction)


# argmax and argmin ------------------------------------------------------------------

def _arg_prepare(x, axis=None, keepdims=False):
    if axis is not None:
        axis = _axis_of(x, axis)
    sizes = x.shape if axis is None else (x.shape[axis],)
    if any(d == 0 for d in sizes):
        raise ShapeError(f"attempt to get the index of an extreme of an empty sequence "
                         f"(shape {format_shape(x.shape)}), as NumPy raises")
    return {"axis": axis, "keepdims": bool(keepdims)}


def _arg_infer(x, axis, keepdims):
    axes = tuple(range(x.ndim)) if axis is None else (axis,)
    if axis is None and not keepdims:
        return (), "int64"
    return _reduced_shape(x.shape, axes, keepdims), "int64"


def _print_arg_extreme(p, node, x):
    """``argmax(x, axis=0)``: the attributes that are set."""
    attrs = {k: v for k, v in node.attrs.items() if v is not None and v is not False}
    return p.call(node.op, [x.text], attrs)


def _arg_extreme(name: str):
    """NumPy's ``argmax``/``argmin``: the index (int64) of the first extreme entry along
    ``axis`` (of the flattened array for None). Piecewise constant in ``x``, so no
    derivative: the gradient sweep sends nothing through it."""
    return op(name, infer=_arg_infer, prepare=_arg_prepare, differentiable=False,
              numpy=f"np.{name}({{0}}, axis={{axis}}, keepdims={{keepdims}})", kink=True,
              unicode=_print_arg_extreme)


argmax_op = _arg_extreme("argmax")
argmin_op = _arg_extreme("argmin")


# logsumexp with weights b (SciPy's ``b=``) ---------------------------------------------


def _weighted_prepare(a, b, axis=None, keepdims=False):
    ndim = len(broadcast_shapes(a.shape, b.shape))
    return {"axis": normalize_axes(axis, ndim), "keepdims": bool(keepdims)}


def _weighted_infer(a, b, axis, keepdims):
    return _reduced_shape(broadcast_shapes(a.shape, b.shape), axis, keepdims), "float64"


def _weighted_terms(out, a, b, axis, keepdims):
    """(b e, e) at the operands' broadcast shape, ``e = exp(a - out)``: the derivatives
    of ``out`` by ``a`` and by ``b``; ``b e`` is 0 where ``b`` is (even if e overflows)."""
    spread = broadcast_to(a, broadcast_shapes(a.shape, b.shape))
    e = exp(spread - expand_reduced(out, spread, axis, keepdims))
    be = where(equal(b, 0.0), 0.0, b * e)
    return broadcast_to(be, spread.shape), e


def _weighted_vjp(g, out, a, b, axis, keepdims):
    be, e = _weighted_terms(out, a, b, axis, keepdims)
    g = expand_reduced(g, e, axis, keepdims)
    return [unbroadcast(g * be, a.shape), unbroadcast(g * e, b.shape)]


def _weighted_jvp(tangents, out, a, b, axis, keepdims):
    be, e = _weighted_terms(out, a, b, axis, keepdims)
    ta, tb = tangents
    terms = [w * t for w, t in ((be, ta), (e, tb)) if t is not None]
    driven = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return sum_(broadcast_to(driven, e.shape), axis=axis, keepdims=keepdims)


def _weighted_jacobian(sweep, node, js):
    a, b = node.operands
    axis, keepdims = node.attrs["axis"], node.attrs["keepdims"]
    weights = _weighted_terms(node, a, b, axis, keepdims)
    terms = [sweep.trailing(w) * sweep.lift(j, w.shape) for w, j in zip(weights, js)
             if j is not None]
    return sum_(terms[0] if len(terms) == 1 else terms[0] + terms[1], axis=axis,
                keepdims=keepdims)


def _print_weighted_logsumexp(p, node, x, b):
    """``logsumexp(x, b=b, axis=...)``, SciPy's form."""
    axis, keepdims = node.attrs["axis"], node.attrs["keepdims"]
    ndim = max(o.ndim for o in node.operands)
    attrs = {} if len(axis) == ndim else {"axis": axis[0] if len(axis) == 1 else axis}
    return p.call("logsumexp", [x.text, f"b={b.text}"], dict(attrs, keepdims=True) if keepdims else attrs)


weighted_logsumexp_op = op(
    "weighted_logsumexp", infer=_weighted_infer, prepare=_weighted_prepare,
    numpy="_logsumexp_b({0}, {1}, axis={axis!r}, keepdims={keepdims})",
    helpers=(runtime._logsumexp_b,), vjp=_weighted_vjp, jvp=_weighted_jvp,
    jacobian=_weighted_jacobian,
    samples=lambda: [Sample((Spec((3,)), Spec((3,), "positive")), {}),
                     Sample((Spec((2, 3)), Spec((3,), "positive")), {"axis": 1}),
                     Sample((Spec(("n", 3)), Spec(("n", 3), "positive")),
                            {"axis": 0, "keepdims": True}),
                     Sample((Spec((2, 3, 2)), Spec((), "positive")), {"axis": (0, 2)})],
                           unicode=_print_weighted_logsumexp,
    array_api=Portable("_xp_logsumexp_b(xp, {0}, {1}, axis={axis!r}, keepdims={keepdims})", helpers=(xpl._xp_logsumexp_b,)))


def weighted_logsumexp(a, b, axis=None, keepdims=False) -> Node:
    return weighted_logsumexp_op(a, b, axis=axis, keepdims=keepdims)


# scan: a recurrence found in an unrolled graph, as one loop (compile time only) ------


def step_function(index: int) -> str:
    """The name of the module-level function computing one step of the scan ``index``
    (written by the array-API printer, :mod:`symgrad.compile.portable`)."""
    return f"_scan_step_{int(index)}"


def _scan_infer(*operands, step, carries, params, reverse, length, sequences, index):
    inits, rest = operands[:carries], operands[carries:]
    if len(params) != len(operands):
        raise ShapeError(f"{len(params)} step parameters for {len(operands)} operands")
    for new, init in zip(step, inits):
        if new.shape != init.shape or new.dtype != init.dtype:
            raise ShapeError(f"the step gives {format_shape(new.shape)} {new.dtype}, the carry is "
                             f"{format_shape(init.shape)} {init.dtype}")
    for k, (param, operand) in enumerate(zip(params[carries:], rest)):
        shape = operand.shape[1:] if k < sequences else operand.shape
        if param.shape != shape or (k < sequences and operand.shape[0] != length):
            raise ShapeError(f"operand {carries + k} of shape {format_shape(operand.shape)} does "
                             f"not fit step parameter {param.name!r} {format_shape(param.shape)}")
    if len(step) == 1:
        return (length,) + step[0].shape, step[0].dtype
    if any(out.dtype != step[0].dtype or not all(isinstance(d, int) for d in out.shape)
           for out in step):
        raise ShapeError("a scan's several per-step outputs need one dtype and sizes known "
                         "when compiling (they are laid side by side)")
    return (length, sum(math.prod(out.shape) for out in step)), step[0].dtype


def output_columns(scan) -> list:
    """(start, stop) of each per-step output's columns in a scan of several outputs
    (each row holds the outputs flattened, one after another)."""
    columns, start = [], 0
    for out in scan.attrs["step"]:
        columns.append((start, start + math.prod(out.shape)))
        start = columns[-1][1]
    return columns


def _scan_lowering(args, attrs, ctx) -> str:
    carries, k = attrs["carries"], attrs["sequences"]
    inits, xs, consts = ("".join(f"{a}, " for a in part)
                         for part in (args[:carries], args[carries:carries + k], args[carries + k:]))
    return (f"_xp_scan(xp, {step_function(attrs['index'])}, ({inits}), ({xs}), ({consts}), "
            f"{attrs['reverse']}, {attrs['length']})")


#: ``scan(*inits, *xs, *consts)``: ``outputs = step(*carries, xs[0][i], ..., consts...)``
#: for i = 0 .. length - 1 (from the last i when ``reverse``), the first ``carries`` of
#: the outputs the next step's carries (one row of each sequence, the invariants);
#: ``step`` is a tuple of graphs over the input nodes ``params``, the carries' next
#: values first, then any other per-step values the graph reads outside the step (an
#: LSTM's gate gradients: JAX's ``ys``). Row i holds step i's outputs: of shape
#: (length, ...) for one output; for several (an LSTM's h and c) shape (length, total
#: size), each output flattened in its columns (:func:`output_columns`), so outputs of
#: different shapes share one node (one dtype, sizes known). Only the loop batching
#: pass forms it (symgrad.compile.loop_batching), for the backends that compile a loop
#: better than its unrolled copies (JAX's ``lax.scan``); it is not differentiable.
def _no_numpy_scan(args, attrs, ctx) -> str:
    raise NotImplementedError("op 'scan' has no NumPy lowering: the loop batching pass forms it "
                              "only for the array-API backends in its SCAN_BACKENDS")


scan_op = op("scan", infer=_scan_infer, numpy=_no_numpy_scan, differentiable=False,
             unicode=lambda p, node, *pieces: p.call(node.op, [x.text for x in pieces],
                                                     {"length": node.attrs["length"],
                                                      "reverse": node.attrs["reverse"]}),
    array_api=Portable(_scan_lowering, helpers=(xpl._xp_scan,)))
