"""Shape primitives that no composite of reshape/transpose/getitem/concatenate
gives for named dimensions: flip, roll, the triangular mask ``tri``, and sorting
(``sort``, ``argsort`` and the two permutation ops sort's derivatives use).

Every one keeps its operand's shape, so named dimensions stay symbolic.
``sort``'s derivative is the sorting permutation: ``sort_permute(t, x)`` takes
``t`` in the order that sorts ``x`` (the JVP), ``sort_unpermute(g, x)`` puts
``g`` back (the VJP); both sort stably, so ties always map the same way.
"""
from __future__ import annotations

import operator

import numpy as np

from ..ir.shapes import ShapeError, format_shape, normalize_axes, normalize_axis, normalize_shape, unify_dims
from .base import Sample, Spec, linear_jvp, op, zeros
from . import runtime
from ..ir.graph import Portable


def _ints(value, what: str) -> tuple:
    """An int or a sequence of ints as a tuple of Python ints."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{what} must be an int or a sequence of ints, got {value!r}") from None


# flip ------------------------------------------------------------------------------

flip = op("flip", infer=lambda x, axis: (x.shape, x.dtype),
          prepare=lambda x, axis=None: {"axis": normalize_axes(axis, x.ndim)},
          fold=lambda x, axis: x if not axis else None,
          numpy="np.flip({0}, axis={axis!r})", view=True, linear_in=(0,), keeps_positive=True,
          vjp=lambda g, out, x, axis: [flip(g, axis=axis)], jvp=linear_jvp,
          jacobian=lambda s, node, js: flip(js[0], axis=node.attrs["axis"]),
          samples=lambda: [Sample((Spec((4,)),)), Sample((Spec((2, 3)),), {"axis": 1}),
                           Sample((Spec(("n", 3)),), {"axis": (0,)})])


# roll ------------------------------------------------------------------------------

def _roll_prepare(x, shift, axis=None):
    """NumPy's roll arguments in one spelling: with ``axis=None`` one total shift of
    the flattened array; otherwise shifts broadcast against axes, summed per axis."""
    shifts = _ints(shift, "roll shift")
    if axis is None:
        return {"shift": sum(shifts), "axis": None}
    axes = _ints(axis, "roll axis")
    try:
        pairs = np.broadcast(np.array(shifts if isinstance(shift, (tuple, list)) else shifts[0]),
                             np.array(axes if isinstance(axis, (tuple, list)) else axes[0]))
    except ValueError:
        raise ShapeError(f"roll: shift {shift!r} and axis {axis!r} do not broadcast") from None
    total: dict = {}
    for s, a in pairs:
        a = normalize_axis(int(a), x.ndim)
        total[a] = total.get(a, 0) + int(s)
    axes = tuple(sorted(total))
    return {"shift": tuple(total[a] for a in axes), "axis": axes}


def _roll_fold(x, shift, axis):
    if axis is None:
        return x if shift == 0 or x.ndim == 0 else None
    return x if all(s == 0 for s in shift) else None


def _negated(shift):
    return -shift if isinstance(shift, int) else tuple(-s for s in shift)


roll = op("roll", infer=lambda x, shift, axis: (x.shape, x.dtype), prepare=_roll_prepare,
          fold=_roll_fold, numpy="np.roll({0}, {shift!r}, axis={axis!r})", fresh=True,
          linear_in=(0,), keeps_positive=True,
          vjp=lambda g, out, x, shift, axis: [roll(g, shift=_negated(shift), axis=axis)],
          jvp=linear_jvp,
          samples=lambda: [Sample((Spec((5,)),), {"shift": 2}),
                           Sample((Spec((2, 3)),), {"shift": -1}),
                           Sample((Spec(("n", 4)),), {"shift": (1, 3), "axis": (0, 1)})])


# tri: the triangular mask behind tril/triu ----------------------------------------

def _tri_prepare(n, m=None, k=0, dtype="float64"):
    n, m = normalize_shape((n, n if m is None else m))
    return {"n": n, "m": m, "k": operator.index(k), "dtype": np.dtype(dtype).name}


#: NumPy spellings valid on NumPy 1.x too (``np.bool`` is 2.x only).
_NUMPY_DTYPE = {"bool": "bool_"}
tri = op("tri", infer=lambda n, m, k, dtype: ((n, m), dtype), prepare=_tri_prepare,
         numpy=lambda args, attrs, ctx: f"np.tri({ctx.dim(attrs['n'])}, {ctx.dim(attrs['m'])}, "
                                        f"{attrs['k']}, dtype=np.{_NUMPY_DTYPE.get(attrs['dtype'], attrs['dtype'])})",
         fresh=True, differentiable=False,
    array_api=lambda args, attrs, ctx: (f"xp.astype(xp.tril(xp.ones(({ctx.dim(attrs['n'])}, {ctx.dim(attrs['m'])}), "
                                   f"dtype=xp.float64), k={attrs['k']}), xp.{attrs['dtype']})"))


# sort, argsort and the sorting permutation ----------------------------------------

def _sort_prepare(x, axis=-1, kind=None):
    if x.ndim == 0:
        raise ShapeError(f"axis {axis} is out of bounds for array of dimension 0")
    if kind not in (None, "quicksort", "mergesort", "heapsort", "stable"):
        raise ValueError(f"sort kind must be one of 'quicksort', 'mergesort', 'heapsort', "
                         f"'stable', got {kind!r}")
    return {"axis": normalize_axis(axis, x.ndim), "kind": kind}


def _permutation_infer(t, x, axis):
    if t.ndim != x.ndim:
        raise ShapeError(f"the permuted operand {format_shape(t.shape)} and the sorted one "
                         f"{format_shape(x.shape)} need the same shape")
    for a, (d, e) in enumerate(zip(t.shape, x.shape)):
        unify_dims(d, e, f"axis {a}")
    return t.shape, "float64"


PERMUTATION_SAMPLES = lambda: [Sample((Spec((4,)), Spec((4,))), {"axis": 0}),  # noqa: E731
                               Sample((Spec(("n", 3)), Spec(("n", 3))), {"axis": 0})]


def _permute_jvp(inverse: bool):
    """The output tangent: the same permutation of t's tangent (x only picks it)."""
    def jvp(tangents, out, t, x, axis):
        if tangents[0] is None:
            return zeros(out.shape)
        return (sort_unpermute if inverse else sort_permute)(tangents[0], x, axis=axis)
    return jvp


sort_permute = op("sort_permute", infer=_permutation_infer,
                  numpy="_sort_permute({0}, {1}, {axis})", helpers=(runtime._sort_permute,), fresh=True,
                  linear_in=(0,), keeps_positive=True,
                  vjp=lambda g, out, t, x, axis: [sort_unpermute(g, x, axis=axis), None],
                  jvp=_permute_jvp(False), samples=PERMUTATION_SAMPLES,
    array_api=Portable("xp.take_along_axis({0}, xp.argsort({1}, axis={axis}, stable=True), axis={axis})",
                       lacks=("dask",)))
sort_unpermute = op("sort_unpermute", infer=_permutation_infer,
                    numpy="_sort_unpermute({0}, {1}, {axis})", helpers=(runtime._sort_unpermute,),
                    fresh=True, linear_in=(0,), keeps_positive=True,
                    vjp=lambda g, out, t, x, axis: [sort_permute(g, x, axis=axis), None],
                    jvp=_permute_jvp(True), samples=PERMUTATION_SAMPLES,
    array_api=Portable("xp.take_along_axis({0}, xp.argsort(xp.argsort({1}, axis={axis}, stable=True), "
                       "axis={axis}, stable=True), axis={axis})", lacks=("dask",)))

def _sort_numpy(name: str):
    """``np.sort``/``np.argsort`` along the axis, with the kind when one was given."""
    def numpy(args, attrs, ctx):
        kind = "" if attrs["kind"] is None else f", kind={attrs['kind']!r}"
        return f"np.{name}({args[0]}, axis={attrs['axis']}{kind})"
    return numpy


sort = op("sort", infer=lambda x, axis, kind: (x.shape, x.dtype), prepare=_sort_prepare,
          numpy=_sort_numpy("sort"),
          fresh=True, kink=True, keeps_positive=True,
          vjp=lambda g, out, x, axis, kind: [sort_unpermute(g, x, axis=axis)],
          jvp=lambda tangents, out, x, axis, kind: sort_permute(tangents[0], x, axis=axis),
          samples=lambda: [Sample((Spec((5,)),)), Sample((Spec((2, 3)),), {"axis": 0}),
                           Sample((Spec(("n", 4)),), {"axis": -1})],
    array_api=Portable(lambda args, attrs, ctx: f"xp.sort({args[0]}, axis={attrs['axis']})", lacks=("dask",)))
argsort = op("argsort", infer=lambda x, axis, kind: (x.shape, "int64"), prepare=_sort_prepare,
             numpy=_sort_numpy("argsort"),
             fresh=True, differentiable=False,
    array_api=Portable(lambda args, attrs, ctx: f"xp.argsort({args[0]}, axis={attrs['axis']})", lacks=("dask",)))


def _partition_prepare(x, kth, axis=-1):
    if x.ndim == 0:
        raise ShapeError(f"argpartition: axis {axis} is out of bounds for array of dimension 0")
    axis = normalize_axis(axis, x.ndim)
    kth = _ints(kth, "argpartition: kth")
    size = x.shape[axis]
    if isinstance(size, int):
        for k in kth:
            if not -size <= k < size:
                raise ValueError(f"argpartition({format_shape(x.shape)}): kth(={k}) out of "
                                 f"bounds ({size})")
    return {"kth": kth[0] if len(kth) == 1 else kth, "axis": axis}


argpartition = op("argpartition", infer=lambda x, kth, axis: (x.shape, "int64"),
                  prepare=_partition_prepare, numpy="np.argpartition({0}, {kth}, axis={axis})",
                  fresh=True, differentiable=False)
