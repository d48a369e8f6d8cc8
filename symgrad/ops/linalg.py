"""Linear algebra: matmul, outer, trace, det, logdet, inv, solve, norm.

VJPs follow Giles (2008), "Collected matrix derivative results"; each reuses
the forward output (``inv``'s and ``solve``'s) instead of recomputing it.
"""
from __future__ import annotations

import operator


from ..ir.graph import REGISTRY, result_dtype
from ..ir.leaves import as_node
from ..ir.shapes import ShapeError, broadcast_shapes, unify_dims
from ..ir.print_forms import PRODUCT, Piece
from .base import TINY, Sample, Spec, add_all, bilinear_jvp, linear_jvp, op
from . import facts as F
from .elementwise import maximum
from .reductions import sum_
from .structure import eye, reshape, transpose, unbroadcast
from .batched import column, gradient_jacobian, jvp_jacobian, mm, mT, row, solve_columns
from . import runtime
from ..ir.graph import Portable
from . import portable as xpl


def _matmul_infer(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul needs operands of rank 1 or 2 (use * for scalars)")
    if a.ndim > 2 or b.ndim > 2:
        raise ShapeError("matmul supports operands of rank 1 and 2")
    unify_dims(a.shape[-1], b.shape[0], "inner dimensions of the product")
    return a.shape[:-1] + b.shape[1:], result_dtype(a.dtype, b.dtype, "float64")


#: The builder of NumPy's batched matmul (an operand of rank > 2). ``ops.products``
#: builds it as an einsum and fills this hook: that module builds on this one (its
#: einsum folds to ``matmul``), so the route cannot be imported from here.
BATCHED_MATMUL: list = []


def _matmul_fold(a, b):
    """``I @ x = x`` and ``x @ I = x`` for a float64 ``x`` (the trace's vjp seeds with
    ``g I``, so the gradient of ``tr(Xᵀ M X)`` would read ``… @ I``), ``x @ Bᵀ = B @ x``
    for a vector ``x`` (the same products, as the Cookbook writes them); operands of rank
    > 2 build the batched einsum; other ranks 1 and 2 stay this op."""
    if a.op is eye and 1 <= b.ndim <= 2 and b.dtype == "float64" and a.shape[1] == b.shape[0]:
        return b
    if b.op is eye and 1 <= a.ndim <= 2 and a.dtype == "float64" and a.shape[-1] == b.shape[0]:
        return a
    if a.ndim == 1 and b.op is transpose and b.ndim == 2:  # x Bᵀ = B x: one spelling
        return matmul(b.operands[0], a)
    if a.ndim <= 2 and b.ndim <= 2:
        return None
    return BATCHED_MATMUL[0](a, b)


def _matmul_transposed(node):
    """(A B)ᵀ = Bᵀ Aᵀ for matrices A, B of which one is a transpose (which cancels)."""
    a, b = node.operands
    if a.ndim == 2 and b.ndim == 2 and (a.op is transpose or b.op is transpose):
        return b.T @ a.T
    return None


def _matmul_vjp(g, out, a, b):
    if a.ndim == 2 and b.ndim == 2:
        return [g @ b.T, a.T @ g]
    if a.ndim == 2:
        return [outer(g, b), a.T @ g]
    if b.ndim == 2:
        return [b @ g, outer(a, g)]
    return [g * b, g * a]


def dot_source(a, b, left: str, right: str) -> str:
    """The NumPy source of ``a @ b`` (``left``, ``right``: the operands' source): ``np.dot``;
    a product ``Xᵀ @ B`` with more rows than columns is formed as ``(Bᵀ @ X)ᵀ`` (the
    same GEMM, operands swapped; the result is a transposed, F-ordered array). OpenBLAS
    is markedly faster that way round for the weight gradients of a layer, ``xᵀ δ``
    (0.7x for the rank-one 784 x 256 product of an MLP at batch 1, 0.6-0.9x for tall
    products at batch 1024)."""
    if a.op is transpose and a.ndim == 2 and b.ndim == 2:
        rows, columns = a.shape[0], b.shape[1]
        if isinstance(rows, int) and isinstance(columns, int) and rows > columns:
            return f"np.dot({right}.T, {left}.T).T"
    return f"np.dot({left}, {right})"


def _matmul_numpy(args, attrs, ctx):
    return dot_source(*ctx.operands, *args)


def print_matmul(p, node, a, b):
    """``A @ B``, left-associative as NumPy evaluates it: A @ (B @ C) keeps its parentheses."""
    return p.infix(p.head(matmul), PRODUCT, a, b, "matmul")


def _sympy_matmul(s, node, a, b):
    left, right = node.operands
    if left.ndim == 1 and right.ndim == 1:
        return s.element(s.mul(s.T(a), b))
    return s.mul(s.T(b), a) if left.ndim == 1 else s.mul(a, b)


matmul = op("matmul", infer=_matmul_infer, numpy=_matmul_numpy, vjp=_matmul_vjp,
            fold=_matmul_fold, transposed=_matmul_transposed,
            jvp=bilinear_jvp, fresh=True, out_form="np.dot({0}, {1}, out={out})",
            linear_in=(0, 1), keeps_positive=True, facts=lambda node, facts: _matmul_facts(node, facts),
            jacobian=lambda s, node, js: _matmul_jacobian(s, node, js),
            samples=lambda: [Sample((Spec((2, 3)), Spec((3, 4)))),
                             Sample((Spec(("n", "k")), Spec(("k",)))),
                             Sample((Spec((3,)), Spec((3, 2)))),
                             Sample((Spec((3,)), Spec((3,))))],
            operators=(operator.matmul,),
            unicode=print_matmul, symbol=" @ ", latex_symbol=" ",
            to_sympy=_sympy_matmul,
            cli=(("node", None), ("node", None)),
    array_api="xp.matmul({0}, {1})")


def dot(a, b):
    """NumPy ``dot`` for operands of rank 0 to 2."""
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return matmul(a, b)


def _outer_infer(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError("outer needs two vectors")
    return (a.shape[0], b.shape[0]), result_dtype(a.dtype, b.dtype, "float64")


outer = op("outer", infer=_outer_infer, numpy="np.outer({0}, {1})",
           vjp=lambda g, out, a, b: [g @ b, a @ g], jvp=bilinear_jvp, fresh=True,
           transposed=lambda node: outer(*node.operands[::-1]),  # (a bᵀ)ᵀ = b aᵀ, exactly
           fold=lambda a, b: _outer_of_columns(a, b),
           linear_in=(0, 1), keeps_positive=True,
           facts=lambda node, facts: {"psd"} if node.operands[0] is node.operands[1] else F.NONE,
           samples=lambda: [Sample((Spec((3,)), Spec((2,)))), Sample((Spec(("n",)), Spec(("m",))))],
           to_sympy=lambda s, node, a, b: s.mul(a, s.T(b)),
           cli=(("node", None), ("node", None)),
    array_api="xp.reshape({0}, (-1, 1)) * xp.reshape({1}, (1, -1))")


def _outer_of_columns(a, b):
    """``outer(x M, y) = outer(Mᵀ x, y)`` (and in ``y``) for a vector ``x``: the same
    product, written as a column as the Cookbook writes ``Mᵀx yᵀ``."""
    if a.op is not matmul and b.op is not matmul:
        return None
    operands = [a, b]
    for i, v in enumerate(operands):
        if v.op is matmul and v.operands[0].ndim == 1 and v.operands[1].ndim == 2:
            operands[i] = v.operands[1].T @ v.operands[0]
    return None if operands == [a, b] else outer(*operands)


def _square(x, what):
    if x.ndim != 2:
        raise ShapeError(f"{what} needs a square matrix")
    unify_dims(x.shape[0], x.shape[1], f"{what} needs a square matrix")


def _square_infer(scalar_result: bool):
    def infer(x):
        _square(x, "this op")
        return ((), "float64") if scalar_result else (x.shape, "float64")
    return infer


SQUARE = lambda domain: lambda: [Sample((Spec((3, 3), domain),)),  # noqa: E731
                                 Sample((Spec(("n", "n"), domain),))]

trace = op("trace", infer=_square_infer(True), numpy="np.trace({0})",
           vjp=lambda g, out, x: [g * eye(n=x.shape[0])], jvp=linear_jvp,
           linear_in=(0,), keeps_positive=True, facts=F.of_spd("positive"), samples=SQUARE("real"),
           symbol="tr", latex_symbol=r"\operatorname{tr}",
           to_sympy=lambda s, node, x: s.sp.Trace(x),
           cli=(("node", None),),
    array_api="xp.linalg.trace({0})")


def _per_matrix(g):
    """A cotangent of shape ``(...)`` as ``(..., 1, 1)``: one scale per matrix of a stack."""
    return g if g.ndim == 0 else reshape(g, shape=g.shape + (1, 1))


def _matrix_sum(x):
    """The sum over each matrix of a stack (the last two axes)."""
    return sum_(x, axis=(-2, -1))


def _stacked_scalar_infer(x):
    """One value per square matrix of a stack, as np.linalg.det."""
    return _stacked_square_infer(x)[0][:-2], "float64"


def _inverse_transpose(x):
    return mT(inv(x))


STACKED = lambda domain: lambda: SQUARE(domain)() + [Sample((Spec((2, 3, 3), domain),))]  # noqa: E731

det = op("det", jacobian=jvp_jacobian, infer=_stacked_scalar_infer, numpy="np.linalg.det({0})",
         # the cofactor matrix (adjugate transpose), finite at singular x (ops/decompositions)
         vjp=lambda g, out, x: [_per_matrix(g) * REGISTRY["cofactor"](x)],
         jvp=lambda ts, out, x: _matrix_sum(REGISTRY["cofactor"](x) * ts[0]),
         facts=F.of_spd("positive"), samples=STACKED("wellcond"),
         latex_symbol=r"\det",
         to_sympy=lambda s, node, x: s.sp.Determinant(x),
         cli=(("node", None),),
    array_api=Portable("xp.linalg.det({0})", lacks=("dask",)))

logdet = op("logdet", jacobian=gradient_jacobian, infer=_square_infer(True), numpy="_logdet({0})", helpers=(runtime._logdet,),
            vjp=lambda g, out, x: [g * inv(x).T],
            jvp=lambda ts, out, x: trace(solve(x, ts[0])),
            # general matrices: on symmetric ones inv(x) and the right inv(x).T agree
            samples=SQUARE("posdet"),
            latex_symbol=r"\log\det",
            to_sympy=lambda s, node, x: s.sp.log(s.sp.Determinant(x)),
            cli=(("node", None),),
    array_api=Portable("_xp_logdet(xp, {0})", helpers=(xpl._xp_logdet,), lacks=("dask",)))

# slogdet's two parts: log|det x| (differentiable, accurate where det over/underflows)
# and the sign (piecewise constant, not differentiated).
logabsdet = op("logabsdet", jacobian=jvp_jacobian, infer=_stacked_scalar_infer, numpy="np.linalg.slogdet({0})[1]",
               # d log|det X| = X⁻ᵀ (Cookbook (57)), per matrix of a stack
               vjp=lambda g, out, x: [_per_matrix(g) * _inverse_transpose(x)],
               jvp=lambda ts, out, x: _matrix_sum(_inverse_transpose(x) * ts[0]),
               samples=STACKED("wellcond"),
    array_api=Portable("xp.linalg.slogdet({0})[1]", lacks=("dask",)))
det_sign = op("det_sign", infer=_stacked_scalar_infer, numpy="np.linalg.slogdet({0})[0]",
              differentiable=False,
    array_api=Portable("xp.linalg.slogdet({0})[0]", lacks=("dask",)))


def _stacked_square_infer(x):
    """A square matrix or a stack of them (the last two axes), as np.linalg.inv."""
    if x.ndim < 2:
        raise ShapeError(f"{x.ndim}-dimensional array given. Array must be at least "
                         "two-dimensional")
    unify_dims(x.shape[-2], x.shape[-1], "last 2 dimensions of the array must be square")
    return x.shape, "float64"


def _inv_vjp(g, out, x):
    """X̄ = -outᵀ g outᵀ for each matrix of the stack."""
    return [-mm(mm(mT(out), g), mT(out))]


def _inv_jvp(tangents, out, x):
    return -mm(mm(out, tangents[0]), out)


inv = op("inv", jacobian=jvp_jacobian, infer=_stacked_square_infer, numpy="np.linalg.inv({0})",
         vjp=_inv_vjp, jvp=_inv_jvp,
         fresh=True, facts=lambda node, facts: {"symmetric", "spd"} & facts(node.operands[0]),
         samples=lambda: SQUARE("wellcond")() + [Sample((Spec((2, 3, 3), "wellcond"),))],
         unicode=lambda p, node, x: p.script(x, p.head(node.op), "inv"), symbol="⁻¹", latex_symbol="^{-1}",
         to_sympy=lambda s, node, x: s.sp.Inverse(x),
         cli=(("node", None),),
    array_api=Portable("xp.linalg.inv({0})", lacks=("dask",)))


def _solve_infer(a, b):
    """NumPy 2's rule: ``b`` is a vector only when 1-D (``(..., n)`` results), else a
    stack ``(..., n, k)`` whose leading axes broadcast with ``a``'s."""
    _stacked_square_infer(a)
    if b.ndim == 1:
        unify_dims(a.shape[-1], b.shape[0], "rows of the right-hand side")
        return a.shape[:-1], "float64"
    unify_dims(a.shape[-1], b.shape[-2], "rows of the right-hand side")
    return broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], "float64"


def _solve_vjp(g, out, a, b):
    if a.ndim == 2 and b.ndim <= 2:
        gb = solve(a.T, g)
        ga = -(gb @ out.T) if b.ndim == 2 else -outer(gb, out)
        return [ga, gb]
    gb = _solve_stack(mT(a), g, b.ndim == 1)
    ga = -(column(gb) * row(out) if b.ndim == 1 else mm(gb, mT(out)))
    return [unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)]


def _solve_stack(a, rhs, vector: bool):
    """solve(a, rhs), a stack of vectors ``rhs`` (for a 1-D ``b``) solved as columns."""
    return solve_columns(solve, a, rhs, vector)


def _solve_jvp(tangents, out, a, b):
    ta, tb = tangents
    if a.ndim == 2 and b.ndim <= 2:
        rhs = add_all([tb, -(ta @ out) if ta is not None else None], out.shape)
        return solve(a, rhs)
    moved = None
    if ta is not None:
        moved = -(sum_(ta * row(out), axis=-1) if b.ndim == 1 else mm(ta, out))
    return _solve_stack(a, add_all([tb, moved], out.shape), b.ndim == 1)


solve = op("solve", jacobian=jvp_jacobian, infer=_solve_infer, numpy="np.linalg.solve({0}, {1})", vjp=_solve_vjp,
           jvp=_solve_jvp, fresh=True, linear_in=(1,),
           samples=lambda: [Sample((Spec((3, 3), "wellcond"), Spec((3,)))),
                            Sample((Spec(("n", "n"), "wellcond"), Spec(("n", 2)))),
                            Sample((Spec((2, 3, 3), "wellcond"), Spec((3,)))),
                            Sample((Spec((2, 3, 3), "wellcond"), Spec((3, 2))))],
           to_sympy=lambda s, node, a, b: s.mul(s.sp.Inverse(a), b),
           cli=(("node", None), ("node", None)),
    array_api=Portable("xp.linalg.solve({0}, {1})", lacks=("dask",)))


def _safe_unit(x, out):
    """x / |x|, with the subgradient 0 at x = 0."""
    return x / maximum(out, TINY)


def _sympy_norm(s, node, x):
    """|x| for a scalar; sqrt(xᵀx) for a vector, sqrt(tr(XᵀX)) for a matrix."""
    operand = node.operands[0]
    if not operand.ndim:
        return s.sp.Abs(x)
    square = s.mul(s.T(x), x)
    return s.sp.sqrt(s.element(square) if operand.ndim == 1 else s.sp.Trace(square))


norm = op("norm", jacobian=gradient_jacobian, infer=lambda x: ((), "float64"), numpy="np.linalg.norm({0})",
          vjp=lambda g, out, x: [g * _safe_unit(x, out)],
          jvp=lambda ts, out, x: sum_(_safe_unit(x, out) * ts[0]),
          positive_result=True, facts=F.NONNEGATIVE,
          samples=lambda: [Sample((Spec((3,)),)), Sample((Spec((2, 3)),)), Sample((Spec(("n",)),))],
          unicode=lambda p, node, x: Piece(f"‖{x.text}‖"), latex=lambda p, node, x: Piece(rf"\left\|{x.text}\right\|"),
          to_sympy=_sympy_norm,
          cli=(("node", None),),
    array_api="xp.sqrt(xp.sum(xp.square({0})))")


# Compile-time lowering ops. The compiler (symgrad.compile.specialize) rewrites
# ``logdet(M)`` and ``solve(M, B)`` of a provably symmetric PSD ``M`` into these,
# after differentiation, so one Cholesky factorization serves both. They
# appear only in compiled code and are not differentiable.


def _same_matrix(factor, m):
    if factor.op.name != "spd_factor" or factor.operands[0] is not m:
        raise ShapeError("the factor operand must be spd_factor of the matrix operand")


def _spd_logdet_infer(factor, m):
    _same_matrix(factor, m)
    return (), "float64"


def _spd_inv_infer(factor, m):
    _same_matrix(factor, m)
    return m.shape, "float64"


def _spd_solve_infer(factor, m, b):
    _same_matrix(factor, m)
    return _solve_infer(m, b)


def _lowered(name: str, infer, template: str, helpers: tuple, fresh: bool = False):
    """A compile-time lowering op: not differentiable, one helper call."""
    return op(name, infer=infer, numpy=template, helpers=helpers, differentiable=False,
              fresh=fresh)


spd_factor = _lowered("spd_factor", _square_infer(False), "_spd_factor({0})",
                      (runtime._spd_factor,))
spd_logdet = _lowered("spd_logdet", _spd_logdet_infer, "_spd_logdet({0}, {1})",
                      (runtime._spd_logdet,))
spd_inv = _lowered("spd_inv", _spd_inv_infer, "_spd_inv({0}, {1})", (runtime._spd_inv,), True)
spd_solve = _lowered("spd_solve", _spd_solve_infer, "_spd_solve({0}, {1}, {2})",
                     (runtime._spd_solve,), True)


# Structural facts of products (symgrad.analysis.properties) --------------------------------

def _gram(a, b) -> bool:
    """``X @ Xᵀ`` or ``Xᵀ @ X``."""
    return F.is_transpose_of(b, a) or F.is_transpose_of(a, b)


def _mirrors(a, b, facts) -> bool:
    """Whether ``b`` is ``aᵀ``: structurally, or ``a`` itself when ``a`` is symmetric."""
    return _gram(a, b) or (a is b and "symmetric" in facts(a))


def _sandwich(a, b, facts, fact: str) -> bool:
    """``X S Xᵀ`` with ``fact`` holding for ``S``: ``(X @ S) @ Xᵀ``, ``X @ (S @ Xᵀ)``,
    or ``solve(K, S) @ inv(K)`` (``K⁻¹ S K⁻¹``) for a symmetric ``K``."""
    if a.op is matmul and _mirrors(a.operands[0], b, facts):
        return fact in facts(a.operands[1])
    if b.op is matmul and _mirrors(a, b.operands[1], facts):
        return fact in facts(b.operands[0])
    if a.op is solve and b.op is inv and a.operands[0] is b.operands[0]:
        return "symmetric" in facts(b) and fact in facts(a.operands[1])
    return False


def _matmul_facts(node, facts):
    a, b = node.operands
    if not F.is_square(node):
        return F.NONE
    if _gram(a, b):
        return {"psd"}
    found = set()
    if _sandwich(a, b, facts, "psd"):
        found.add("psd")
    if _sandwich(a, b, facts, "symmetric") or (a is b and "symmetric" in facts(a)):
        found.add("symmetric")
    return found


# Whole-Jacobian rule (symgrad.autodiff.jacobians) ---------------------------------------------

def _matmul_jacobian(sweep, node, js):
    """Product rule: ``J[a] @ b + a @ J[b]`` with the contractions spelled out."""
    a, b = node.operands
    ja, jb = js
    return add_all([_matmul_left_operand(sweep, a, b, ja) if ja is not None else None,
                    sweep.left(a, jb) if jb is not None else None])


def _matmul_left_operand(sweep, a, b, ja):
    """J of ``a @ b`` through ``a``: ``b.T @ J[a]`` for vectors, a contraction otherwise."""
    if a.ndim == 1:
        return sweep.left(b.T if b.ndim == 2 else b, ja)
    k = sweep.k
    if b.ndim == 1:
        return sum_(ja * reshape(b, shape=(1,) + b.shape + (1,) * k), axis=1)
    spread = reshape(ja, shape=a.shape + (1,) + sweep.x.shape)
    scale = reshape(b, shape=(1,) + b.shape + (1,) * k)
    return sum_(spread * scale, axis=1)
