"""The NumPy functions and forms HIPS autograd's own test suite differentiates.

One :class:`Form` per case of autograd's ``tests/test_systematic.py``,
``test_numpy.py``, ``test_linalg.py``, ``test_scalar_ops.py``,
``test_binary_ops.py`` and the ``scipy.special`` part of ``test_scipy.py``
(read from github.com/HIPS/autograd, master). A case that sweeps several
shapes or keywords (autograd's ``combo_check``) is listed by its most demanding
representative combinations. ``build(m, *args)`` writes the case as autograd's
test does, with ``m`` a NumPy-like namespace: ``numpy`` itself (with
``m.linalg`` = ``numpy.linalg`` and ``m.special`` = ``scipy.special``) for the
reference values and finite differences, or ``symgrad`` to build the graph
under the same names. ``args`` are float64 arrays; ``wrt`` the positions
differentiated; ``scope`` the reason a case is out of scope (None: in scope).

tests/test_autograd_coverage.py checks every in-scope form: built in symgrad,
its value against NumPy's, its VJP and JVP against central finite differences
of the NumPy function, and the second derivative (an HVP) for a subset.
"""
from __future__ import annotations

import operator as op
from dataclasses import dataclass
from typing import Callable

import numpy as np

_rs = np.random.RandomState(0)


def R(*shape):
    return _rs.randn(*shape)


def U(lo, hi, *shape):
    return _rs.uniform(lo, hi, size=shape)


def psd(n, batch=()):
    a = _rs.randn(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def sym(a):
    """autograd's check_symmetric_matrix_grads: the input symmetrized from its lower triangle."""
    return lambda m, x: a(m, (m.tril(x) + m.swapaxes(m.tril(x), -1, -2)) / 2.0)


@dataclass(frozen=True)
class Form:
    case: str                 # "<autograd test file>::<test>[variant]"
    name: str                 # the NumPy function or form exercised
    build: Callable           # build(m, *args) -> array, or a tuple/list of arrays
    args: tuple               # float64 input arrays
    wrt: tuple = (0,)
    scope: str | None = None  # None: in scope; else why not
    second: bool = False      # second derivatives checked too


COMPLEX = "complex input: symgrad is real float64"
NOT_NUMPY = "not a NumPy function (autograd's own helper)"
NO_SPECIAL = "scipy.special function symgrad does not have"
FORMS: list[Form] = []


def add(case, name, build, *args, wrt=(0,), scope=None, second=False):
    FORMS.append(Form(case, name, build, tuple(np.asarray(a, dtype=float) for a in args),
                      tuple(wrt), scope, second))


# --- test_systematic.py: statistics (stat_check) ---------------------------------
S = "test_systematic.py::"
for fn in ("max", "mean", "min", "sum", "prod", "var", "std"):
    add(S + f"test_{fn}[scalar]", fn, lambda m, x, fn=fn: getattr(m, fn)(x), R(), second=True)
    add(S + f"test_{fn}[axis=None,keepdims]", fn,
        lambda m, x, fn=fn: getattr(m, fn)(x, axis=None, keepdims=True), R(2, 3))
    add(S + f"test_{fn}[axis=0]", fn, lambda m, x, fn=fn: getattr(m, fn)(x, axis=0), R(2, 3),
        second=fn in ("prod", "var", "std"))
    add(S + f"test_{fn}[axis=1,keepdims]", fn,
        lambda m, x, fn=fn: getattr(m, fn)(x, axis=1, keepdims=True), R(1, 3))
for fn in ("sum", "mean"):
    add(S + f"test_{fn}[complex]", fn, None, R(2, 3), scope=COMPLEX)

# unary ufuncs (unary_ufunc_check: lims, on a (3, 2) matrix)
UNARY = [("sin", (-2, 2)), ("abs", (0.1, 4)), ("absolute", (0.1, 4)), ("arccosh", (1.1, 4)),
         ("arcsinh", (-0.9, 0.9)), ("arctanh", (-0.9, 0.9)), ("ceil", (-1.5, 1.5)),
         ("cos", (-2, 2)), ("cosh", (-2, 2)), ("deg2rad", (-2, 2)), ("degrees", (-2, 2)),
         ("exp", (-2, 2)), ("exp2", (-2, 2)), ("expm1", (-2, 2)), ("fabs", (0.1, 2)),
         ("floor", (-1.5, 1.5)), ("log", (0.2, 2)), ("log10", (0.2, 2)), ("log1p", (0.2, 2)),
         ("log2", (0.2, 2)), ("rad2deg", (-2, 2)), ("radians", (-2, 2)), ("sign", (-2, 2)),
         ("sinh", (-2, 2)), ("sqrt", (1, 3)), ("square", (-2, 2)), ("tan", (-1.1, 1.1)),
         ("tanh", (-2, 2)), ("real", (-2, 2)), ("real_if_close", (-2, 2)), ("imag", (-2, 2)),
         ("conj", (-2, 2)), ("conjugate", (-2, 2)), ("angle", (-2, 2))]
for fn, (lo, hi) in UNARY:
    add(S + f"test_{fn}", fn, lambda m, x, fn=fn: getattr(m, fn)(x), U(lo, hi, 3, 2),
        second=fn in ("sin", "arccosh", "arctanh", "log10", "tan", "sqrt"))
    if fn not in ("ceil", "floor", "fabs", "sign", "square", "deg2rad", "degrees",
                  "rad2deg", "radians"):
        add(S + f"test_{fn}[complex]", fn, None, U(lo, hi, 3, 2), scope=COMPLEX)

# binary ufuncs (binary_ufunc_check: a (3, 2) with a (1, 2) operand)
BINARY = [("add", np.add, (-2, 2), (-2, 2)), ("logaddexp", np.logaddexp, (-2, 2), (-2, 2)),
          ("logaddexp2", np.logaddexp2, (-2, 2), (-2, 2)),
          ("remainder", np.remainder, (-0.9, 0.9), (0.7, 1.9)),
          ("true_divide", np.true_divide, (-2, 2), (0.8, 1.2)),
          ("mod", np.mod, (-2, 2), (0.8, 2.1)),
          ("true_divide_neg", np.true_divide, (-2, 2), (-2.0, -0.3)),
          ("mod_neg", np.mod, (-2, 2), (-2.0, -0.3)),
          ("op_mul", op.mul, (-2, 2), (-2, 2)), ("op_add", op.add, (-2, 2), (-2, 2)),
          ("op_sub", op.sub, (-2, 2), (-2, 2)), ("op_mod", op.mod, (-2, 2), (0.3, 2.0)),
          ("op_mod_neg", op.mod, (-2, 2), (-2.0, -0.3))]
for case, fn, la, lb in BINARY:
    if case.startswith("op_"):
        build = lambda m, a, b, fn=fn: fn(a, b)  # noqa: E731
    else:
        build = lambda m, a, b, name=fn.__name__: getattr(m, name)(a, b)  # noqa: E731
    add(S + f"test_{case}", fn.__name__, build, U(*la, 3, 2), U(*lb, 1, 2), wrt=(0, 1),
        second=case in ("logaddexp", "true_divide"))
    if case in ("add", "true_divide", "op_mul", "op_add", "op_sub"):
        add(S + f"test_{case}[complex]", fn.__name__, None, R(2), R(2), scope=COMPLEX)

# misc (combo_check over shapes and keywords)
for axes in (None, (0, 2, 1), (2, 0, 1)):
    add(S + f"test_transpose[axes={axes}]", "transpose",
        lambda m, x, axes=axes: m.transpose(x, axes=axes), R(2, 3, 4))
add(S + "test_moveaxis", "moveaxis", lambda m, x: m.moveaxis(x, 0, 2), R(2, 3, 4))
add(S + "test_repeat[axis=1]", "repeat", lambda m, x: m.repeat(x, 2, axis=1), R(2, 3, 4))
add(S + "test_repeat[axis=None]", "repeat", lambda m, x: m.repeat(x, 2, axis=None), R(3, 1))
add(S + "test_repeat[0]", "repeat", lambda m, x: m.repeat(x, 0, axis=0), R(3, 1))
add(S + "test_diff[n=2,axis=1]", "diff", lambda m, x: m.diff(x, n=2, axis=1), R(5, 5))
add(S + "test_diff[3d]", "diff", lambda m, x: m.diff(x, n=1, axis=0), R(5, 5, 5))
add(S + "test_diff[empty]", "diff", lambda m, x: m.diff(x, axis=1), R(3, 1))
add(S + "test_gradient[axis=None]", "gradient", lambda m, x: m.gradient(x), R(5, 5))
add(S + "test_gradient[axis=-1]", "gradient", lambda m, x: m.gradient(x, axis=-1), R(5, 5, 5))
add(S + "test_gradient[axis=(0,-1)]", "gradient", lambda m, x: m.gradient(x, axis=(0, -1)),
    R(5, 5, 5))
add(S + "test_tile[4d]", "tile", lambda m, x: m.tile(x, (1, 4, 1, 2)), R(2, 1, 3, 1))
add(S + "test_tile[more reps]", "tile", lambda m, x: m.tile(x, (3, 2, 1)), R(1, 2))
add(S + "test_tile[int]", "tile", lambda m, x: m.tile(x, 2), R(1))
add(S + "test_kron[matrices]", "kron", lambda m, a, b: m.kron(a, b), R(5, 5), R(3, 3),
    wrt=(0, 1), second=True)
add(S + "test_kron[column,row]", "kron", lambda m, a, b: m.kron(a, b), R(5, 1), R(1, 3),
    wrt=(0, 1))
add(S + "test_kron[scalar]", "kron", lambda m, a, b: m.kron(a, b), R(), R(3, 3), wrt=(0, 1))
add(S + "test_inner[matrices]", "inner", lambda m, a, b: m.inner(a, b), R(2, 3), R(4, 3),
    wrt=(0, 1))
add(S + "test_inner[scalar]", "inner", lambda m, a, b: m.inner(a, b), R(), R(3), wrt=(0, 1))
add(S + "test_dot[3d]", "dot", lambda m, a, b: m.dot(a, b), R(2, 2, 3), R(2, 3, 4),
    wrt=(0, 1), second=True)
add(S + "test_dot[vector,matrix]", "dot", lambda m, a, b: m.dot(a, b), R(3), R(3, 4),
    wrt=(0, 1))
add(S + "test_dot[scalar]", "dot", lambda m, a, b: m.dot(a, b), R(), R(3, 4), wrt=(0, 1))
add(S + "test_dot[complex]", "dot", None, R(3), R(3), scope=COMPLEX)
add(S + "test_outer", "outer", lambda m, a, b: m.outer(a, b), R(3), R(3), wrt=(0, 1),
    second=True)
add(S + "test_matmul[3d]", "matmul", lambda m, a, b: m.matmul(a, b), R(2, 2, 3), R(2, 3, 4),
    wrt=(0, 1))
add(S + "test_matmul[vector,3d]", "matmul", lambda m, a, b: m.matmul(a, b), R(3),
    R(2, 3, 4), wrt=(0, 1))
add(S + "test_matmul[complex]", "matmul", None, R(3), R(3), scope=COMPLEX)
add(S + "test_matmul_broadcast", "matmul", lambda m, a, b: m.matmul(a, b), R(1, 2, 2),
    R(3, 2, 1), wrt=(0, 1))
TENSORDOT = [("1", (2, 3, 2), (3, 4, 2), [(1,), (0,)]), ("2", (3, 4, 2), (2, 3, 2), [(0,), (1,)]),
             ("3", (2, 3, 4), (2, 2, 3, 4), [(1, 0), (2, 1)]), ("4", (4, 2, 2), (2, 2, 4), 2),
             ("5", (4,), (), 0), ("6", (2, 6), (6, 3), [[-1], [0]]), ("7", (2, 6), (6, 3), [-1, 0]),
             ("8", (2,), (2, 2), [0, 1])]
for k, sa, sb, axes in TENSORDOT:
    add(S + f"test_tensordot_{k}", "tensordot",
        lambda m, a, b, axes=axes: m.tensordot(a, b, axes=axes), R(*sa), R(*sb), wrt=(0, 1),
        second=k == "3")
for fn in ("maximum", "fmax", "minimum", "fmin"):
    add(S + f"test_{fn}", fn, lambda m, a, b, fn=fn: getattr(m, fn)(a, b), R(1, 4), R(3, 4),
        wrt=(0, 1))
add(S + "test_sort", "sort", lambda m, x: m.sort(x), R(7))
add(S + "test_msort", "msort", None, R(7), scope="np.msort was removed in NumPy 2")
add(S + "test_partition", "partition", lambda m, x: m.partition(x, 3), R(7))
for k in (1, 2, 3):
    fn = f"atleast_{k}d"
    add(S + f"test_{fn}[scalar]", fn, lambda m, x, fn=fn: getattr(m, fn)(x), R())
    add(S + f"test_{fn}[matrix]", fn, lambda m, x, fn=fn: getattr(m, fn)(x), R(2, 4))
add(S + "test_atleast_3d[4d]", "atleast_3d", lambda m, x: m.atleast_3d(x), R(2, 4, 3, 5))
EINSUM = [("transpose", "ij->ji", [(3, 4)]), ("matmult", "ij,jk->ik", [(2, 3), (3, 4)]),
          ("matmult_broadcast", "...ij,...jk->...ik", [(2, 2, 3), (2, 3, 4)]),
          ("matmult_broadcast_leadzero", "...ij,...jk->...ik", [(0, 2, 3), (0, 3, 4)]),
          ("covsum", "ijk,lji->lki", [(3, 4, 4), (4, 4, 3)]),
          ("ellipses", "...jk,...lj->...lk", [(3, 4, 4), (3, 4, 4)]),
          ("ellipses_elementwise", "...,...->...", [(3, 4, 4), (4, 4)]),
          ("ellipses_tail", "jk...,lj...->lk...", [(3, 2, 4), (2, 3, 4)]),
          ("ellipses_center", "j...k,lj...->lk...", [(2, 2, 2), (2, 2, 2)]),
          ("three_args", "ijk,lji,lli->lki", [(3, 4, 4), (4, 4, 3), (4, 4, 3)]),
          ("naked_sum", "k,nk->", [(5,), (10, 5)]), ("naked_sum2", "abcd->bd", [(3, 2, 3, 2)]),
          ("naked_sum_ellipsis", "...k,...nk->...", [(3, 5), (3, 10, 5)]),
          ("no_output_indices", "ij,k", [(3, 4), (3,)])]
for case, spec, shapes in EINSUM:
    add(S + f"test_einsum_{case}", "einsum",
        lambda m, *xs, spec=spec: m.einsum(spec, *xs), *[R(*s) for s in shapes],
        wrt=tuple(range(len(shapes))), second=case in ("covsum", "three_args"))
add(S + "test_einsum_matmult[complex]", "einsum", None, R(2, 3), scope=COMPLEX)
SUBLISTS = [("transpose", [(0, 1)], [(3, 4)], (1, 0)),
            ("matmult", [(0, 1), (1, 2)], [(2, 3), (3, 4)], (0, 2)),
            ("matmult_broadcast", [(Ellipsis, 0, 1), (Ellipsis, 1, 2)], [(2, 2, 3), (2, 3, 4)],
             (Ellipsis, 0, 2)),
            ("covsum", [(0, 1, 2), (3, 1, 0)], [(3, 4, 4), (4, 4, 3)], (3, 2, 0)),
            ("three_args", [(0, 1, 2), (3, 1, 0), (3, 3, 0)], [(3, 4, 4), (4, 4, 3), (4, 4, 3)],
             (3, 2, 0))]


def _sublist_einsum(subs, out):
    def build(m, *xs):
        operands = []
        for x, sub in zip(xs, subs):
            operands += [x, list(sub)]
        return m.einsum(*operands, list(out))
    return build


for case, subs, shapes, out in SUBLISTS:
    add(S + f"test_einsum2_{case}", "einsum (sublists)", _sublist_einsum(subs, out),
        *[R(*s) for s in shapes], wrt=tuple(range(len(shapes))))
add(S + "test_trace[offset=1]", "trace", lambda m, x: m.trace(x, offset=1), R(4, 5))
add(S + "test_trace[3d,offset=-1]", "trace", lambda m, x: m.trace(x, offset=-1), R(3, 4, 5))
add(S + "test_diag[k=1]", "diag", lambda m, x: m.diag(x, k=1), R(5, 5))
add(S + "test_diag_flat[k=-1]", "diag", lambda m, x: m.diag(x, k=-1), R(5), second=True)
for fn in ("tril", "triu"):
    add(S + f"test_{fn}", fn, lambda m, x, fn=fn: getattr(m, fn)(x, k=-1), R(5, 5))
    add(S + f"test_{fn}_3d", fn, lambda m, x, fn=fn: getattr(m, fn)(x, k=1), R(5, 5, 4))
add(S + "test_swapaxes", "swapaxes", lambda m, x: m.swapaxes(x, 0, 2), R(3, 4, 5))
add(S + "test_rollaxis", "rollaxis", lambda m, x: m.rollaxis(x, 2, 0), R(2, 3, 4))
add(S + "test_cross[axisa,axisb,axisc]", "cross",
    lambda m, a, b: m.cross(a, b, axisa=0, axisb=1, axisc=0), R(3, 3), R(3, 3), wrt=(0, 1),
    second=True)
add(S + "test_cross[axis=0]", "cross", lambda m, a, b: m.cross(a, b, axis=0), R(3, 3),
    R(3, 3), wrt=(0, 1))
for fn, shape in (("vsplit", (4, 8)), ("hsplit", (4, 8)), ("dsplit", (4, 4, 4))):
    add(S + f"test_{fn}[2]", fn, lambda m, x, fn=fn: getattr(m, fn)(x, 2), R(*shape))
    add(S + f"test_{fn}[[1,2]]", fn, lambda m, x, fn=fn: getattr(m, fn)(x, [1, 2]), R(*shape))
add(S + "test_split_2d[axis=1]", "split", lambda m, x: m.split(x, 4, axis=1), R(4, 8))
add(S + "test_split_3d[[1,2],axis=2]", "split", lambda m, x: m.split(x, [1, 2], axis=2),
    R(4, 4, 4))
add(S + "test_array_split_1d", "array_split", lambda m, x: m.array_split(x, 3, axis=0), R(7))
add(S + "test_array_split_2d", "array_split", lambda m, x: m.array_split(x, 4, axis=1),
    R(7, 7))
add(S + "test_array_split_3d", "array_split", lambda m, x: m.array_split(x, [3, 5], axis=2),
    R(7, 7, 7))
add(S + "test_concatenate_1ist", "concatenate", lambda m, a, b: m.concatenate((a, b), axis=0),
    R(1), R(3), wrt=(0, 1))
add(S + "test_concatenate_tuple", "concatenate", lambda m, a, b: m.concatenate([a, b], axis=0),
    R(1), R(3), wrt=(0, 1))
add(S + "test_concatenate_3d", "concatenate", lambda m, a, b: m.concatenate((a, b), axis=2),
    R(2, 2, 2), R(2, 2, 2), wrt=(0, 1))
for fn, one, pair in (("vstack", (2,), [(2, 4), (1, 4)]), ("hstack", (2,), [(2, 1, 4), (2, 5, 4)]),
                      ("row_stack", (2,), [(2, 4), (1, 4)]),
                      ("column_stack", (2,), [(2, 2), (2, 2)])):
    add(S + f"test_{fn}[1d]", fn, lambda m, x, fn=fn: getattr(m, fn)([x, x]), R(*one))
    add(S + f"test_{fn}[pair]", fn, lambda m, a, b, fn=fn: getattr(m, fn)((a, b)),
        R(*pair[0]), R(*pair[1]), wrt=(0, 1))
add(S + "test_vstack_3d", "vstack", lambda m, a, b: m.vstack((a, b)), R(2, 3, 4), R(5, 3, 4),
    wrt=(0, 1))
add(S + "test_stack_1d[axis=1]", "stack", lambda m, a, b: m.stack((a, b), axis=1), R(2), R(2),
    wrt=(0, 1))
_masks = [R(3, 4, 5) > 0 for _ in range(3)]
add(S + "test_select", "select",
    lambda m, a, b, c: m.select(_masks, [a, b, c], default=1.1), R(3, 4, 5), R(3, 4, 5),
    R(3, 4, 5), wrt=(0, 1, 2))
for width in (3, (3, 2), ((1, 2), (3, 4)), ((0, 0), (0, 0))):
    add(S + f"test_pad[{width}]", "pad",
        lambda m, x, width=width: m.pad(x, width, "constant"), R(2, 2))

# --- test_numpy.py ---------------------------------------------------------------
N = "test_numpy.py::"
for case, a, b in (("mat,vec", (10, 11), (11,)), ("mat,mat", (10, 11), (11, 10)),
                   ("vec,mat", (10,), (10, 11)), ("vec,vec", (11,), (11,))):
    add(N + f"test_dot[{case}]", "dot", lambda m, x, y: m.dot(x, y), R(*a), R(*b), wrt=(0, 1))
add(N + "test_dot_with_floats[mat,float]", "dot", lambda m, x, y: m.dot(x, y), R(10, 11), R(),
    wrt=(0, 1))
add(N + "test_dot_with_floats[float,vec]", "dot", lambda m, x, y: m.dot(x, y), R(), R(10),
    wrt=(0, 1))
add(N + "test_outer", "outer", lambda m, x, y: m.outer(x, y.T), R(11), R(11), wrt=(0, 1))
for fn in ("max", "min"):
    add(N + f"test_{fn}", fn, lambda m, x, fn=fn: getattr(m, fn)(x), R(10, 11))
    add(N + f"test_{fn}_axis", fn, lambda m, x, fn=fn: getattr(m, fn)(x, axis=1), R(3, 4, 5))
    add(N + f"test_{fn}_axis_keepdims", fn,
        lambda m, x, fn=fn: getattr(m, fn)(x, axis=1, keepdims=True), R(3, 4, 5))
for fn in ("sum", "mean"):
    add(N + f"test_{fn}_1", fn, lambda m, x, fn=fn: getattr(m, fn)(x), R(10, 11))
    add(N + f"test_{fn}_2", fn, lambda m, x, fn=fn: getattr(m, fn)(x, axis=0), R(10, 11))
    add(N + f"test_{fn}_3", fn, lambda m, x, fn=fn: getattr(m, fn)(x, axis=0, keepdims=True),
        R(10, 11))
add(N + "test_sum_with_axis_tuple", "sum", lambda m, x: m.sum(x, axis=(1, 2)), R(10, 11, 7))
_base = np.abs(R(5)) + 0.5
for fn in ("sum", "prod", "max", "min"):
    add(N + f"test_plain_numpy_reductions_on_box[{fn}]", f"numpy.{fn} on a node",
        lambda m, x, fn=fn: getattr(np, fn)(m.exp(x) * _base), R(5))
for fn in ("flipud", "fliplr", "rot90"):
    add(N + f"test_{fn}", fn, lambda m, x, fn=fn: getattr(m, fn)(x), R(10, 11))
add(N + "test_cumsum_axis0", "cumsum", lambda m, x: m.cumsum(x, axis=0), R(10, 11))
add(N + "test_cumsum_axis1", "cumsum", lambda m, x: m.cumsum(x, axis=1), R(10, 11))
add(N + "test_cumsum_1d", "cumsum", lambda m, x: m.cumsum(x), R(10))
add(N + "test_cumsum_no_axis", "cumsum", lambda m, x: m.cumsum(x), R(10, 11))
add(N + "test_non_numpy_sum", "builtin sum of nodes", lambda m, x, y: sum([x, y]), R(10, 11),
    R(10, 11), wrt=(0, 1))
for fn in ("mean", "std", "var"):
    add(N + f"test_{fn}_list_of_boxes", f"{fn} of a list", lambda m, x, fn=fn: getattr(m, fn)(
        [x, x + 2]), R())
add(N + "test_index_ints", "x[3, 0, 1]", lambda m, x: x[3, 0, 1], R(5, 6, 4))
add(N + "test_index_slice", "x[::-1, 2:4, :]", lambda m, x: x[::-1, 2:4, :], R(5, 6, 4))
add(N + "test_index_lists", "x[[0, 1, 2], :, :]", lambda m, x: x[[0, 1, 2], :, :], R(5, 6, 4))
add(N + "test_index_mixed", "x[3, 2:, [1, 3]]", lambda m, x: x[3, 2:, [1, 3]], R(5, 6, 4))
add(N + "test_vector_slice", "x[2:4]", lambda m, x: x[2:4], R(5))
add(N + "test_index_slice_fanout", "slices summed",
    lambda m, x: x[::-1, 2:4, :] + x[::-1, 3:5, :], R(5, 6, 4))
add(N + "test_index_multiple_slices", "slice of a slice", lambda m, x: x[2:6][1:3], R(7))
add(N + "test_reshape_method", "x.reshape(shape)", lambda m, x: x.reshape((5 * 4, 6)),
    R(5, 6, 4))
add(N + "test_reshape_call", "reshape", lambda m, x: m.reshape(x, (5 * 4, 6)), R(5, 6, 4))
add(N + "test_reshape_method_nolist", "x.reshape(*shape)", lambda m, x: x.reshape(5 * 4, 6),
    R(5, 6, 4))
add(N + "test_ravel_method", "x.ravel()", lambda m, x: x.ravel(), R(5, 6, 4))
add(N + "test_ravel_call", "ravel", lambda m, x: m.ravel(x), R(5, 6, 4))
add(N + "test_flatten_method", "x.flatten()", lambda m, x: x.flatten(), R(5, 6, 4))
add(N + "test_simple_append_arr", "append", lambda m, a, b: m.append(a, b), R(3), R(),
    wrt=(0, 1))
add(N + "test_simple_append_list_2D", "append", lambda m, a, b: m.append(a, b, axis=0),
    R(2, 3), R(1, 3), wrt=(0, 1))
_A564, _B564 = R(5, 6, 4), R(5, 6, 4)
add(N + "test_simple_concatenate", "concatenate", lambda m, x: m.concatenate((_A564, x)),
    R(4, 6, 4))
add(N + "test_concatenate_axis_0", "concatenate", lambda m, x: m.concatenate((_B564, x, _B564)),
    R(5, 6, 4))
add(N + "test_concatenate_axis_1", "concatenate",
    lambda m, x: m.concatenate((_B564, x, _B564), axis=1), R(5, 6, 4))
add(N + "test_concatenate_axis_1_unnamed", "concatenate",
    lambda m, x: m.concatenate((_B564, x, _B564), 1), R(5, 6, 4))
add(N + "test_trace", "trace", lambda m, x: m.trace(x, offset=3), R(10, 11))
add(N + "test_trace2", "trace", lambda m, x: m.trace(x, offset=-4), R(11, 10))
add(N + "test_trace_extradims", "trace", lambda m, x: m.trace(x, offset=2), R(5, 6, 4, 3))
add(N + "test_diag", "diag", lambda m, x: m.diag(x), R(10, 10))
add(N + "test_transpose", "x.T", lambda m, x: x.T, R(8, 8))
add(N + "test_roll", "roll", lambda m, x: m.roll(x, 2, axis=1), R(4, 5))
add(N + "test_roll_no_axis", "roll", lambda m, x: m.roll(x, 2), R(4, 5))
add(N + "test_triu", "triu", lambda m, x: m.triu(x, k=2), R(5, 5))
add(N + "test_tril", "tril", lambda m, x: m.tril(x, k=2), R(5, 5))
add(N + "test_clip", "clip", lambda m, x: m.clip(x, a_min=0.1, a_max=1.1), R(5, 5))
add(N + "test_prod_1", "prod", lambda m, x: m.prod(x), U(0.1, 1.0, 2, 3))
add(N + "test_prod_2", "prod", lambda m, x: m.prod(x, axis=0), U(0.1, 2.0, 2, 3))
add(N + "test_prod_3", "prod", lambda m, x: m.prod(x, axis=0, keepdims=True), U(0.1, 2.0, 2, 3))
add(N + "test_prod_4", "prod", lambda m, x: m.prod(x), U(0.1, 2.0, 7), second=True)
add(N + "test_1d_array", "array of nodes", lambda m, x: m.array([x, x * 1.0, x + 2.5]), R())
add(N + "test_2d_array", "array of nodes",
    lambda m, x: m.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]]), U(1, 3), second=True)
add(N + "test_1d_array_fanout", "array of nodes",
    lambda m, x: m.array([x, x * 1.0, x + 2.5]) + m.array([x, x * 1.0, x + 2.5]), R())
add(N + "test_array_from_scalar", "array(node)", lambda m, x: m.array(x), R())


def _box_attributes(m, x):
    assert x.shape == () and x.ndim == 0 and x.size == 1 and x.dtype == np.float64
    return x ** 2


add(N + "test_scalar_array_box_attributes", "shape, ndim, size, dtype", _box_attributes, R())
add(N + "test_array_from_arrays", "array of nodes", lambda m, x: m.array([x, x]), R(3, 2))
add(N + "test_array_from_arrays_2", "array of nodes",
    lambda m, x: m.array([[2 * x, x + 1], [x, x]]), R(3, 2))


def _len3(m, x):
    assert len(x) == 3
    return x


add(N + "test_len", "len(x)", _len3, R(3, 2))
_c32, _c10 = R(3, 2), R(10)
add(N + "test_r_basic", "r_", lambda m, x: m.r_[x], R(3, 2))
add(N + "test_r_double", "r_", lambda m, x: m.r_[x, x], R(3, 2))
add(N + "test_no_relation", "constant result", lambda m, x: m.sin(_c32), R(3, 2))
add(N + "test_r_node_and_const", "r_", lambda m, x: m.r_[x, _c32], R(3, 2))
add(N + "test_r_mixed", "r_", lambda m, x: m.r_[x, _c32, x], R(3, 2))
add(N + "test_r_slicing", "r_", lambda m, x: m.r_[x, _c10, 1:10], R(10))
add(N + "test_c_", "c_", lambda m, x: m.c_[x, _c32, x], R(3, 2))
for fn in ("var", "std"):
    add(N + f"test_{fn}_ddof[None,keepdims,1]", f"{fn}(ddof)",
        lambda m, x, fn=fn: getattr(m, fn)(x, axis=None, keepdims=True, ddof=1), R(3, 4))
    add(N + f"test_{fn}_ddof[axis=1,2]", f"{fn}(ddof)",
        lambda m, x, fn=fn: getattr(m, fn)(x, axis=1, ddof=2), R(3, 4), second=True)
_C45 = R(4, 5) > 0
add(N + "test_where", "where", lambda m, x, y: m.where(_C45, x, y), R(4, 5), R(4, 5), wrt=(0, 1))
add(N + "test_squeeze_func", "squeeze", lambda m, x: m.squeeze(x), R(5, 1, 4))
add(N + "test_squeeze_method", "x.squeeze()", lambda m, x: x.squeeze(), R(5, 1, 4))
add(N + "test_repeat", "repeat", lambda m, x: m.repeat(x, 2, axis=1), R(5, 3, 4))
add(N + "test_repeat_axis1_rep1", "repeat", lambda m, x: m.repeat(x, 1, axis=1), R(5, 3, 4))
add(N + "test_repeat_axis0", "repeat", lambda m, x: m.repeat(x, 2, axis=0), R(5, 3))
add(N + "test_repeat_1d_axis0", "repeat", lambda m, x: m.repeat(x, 2, axis=0), R(5))
add(N + "test_expand_dims", "expand_dims", lambda m, x: m.expand_dims(x, 2), R(5, 1, 4))
add(N + "test_tensordot_kwargs_by_position", "tensordot",
    lambda m, x: m.tensordot(x * np.ones((2, 2)), x * np.ones((2, 2)), 2), R())
add(N + "test_multi_index", "x[[0, 0]]", lambda m, x: m.sum(x[[0, 0]]), R(3))
add(N + "test_multi_index2", "x[[0, 1, 0]]", lambda m, x: m.sum(x[[0, 1, 0]]), R(3))
add(N + "test_index_dot_slices", "dot of slices", lambda m, x: m.dot(x[:2], x[2:]), R(4))
_W = R(5, 10)
_W[:, -1] = [0.5, 1.5, 3.2, 2.7, 4.1]
add(N + "test_cast_to_int", "x.astype(int64) as an index",
    lambda m, W: W[:, :-1][W[:, -1].astype(m.int64)].sum(), _W)
add(N + "test_make_diagonal", "make_diagonal", None, R(4), scope=NOT_NUMPY)
add(N + "test_diagonal", "diagonal", lambda m, x: m.diagonal(x, axis1=-1, axis2=-2), R(3, 4, 4))
_nan_y = np.array([0.0, np.nan, np.inf, -np.inf])
add(N + "test_nan_to_num", "nan_to_num", lambda m, x: m.sum(m.sin(m.nan_to_num(x + _nan_y))),
    R(4))
add(N + "test_max_equal_values", "max with ties", lambda m, x: m.max(m.array([x, x])), U(1, 1))
add(N + "test_max_equal_values_2d", "max with ties",
    lambda m, x: m.max(m.array([[x, x], [x, 0.5]]), axis=1), U(1, 1))
add(N + "test_min_3_way_equality", "min with ties",
    lambda m, x: m.min(m.array([[x, x, x], [x, 0.5, 0.5], [0.5, 0.5, 0.5], [x, x, 0.5]]), axis=0),
    U(-1, -1))
add(N + "test_maximum_equal_values", "maximum with ties", lambda m, x: m.maximum(x, x), U(1, 1))
add(N + "test_maximum_equal_values_2d", "maximum with ties",
    lambda m, x: m.maximum(m.array([x, x, 0.5]), m.array([[x, 0.5, x], [x, x, 0.5]])), U(2, 2))
add(N + "test_linspace", "linspace", lambda m, x, y: m.linspace(x, y, 5), U(1.2, 1.2),
    U(-3.4, -3.4), wrt=(0, 1))
add(N + "test_astype", "x.astype('float64')",
    lambda m, x: m.sum(m.sin(x.astype("float64"))), R(3))
add(N + "test_gradient[1d]", "gradient", lambda m, x: m.gradient(x), R(10))
add(N + "test_gradient[axis=(0,1)]", "gradient", lambda m, x: m.gradient(x, axis=(0, 1)),
    R(5, 5, 5))

# --- test_linalg.py (real cases; autograd checks reverse mode) ----------------------
L = "test_linalg.py::"
_m8 = R(8, 8)
add(L + "test_inv", "linalg.inv", lambda m, x: m.linalg.inv(x), _m8 @ _m8 + np.eye(8),
    second=True)
add(L + "test_pinv[tall]", "linalg.pinv", lambda m, x: m.linalg.pinv(x), R(5, 3))
add(L + "test_pinv[wide,stacked]", "linalg.pinv", lambda m, x: m.linalg.pinv(x), R(2, 5, 7))
add(L + "test_pinv[low rank]", "linalg.pinv", lambda m, x: m.linalg.pinv(m.matmul(x.T, x)),
    R(5, 7))
add(L + "test_inv_3d", "linalg.inv", lambda m, x: m.linalg.inv(x), R(4, 4, 4) + 5 * np.eye(4))
add(L + "test_inv_3d[4d]", "linalg.inv", lambda m, x: m.linalg.inv(x),
    R(2, 3, 4, 4) + 5 * np.eye(4))
_B87, _B8 = R(8, 7), R(8)
add(L + "test_solve_arg1", "linalg.solve", lambda m, a: m.linalg.solve(a, _B87),
    R(8, 8) + 10 * np.eye(8), second=True)
add(L + "test_solve_arg1_1d", "linalg.solve", lambda m, a: m.linalg.solve(a, _B8),
    R(8, 8) + 10 * np.eye(8))
_A6 = R(6, 6) + np.eye(6)
add(L + "test_solve_arg2", "linalg.solve", lambda m, b: m.linalg.solve(_A6, b), R(6, 5))
_B54 = R(5, 4)
add(L + "test_solve_arg1_3d", "linalg.solve",
    lambda m, a: m.linalg.solve(a, _B54[..., None])[..., 0], R(5, 4, 4) + 5 * np.eye(4))
_B546 = R(5, 4, 6)
add(L + "test_solve_arg1_3d_3d", "linalg.solve", lambda m, a: m.linalg.solve(a, _B546),
    R(5, 4, 4) + 5 * np.eye(4))
add(L + "test_det", "linalg.det", lambda m, x: m.linalg.det(x), R(6, 6), second=True)
add(L + "test_det_3d", "linalg.det", lambda m, x: m.linalg.det(x), R(3, 3, 3))
_m6 = R(6, 6)
add(L + "test_slogdet", "linalg.slogdet", lambda m, x: m.linalg.slogdet(x)[1], _m6)
add(L + "test_slogdet[-mat]", "linalg.slogdet", lambda m, x: m.linalg.slogdet(x)[1], -_m6)
add(L + "test_slogdet_3d", "linalg.slogdet", lambda m, x: m.sum(m.linalg.slogdet(x)[1]),
    psd(5, (3,)), second=True)
add(L + "test_vector_2norm", "linalg.norm", lambda m, x: m.linalg.norm(x), R(6), second=True)
add(L + "test_norm_list_of_boxes", "linalg.norm of a list",
    lambda m, x: m.linalg.norm([x, x + 2]), R())
add(L + "test_frobenius_norm", "linalg.norm", lambda m, x: m.linalg.norm(x), R(6, 5))
add(L + "test_frobenius_norm_axis", "linalg.norm", lambda m, x: m.linalg.norm(x, axis=(0, 1)),
    R(6, 5, 4))
for order in (2, 3, 4):
    add(L + f"test_vector_norm_ord[{order}]", "linalg.norm(ord)",
        lambda m, x, order=order: m.linalg.norm(x, ord=order), R(6), second=order == 3)
for axis in (0, 1, 2):
    add(L + f"test_norm_axis[{axis}]", "linalg.norm(axis)",
        lambda m, x, axis=axis: m.linalg.norm(x, axis=axis), R(6, 5, 4))
add(L + "test_norm_nuclear", "linalg.norm('nuc')", lambda m, x: m.linalg.norm(x, ord="nuc"),
    R(6, 5))
add(L + "test_norm_nuclear_axis", "linalg.norm('nuc', axis)",
    lambda m, x: m.linalg.norm(x, ord="nuc", axis=(0, 1)), R(6, 5, 4))
for case in ("vector_2norm", "frobenius_norm", "frobenius_norm_axis", "vector_norm_ord",
             "norm_axis", "norm_nuclear", "norm_nuclear_axis", "eigvalh_lower", "eigvalh_upper",
             "eig_complex", "eig_batched", "svd_wide_2d", "svd_wide_3d", "svd_square_2d",
             "svd_square_3d", "svd_tall_2d", "svd_tall_3d", "svd_only_s_2d", "svd_only_s_3d"):
    add(L + f"test_{case}_complex", "linalg", None, R(2, 2), scope=COMPLEX)
_hm = R(2, 3, 6, 6) + 10 * np.eye(6)
_hm = np.einsum("...ij,...kj->...ik", _hm, _hm)
add(L + "test_eigvalh_lower", "linalg.eigh", lambda m, x: tuple(m.linalg.eigh(x)), R(6, 6),
    second=True)
add(L + "test_eigvalh_upper", "linalg.eigh", lambda m, x: tuple(m.linalg.eigh(x, "U")), R(6, 6))
add(L + "test_eigvalh_lower_broadcasting", "linalg.eigh", lambda m, x: tuple(m.linalg.eigh(x)),
    _hm)
add(L + "test_eigvalh_upper_broadcasting", "linalg.eigh",
    lambda m, x: tuple(m.linalg.eigh(x, "U")), _hm)
add(L + "test_eig_real", "linalg.eig", lambda m, x: (m.abs(m.linalg.eig(x)[0]),), R(8, 8))
add(L + "test_cholesky", "linalg.cholesky", sym(lambda m, x: m.linalg.cholesky(x)), psd(6),
    second=True)
add(L + "test_cholesky_broadcast", "linalg.cholesky", sym(lambda m, x: m.linalg.cholesky(x)),
    psd(6, (3,)))
_z6 = np.random.RandomState(0).randn(6)
add(L + "test_cholesky_reparameterization_trick", "linalg.cholesky",
    sym(lambda m, x: m.linalg.norm(m.dot(m.linalg.cholesky(x), _z6))), psd(6))
for case, shape in (("wide_2d", (3, 5)), ("wide_3d", (4, 3, 5)), ("square_2d", (4, 4)),
                    ("square_3d", (3, 4, 4)), ("tall_2d", (5, 3)), ("tall_3d", (4, 5, 3))):
    add(L + f"test_svd_{case}", "linalg.svd",
        lambda m, x: tuple(m.linalg.svd(x, full_matrices=False)), R(*shape),
        second=case == "tall_2d")
add(L + "test_svd_only_s_2d", "linalg.svd(compute_uv=False)",
    lambda m, x: m.linalg.svd(x, full_matrices=False, compute_uv=False), R(5, 3))
add(L + "test_svd_only_s_3d", "linalg.svd(compute_uv=False)",
    lambda m, x: m.linalg.svd(x, full_matrices=False, compute_uv=False), R(4, 5, 3))

# --- test_scalar_ops.py (scalar inputs) ------------------------------------------
C = "test_scalar_ops.py::"
SCALAR = [("abs", 1.1), ("absolute", -1.1), ("sin", 0.3), ("sign", 1.1), ("exp", 0.3),
          ("log", 0.7), ("log2", 0.7), ("log10", 0.7), ("log1p", 0.7), ("expm1", 0.3),
          ("exp2", 0.3), ("cos", 0.3), ("tan", 0.3), ("cosh", 0.3), ("sinh", 0.3),
          ("tanh", 0.3), ("arccos", 0.3), ("arcsin", 0.3), ("arctan", 0.3), ("arccosh", 1.7),
          ("arcsinh", 0.3), ("arctanh", 0.3), ("sqrt", 1.7), ("reciprocal", 1.7),
          ("negative", 0.3), ("rad2deg", 0.3), ("deg2rad", 0.3), ("radians", 0.3),
          ("degrees", 0.3), ("sinc", 7.3)]
for fn, value in SCALAR:
    add(C + f"test_{fn}", fn, lambda m, x, fn=fn: 3.0 * getattr(m, fn)(x), U(value, value),
        second=True)
add(C + "test_abs[0]", "abs at its kink", lambda m, x: 3.0 * m.abs(x), U(0.0, 0.0),
    scope="the derivative at the kink is a convention: autograd's order=1 check there "
          "passes only for the average of one-sided slopes (0), as symgrad's sign(0) = 0")
add(C + "test_neg", "-x", lambda m, x: -x, R(), second=True)
add(C + "test_power_arg0", "power", lambda m, x, y: m.power(x, y), U(1.3, 1.3), U(1.7, 1.7))
add(C + "test_power_arg1", "power", lambda m, x, y: m.power(x, y), U(0.6, 0.6), U(0.4, 0.4),
    wrt=(1,))
add(C + "test_power_arg1_zero", "power(0, y)", lambda m, y: m.power(0.0, y), U(0.4, 0.4))
for fn in ("mod", "divide", "multiply", "true_divide"):
    add(C + f"test_{fn}_arg0", fn, lambda m, x, y, fn=fn: getattr(m, fn)(x, y), U(0.7, 0.7),
        U(0.3, 0.3), wrt=(0,))
    add(C + f"test_{fn}_arg1", fn, lambda m, x, y, fn=fn: getattr(m, fn)(x, y), U(0.7, 0.7),
        U(0.3, 0.3), wrt=(1,))

# --- test_binary_ops.py (a (3, 4) with a (1, 4) operand) -------------------------
B = "test_binary_ops.py::"
for case, fn, lo in (("mul", op.mul, None), ("add", op.add, None), ("sub", op.sub, None),
                     ("div", op.truediv, 0.7), ("mod", op.mod, 0.7), ("pow", op.pow, None)):
    a = U(1.1, 3.0, 3, 4) if case == "pow" else (U(lo, 2, 3, 4) if lo else R(3, 4))
    add(B + f"test_{case}", case, lambda m, x, y, fn=fn: fn(x, y), a,
        U(lo, 2, 1, 4) if lo else R(1, 4), wrt=(0, 1), second=case == "pow")
add(B + "test_arctan2", "arctan2", lambda m, x, y: m.arctan2(x, y), R(3, 4), R(1, 4),
    wrt=(0, 1), second=True)
add(B + "test_hypot", "hypot", lambda m, x, y: m.hypot(x, y), R(3, 4), R(1, 4), wrt=(0, 1))
add(B + "test_comparison_grads[<,<=,>,>=]", "comparisons",
    lambda m, x, y: (m.sum(x < y) + m.sum(x <= y) + m.sum(x > y) + m.sum(x >= y))
    + 0.0 * m.sum(x * y), R(3, 4), R(1, 4), wrt=(0, 1))
add(B + "test_comparison_grads[==,!=]", "== and != on arrays",
    lambda m, x, y: (m.sum(x == y) + m.sum(x != y)) + 0.0 * m.sum(x * y),
    R(3, 4), R(1, 4), wrt=(0, 1))

# --- test_scipy.py: scipy.special -------------------------------------------------
P = "test_scipy.py::"
add(P + "test_logsumexp1", "special.logsumexp",
    lambda m, x: m.special.logsumexp(x, axis=0, keepdims=True), R(3, 4))
add(P + "test_logsumexp2", "special.logsumexp", lambda m, x: m.special.logsumexp(x, axis=1),
    R(4, 5, 6))
_b4, _b34, _b234 = np.exp(R(4)), np.exp(R(3, 4)), np.exp(R(2, 3, 4))
add(P + "test_logsumexp3", "special.logsumexp(b)",
    lambda m, x: m.special.logsumexp(x, b=_b4), R(4))
add(P + "test_logsumexp4", "special.logsumexp(b)",
    lambda m, x: m.special.logsumexp(x, b=_b34, axis=1, keepdims=True), R(3, 4), second=True)
add(P + "test_logsumexp5", "special.logsumexp(b)",
    lambda m, x: m.special.logsumexp(x, b=_b234, axis=0), R(2, 3, 4))
add(P + "test_logsumexp6", "special.logsumexp",
    lambda m, x: m.special.logsumexp(x, axis=1, keepdims=True), R(1, 5), second=True)
for fn, (lo, hi) in (("psi", (0.3, 2)), ("digamma", (0.3, 2)), ("gammaln", (0.3, 2)),
                     ("erf", (-3, 3)), ("erfc", (-3, 3)), ("logit", (0.1, 0.9)),
                     ("expit", (-4.05, 4.95))):
    add(P + f"test_{fn}", f"special.{fn}", lambda m, x, fn=fn: getattr(m.special, fn)(x),
        U(lo, hi, 3, 2), second=True)
add(P + "test_polygamma", "special.polygamma", lambda m, x: m.special.polygamma(0, x),
    U(1.3, 3, 4))
for fn in ("beta", "betainc", "betaln", "gammainc", "gammaincc", "jn", "yn", "gamma",
           "gammasgn", "rgamma", "multigammaln", "j0", "j1", "y0", "y1", "i0", "i1", "iv",
           "ive", "erfinv", "erfcinv"):
    add(P + f"test_{fn}", f"special.{fn}", None, R(4), scope=NO_SPECIAL)
add(P + "test_erf[complex]", "special.erf", None, R(2), scope=COMPLEX)
add(P + "test_erfc[complex]", "special.erfc", None, R(2), scope=COMPLEX)

IN_SCOPE = [f for f in FORMS if f.scope is None]
#: In-scope forms symgrad does not express (yet), and why: test_form asserts they fail.
KNOWN_MISSING = {
    "test_binary_ops.py::test_comparison_grads[==,!=]":
        "node == node is structural identity (nodes are interned dict keys, docs/design.md); "
        "the elementwise comparison is sg.equal",
    "test_linalg.py::test_eig_real": "sg.linalg.eig handles a real spectrum only; the case's "
                                     "random 8x8 matrix has complex eigenvalues",
}
assert len({f.case for f in FORMS}) == len(FORMS), "duplicate case ids"
