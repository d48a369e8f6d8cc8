"""Matrix decompositions and the functions built on them: cholesky, solve_triangular,
eigh/eigvalsh, svd, qr, pinv, matrix_rank, and the cofactor matrix that ``det``'s
gradient is (finite at singular matrices).

Every op works on the last two axes and batches over the leading ones, as NumPy.
Derivatives: Cholesky after Murray (2016), "Differentiation of the Cholesky
decomposition"; eigh, svd and qr as JAX's rules (Giles 2008, Townsend 2016,
Walter & Lehmann 2018). Functions that NumPy computes from one triangle of a
symmetric matrix (``cholesky``, ``eigh``/``eigvalsh`` with ``UPLO='L'``) are
differentiated *as NumPy evaluates them*: as functions of that triangle only, so
the gradient lives in the triangle (``tril(G + Gᵀ) - diag(G)`` for the symmetric
gradient ``G``, which JAX and autograd return). Both give the same result for any
symmetric parametrization (``A Aᵀ``, ``(B + Bᵀ)/2``, ...), and this one also
agrees with finite differences of the NumPy function itself.
"""
from __future__ import annotations

from ..ir.graph import Node, describe
from ..ir.shapes import ShapeError
from . import facts as F
from .base import Sample, Spec, add_all, op
from .batched import column, jvp_jacobian, mm, mT, row, solve_columns
from .elementwise import maximum
from .linalg import TINY, _solve_infer, _stacked_square_infer, solve
from .reductions import _reduce_prepare, _reduced_shape, expand_reduced, sum_
from .shaping import tri  # the triangular mask (NumPy's np.tri)
from .structure import concatenate, dimsize, eye as eye_op, getitem, unbroadcast, zeros_op
from . import runtime
from ..ir.graph import Portable
from . import portable as xpl

# Batched building blocks (last two axes are the matrix) ---------------------------


def diagonal(x: Node) -> Node:
    """The diagonals of a stack of square matrices, shape ``(..., n)``."""
    return sum_(x * eye(x.shape[-1]), axis=-1)


def eye(n) -> Node:
    return eye_op(n=n)


def lower(x: Node, k: int = 0) -> Node:
    """``np.tril(x, k)`` as a mask product (batched, named sizes)."""
    return x * tri(n=x.shape[-1], k=k)


def upper(x: Node, k: int = 0) -> Node:
    """``np.triu(x, k)``: ``x`` with the entries below diagonal ``k`` zeroed."""
    return x * (1.0 - tri(n=x.shape[-1], k=k - 1))


def phi(x: Node) -> Node:
    """Murray's Φ: the lower triangle with the diagonal halved."""
    n = x.shape[-1]
    return x * (tri(n=n, k=0) - 0.5 * eye(n))


def read_symmetric(x: Node, uplo: str = "L") -> Node:
    """The symmetric matrix NumPy reads from one triangle of ``x`` (``UPLO``)."""
    x = x if uplo == "L" else mT(x)
    return lower(x) + mT(lower(x, -1))


def fold_symmetric(g: Node, uplo: str = "L") -> Node:
    """Adjoint of :func:`read_symmetric`: a gradient ``g`` with respect to the symmetric
    matrix sent to the triangle that was read."""
    folded = phi(g + mT(g))
    return folded if uplo == "L" else mT(folded)


def square_stack(x: Node) -> None:
    """Raise as NumPy does unless ``x`` is a (stack of) square matrices (the error is
    prefixed with the op and its operands)."""
    _stacked_square_infer(x)


def _stack(x: Node) -> None:
    if x.ndim < 2:
        raise ShapeError(f"{x.ndim}-dimensional array given. Array must be at least "
                         "two-dimensional")


# solve_triangular -------------------------------------------------------------------


def _trans_code(trans) -> int:
    codes = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1}
    if isinstance(trans, bool) or trans not in codes:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    return codes[trans]


def _solve_triangular_prepare(a, b, lower=False, trans=0, unit_diagonal=False):
    return {"lower": bool(lower), "trans": _trans_code(trans), "unit_diagonal": bool(unit_diagonal)}


def _solve_triangular_infer(a, b, lower, trans, unit_diagonal):
    return _solve_infer(a, b)  # solve's shape rule: only the values differ


def _triangle(x: Node, lower_: bool, unit_diagonal: bool) -> Node:
    """The part of ``x`` the solve reads: its lower or upper triangle (strict when
    the diagonal is taken as ones)."""
    k = 1 if unit_diagonal else 0
    return lower(x, -k) if lower_ else upper(x, k)


def _outer_stack(u: Node, v: Node, vector: bool) -> Node:
    """``u vᵀ`` for (stacks of) vectors, ``u @ vᵀ`` for matrices."""
    return column(u) * row(v) if vector else mm(u, mT(v))


def _solve_triangular_vjp(g, out, a, b, lower, trans, unit_diagonal):
    """b̄ = op(T)⁻ᵀ g, T̄ = -b̄ xᵀ (-x b̄ᵀ when transposed), kept to the triangle read."""
    vector = b.ndim == 1
    gb = solve_columns(solve_triangular, a, g, vector, lower=lower, trans=1 - trans,
                       unit_diagonal=unit_diagonal)
    ga = -(_outer_stack(out, gb, vector) if trans else _outer_stack(gb, out, vector))
    return [unbroadcast(_triangle(ga, lower, unit_diagonal), a.shape), unbroadcast(gb, b.shape)]


def _apply(t: Node, x: Node, trans: int, vector: bool) -> Node:
    """``op(t) @ x`` for x a (stack of) vectors or matrices."""
    t = mT(t) if trans else t
    return sum_(t * row(x), axis=-1) if vector else mm(t, x)


def _solve_triangular_jvp(tangents, out, a, b, lower, trans, unit_diagonal):
    """ẋ = op(T)⁻¹ (ḃ - op(Ṫ) x)."""
    ta, tb = tangents
    moved = None if ta is None else -_apply(_triangle(ta, lower, unit_diagonal), out, trans,
                                            b.ndim == 1)
    rhs = add_all([tb, moved], out.shape)
    return solve_columns(solve_triangular, a, rhs, b.ndim == 1, lower=lower, trans=trans,
                         unit_diagonal=unit_diagonal)


solve_triangular = op(
    "solve_triangular", jacobian=jvp_jacobian, infer=_solve_triangular_infer, prepare=_solve_triangular_prepare,
    numpy="_solve_triangular({0}, {1}, {lower!r}, {trans!r}, {unit_diagonal!r})",
    helpers=(runtime._solve_triangular,), fresh=True, linear_in=(1,),
    vjp=_solve_triangular_vjp, jvp=_solve_triangular_jvp,
    samples=lambda: [Sample((Spec((3, 3), "wellcond"), Spec((3,))), {"lower": True}),
                     Sample((Spec((3, 3), "wellcond"), Spec((3, 2))), {"trans": 1}),
                     Sample((Spec((2, 3, 3), "wellcond"), Spec((3, 2))),
                            {"lower": True, "trans": 1, "unit_diagonal": True}),
                     Sample((Spec((2, 3, 3), "wellcond"), Spec((3,))), {"trans": 1}),
                     Sample((Spec(("n", "n"), "wellcond"), Spec(("n", "m"))), {"lower": True})],
    array_api=Portable("_xp_solve_triangular(xp, {0}, {1}, {lower!r}, {trans!r}, {unit_diagonal!r})",
                       helpers=(xpl._xp_solve_triangular,), lacks=("dask",)))


# cholesky -------------------------------------------------------------------------------


def _cholesky_vjp(g, out, x):
    """Murray (2016): S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹, by two triangular solves; the gradient with
    respect to the symmetric input is (S + Sᵀ)/2, sent to the lower triangle read."""
    left = solve_triangular(out, phi(mm(mT(out), g)), lower=True, trans=1)
    s = mT(solve_triangular(out, mT(left), lower=True, trans=1))
    return [phi(s + mT(s))]


def _cholesky_jvp(tangents, out, x):
    """L̇ = L Φ(L⁻¹ Ṡ L⁻ᵀ), Ṡ the symmetric tangent read from the lower triangle."""
    left = solve_triangular(out, read_symmetric(tangents[0]), lower=True)
    middle = mT(solve_triangular(out, mT(left), lower=True))
    return mm(out, phi(middle))


cholesky = op("cholesky", jacobian=jvp_jacobian, infer=_stacked_square_infer,
              numpy="np.linalg.cholesky({0})", fresh=True,
              vjp=_cholesky_vjp, jvp=_cholesky_jvp,
              samples=lambda: [Sample((Spec((3, 3), "spd"),)), Sample((Spec((2, 3, 3), "spd"),)),
                               Sample((Spec(("n", "n"), "spd"),))],
              cli=(("node", None),),
    array_api=Portable("xp.linalg.cholesky({0})", lacks=("dask",)))


# eigh / eigvalsh ------------------------------------------------------------------------

SPD_SAMPLES = lambda: [Sample((Spec((3, 3), "spd"),)),  # noqa: E731
                       Sample((Spec((2, 3, 3), "spd"),), {"UPLO": "U"}),
                       Sample((Spec(("n", "n"), "spd"),))]


def _uplo_prepare(x, UPLO="L"):  # noqa: N803  (NumPy's keyword)
    if UPLO not in ("L", "U"):
        raise ValueError(f"UPLO argument must be 'L' or 'U', got {UPLO!r}")
    return {"UPLO": UPLO}


def _eigvalsh_infer(x, UPLO):  # noqa: N803
    square_stack(x)
    return x.shape[:-1], "float64"


def _eigh_vectors_infer(x, UPLO):  # noqa: N803
    square_stack(x)
    return x.shape, "float64"


def _eigvalsh_vjp(g, out, x, UPLO):  # noqa: N803
    """dw_i = v_iᵀ dS v_i, so S̄ = V diag(ḡ) Vᵀ."""
    v = eigh_vectors(x, UPLO=UPLO)
    return [fold_symmetric(mm(v * row(g), mT(v)), UPLO)]


def _eigvalsh_jvp(tangents, out, x, UPLO):  # noqa: N803
    v = eigh_vectors(x, UPLO=UPLO)
    return diagonal(mm(mT(v), mm(read_symmetric(tangents[0], UPLO), v)))


def eigen_gaps(w: Node) -> Node:
    """F_ij = 1/(w_j - w_i) off the diagonal, 0 on it: JAX's ``1/(I + w_j - w_i) - I``,
    infinite where two eigenvalues coincide."""
    n = w.shape[-1]
    return 1.0 / (eye(n) + row(w) - column(w)) - eye(n)


def _eigh_vectors_vjp(g, out, x, UPLO):  # noqa: N803
    """dV = V (F ∘ Vᵀ dS V), so S̄ = V (F ∘ Vᵀ V̄) Vᵀ."""
    f = eigen_gaps(eigvalsh(x, UPLO=UPLO))
    inner = f * mm(mT(out), g)
    return [fold_symmetric(mm(out, mm(inner, mT(out))), UPLO)]


def _eigh_vectors_jvp(tangents, out, x, UPLO):  # noqa: N803
    f = eigen_gaps(eigvalsh(x, UPLO=UPLO))
    return mm(out, f * mm(mT(out), mm(read_symmetric(tangents[0], UPLO), out)))


eigvalsh = op("eigvalsh", jacobian=jvp_jacobian, infer=_eigvalsh_infer, prepare=_uplo_prepare,
              numpy="np.linalg.eigvalsh({0}, UPLO={UPLO!r})", fresh=True,
              vjp=_eigvalsh_vjp, jvp=_eigvalsh_jvp, samples=SPD_SAMPLES,
              cli=(("node", None),),
    array_api=Portable(lambda args, attrs, ctx: f"xp.linalg.eigvalsh({xpl.symmetric(args, attrs)})",
                       lacks=("dask",)))
eigh_vectors = op("eigh_vectors", jacobian=jvp_jacobian, infer=_eigh_vectors_infer, prepare=_uplo_prepare,
                  numpy="np.linalg.eigh({0}, UPLO={UPLO!r})[1]", fresh=True,
                  vjp=_eigh_vectors_vjp, jvp=_eigh_vectors_jvp, samples=SPD_SAMPLES,
    array_api=Portable(lambda args, attrs, ctx: f"xp.linalg.eigh({xpl.symmetric(args, attrs)})[1]",
                       lacks=("dask",)))


# eig (general real matrices with a real spectrum) ------------------------------------------
# A U = U diag(w) with unit columns u_j. With dA, C = F ∘ (U⁻¹ dA U) (F the eigen gaps):
# dw = diag(U⁻¹ dA U), dU = P - U diag(diag(Uᵀ P)) for P = U C (the unit-norm correction);
# their transposes are autograd's and JAX's rules for a real spectrum.

EIG_SAMPLES = lambda: [Sample((Spec((3, 3), "real_spectrum"),)),  # noqa: E731
                       Sample((Spec((2, 3, 3), "real_spectrum"),)),
                       Sample((Spec(("n", "n"), "real_spectrum"),))]


def _eig_values_infer(x):
    square_stack(x)
    return x.shape[:-1], "float64"


def _eig_vectors_infer(x):
    square_stack(x)
    return x.shape, "float64"


def _solve(a: Node, b: Node) -> Node:
    return solve(a, b)


def _eig_values_vjp(g, out, x):
    """Ā = U⁻ᵀ diag(ḡ) Uᵀ."""
    u = eig_vectors(x)
    return [_solve(mT(u), column(g) * mT(u))]


def _eig_values_jvp(tangents, out, x):
    u = eig_vectors(x)
    return diagonal(_solve(u, mm(tangents[0], u)))


def _eig_vectors_vjp(g, out, x):
    """Ā = U⁻ᵀ (F ∘ Uᵀ (Ḡ - U diag(diag(Uᵀ Ḡ)))) Uᵀ."""
    f = eigen_gaps(eig_values(x))
    along = sum_(out * g, axis=-2)
    inner = f * mm(mT(out), g - out * row(along))
    return [_solve(mT(out), mm(inner, mT(out)))]


def _eig_vectors_jvp(tangents, out, x):
    f = eigen_gaps(eig_values(x))
    p = mm(out, f * _solve(out, mm(tangents[0], out)))
    return p - out * row(sum_(out * p, axis=-2))


eig_values = op("eigvals", jacobian=jvp_jacobian, infer=_eig_values_infer, numpy="_eig({0})[0]",
                helpers=(runtime._eig,), fresh=True, vjp=_eig_values_vjp, jvp=_eig_values_jvp,
                samples=EIG_SAMPLES, cli=(("node", None),))
eig_vectors = op("eig_vectors", jacobian=jvp_jacobian, infer=_eig_vectors_infer, numpy="_eig({0})[1]",
                 helpers=(runtime._eig,), fresh=True, vjp=_eig_vectors_vjp,
                 jvp=_eig_vectors_jvp, samples=EIG_SAMPLES)


# cofactor: det's gradient, finite at singular matrices ------------------------------------


def _cofactor_vjp(g, out, x):
    """dC = (⟨C, dX⟩ C - C dXᵀ C) / det X (from C = det(X) X⁻ᵀ), so
    X̄ = (⟨Ḡ, C⟩ C - C Ḡᵀ C) / det X; det X = ⟨X, C⟩ / n (Laplace). Infinite at an
    exactly singular X, where only the first derivative of det is finite."""
    inner = sum_(g * out, axis=(-2, -1), keepdims=True)
    return [(inner * out - mm(out, mm(mT(g), out))) / _det_from(x, out)]


def _cofactor_jvp(tangents, out, x):
    t = tangents[0]
    inner = sum_(t * out, axis=(-2, -1), keepdims=True)
    return (inner * out - mm(out, mm(mT(t), out))) / _det_from(x, out)


def _det_from(x: Node, c: Node) -> Node:
    """det X = ⟨X, C⟩ / n for the cofactor matrix C of X (kept as (..., 1, 1))."""
    n = dimsize(dims=(x.shape[-1],)) if isinstance(x.shape[-1], str) else x.shape[-1]
    return sum_(x * c, axis=(-2, -1), keepdims=True) / n


cofactor = op("cofactor", jacobian=jvp_jacobian, infer=_stacked_square_infer, numpy="_cofactor({0})",
              helpers=(runtime._cofactor,), fresh=True, vjp=_cofactor_vjp, jvp=_cofactor_jvp,
              # det(S) S⁻ᵀ is symmetric with S (by continuity at singular S), SPD with it
              facts=F.keeps("symmetric", "spd"),
              samples=lambda: [Sample((Spec((3, 3), "wellcond"),)),
                               Sample((Spec((2, 3, 3), "wellcond"),)),
                               Sample((Spec(("n", "n"), "wellcond"),))],
    array_api=Portable("_xp_cofactor(xp, {0})", helpers=(xpl._xp_cofactor,), lacks=("dask",)))


# svd: singular values, U and Vᴴ (one op each) -----------------------------------------------

def _rank_dim(m, n):
    """min(m, n) for the reduced factors (named sizes: only when they are the same)."""
    if m == n:
        return m
    if isinstance(m, int) and isinstance(n, int):
        return min(m, n)
    raise ShapeError(f"the reduced SVD of a ({m}, {n}) matrix needs int sizes or equal names")


def _singular_values_infer(x):
    _stack(x)
    return x.shape[:-2] + (_rank_dim(*x.shape[-2:]),), "float64"


def _svd_u_infer(x, full_matrices):
    _stack(x)
    m, n = x.shape[-2:]
    return x.shape[:-2] + (m, m if full_matrices else _rank_dim(m, n)), "float64"


def _svd_vh_infer(x, full_matrices):
    _stack(x)
    m, n = x.shape[-2:]
    return x.shape[:-2] + (n if full_matrices else _rank_dim(m, n), n), "float64"


def _svd_parts(x):
    """(s, U, Vᴴ) of the reduced SVD of x, and F_ij = 1/(s_j² − s_i²) (0 on the diagonal)."""
    s = singular_values(x)
    k = s.shape[-1]
    f = 1.0 / (eye(k) + row(s * s) - column(s * s)) - eye(k)
    return s, svd_u(x, full_matrices=False), svd_vh(x, full_matrices=False), f


def _reduced_only(x, full_matrices, what, option="full_matrices=True", instead="full_matrices=False",
                  fn="svd"):
    m, n = x.shape[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            f"the derivative of {fn}'s {what} with {option} is not unique for a "
            f"{m} x {n} matrix (JAX does not define it either); use {instead}")


def _singular_values_vjp(g, out, x):
    _, u, vh, _ = _svd_parts(x)
    return [mm(u * row(g), vh)]


def _singular_values_jvp(tangents, out, x):
    _, u, vh, _ = _svd_parts(x)
    return diagonal(mm(mT(u), mm(tangents[0], mT(vh))))


def _svd_u_vjp(g, out, x, full_matrices):
    """Ā = U ((J + Jᵀ) S) Vᵀ, J = F ∘ UᵀḠ, plus (I − UUᵀ) Ḡ S⁻¹ Vᵀ when m > n."""
    _reduced_only(x, full_matrices, "U")
    s, u, vh, f = _svd_parts(x)
    j = f * mm(mT(u), g)
    grad = mm(u, mm((j + mT(j)) * row(s), vh))
    if _taller(x):
        grad = grad + mm((g - mm(u, mm(mT(u), g))) / row(s), vh)
    return [grad]


def _svd_vh_vjp(g, out, x, full_matrices):
    """Ā = U (S (K + Kᵀ)) Vᵀ, K = F ∘ Vᵀ V̄ (V̄ = Ḡᵀ), plus U S⁻¹ Ḡ (I − VVᵀ) when n > m."""
    _reduced_only(x, full_matrices, "Vh")
    s, u, vh, f = _svd_parts(x)
    k = f * mm(vh, mT(g))
    grad = mm(u, mm(column(s) * (k + mT(k)), vh))
    if _wider(x):
        grad = grad + mm(u, (g - mm(mm(g, mT(vh)), vh)) / column(s))
    return [grad]


def _svd_u_jvp(tangents, out, x, full_matrices):
    """U̇ = U (F ∘ (dS S + S dSᵀ)) + (I − UUᵀ) Ȧ V S⁻¹ (m > n), dS = Uᵀ Ȧ V (JAX's rule)."""
    _reduced_only(x, full_matrices, "U")
    s, u, vh, f = _svd_parts(x)
    av = mm(tangents[0], mT(vh))
    ds = mm(mT(u), av)
    result = mm(u, f * (ds * row(s) + column(s) * mT(ds)))
    if _taller(x):
        result = result + (av - mm(u, ds)) / row(s)
    return result


def _svd_vh_jvp(tangents, out, x, full_matrices):
    """V̇ = V (F ∘ (S dS + dSᵀ S)) + (I − VVᵀ) Ȧᵀ U S⁻¹ (n > m); the tangent of Vᴴ is V̇ᵀ."""
    _reduced_only(x, full_matrices, "Vh")
    s, u, vh, f = _svd_parts(x)
    uta = mm(mT(u), tangents[0])
    ds = mm(uta, mT(vh))
    result = mm(mT(f * (column(s) * ds + mT(ds) * row(s))), vh)
    if _wider(x):
        result = result + (uta - mm(ds, vh)) / column(s)
    return result


def _taller(x) -> bool:
    m, n = x.shape[-2:]
    return m != n and isinstance(m, int) and isinstance(n, int) and m > n


def _wider(x) -> bool:
    m, n = x.shape[-2:]
    return m != n and isinstance(m, int) and isinstance(n, int) and m < n


SVD_SAMPLES = lambda: [Sample((Spec((3, 2)),), {"full_matrices": False}),  # noqa: E731
                       Sample((Spec((2, 3)),), {"full_matrices": False}),
                       Sample((Spec((2, 4, 3)),), {"full_matrices": False}),
                       Sample((Spec(("n", "n")),), {"full_matrices": True})]

singular_values = op("singular_values", jacobian=jvp_jacobian, infer=_singular_values_infer,
                     numpy="np.linalg.svd({0}, compute_uv=False)", fresh=True,
                     vjp=_singular_values_vjp, jvp=_singular_values_jvp,
                     samples=lambda: [Sample(s.operands) for s in SVD_SAMPLES()],
    array_api=Portable("xp.linalg.svdvals({0})", lacks=("dask",)))
def _svd_factor(name: str, index: int, infer, vjp, jvp):
    """The op of one factor of ``np.linalg.svd(x, full_matrices)``: U (index 0) or Vᴴ (2)."""
    return op(name, jacobian=jvp_jacobian, infer=infer,
              prepare=lambda x, full_matrices=True: {"full_matrices": bool(full_matrices)},
              numpy=f"_factorization('svd', {{0}}, {{full_matrices!r}})[{index}].copy()", fresh=True,
              helpers=(runtime._factorization,), vjp=vjp, jvp=jvp, samples=SVD_SAMPLES,
              array_api=Portable(f"xp.linalg.svd({{0}}, full_matrices={{full_matrices!r}})[{index}]",
                                 lacks=("dask",)))


svd_u = _svd_factor("svd_u", 0, _svd_u_infer, _svd_u_vjp, _svd_u_jvp)
svd_vh = _svd_factor("svd_vh", 2, _svd_vh_infer, _svd_vh_vjp, _svd_vh_jvp)


# vector_norm: the 2-norm along axes --------------------------------------------------------

def _vector_norm_unit(out, x, axis, keepdims):
    """x / ‖x‖ along the axes (0 where the norm is 0: the subgradient of ``norm``)."""
    return x / maximum(expand_reduced(out, x, axis, keepdims), TINY)


def _vector_norm_vjp(g, out, x, axis, keepdims):
    return [expand_reduced(g, x, axis, keepdims) * _vector_norm_unit(out, x, axis, keepdims)]


def _vector_norm_jvp(tangents, out, x, axis, keepdims):
    unit = _vector_norm_unit(out, x, axis, keepdims)
    return sum_(unit * tangents[0], axis=axis, keepdims=keepdims)


vector_norm = op("vector_norm", prepare=_reduce_prepare,
                 infer=lambda x, axis, keepdims: (_reduced_shape(x.shape, axis, keepdims),
                                                  "float64"),
                 numpy="np.sqrt(np.add.reduce(np.square({0}), axis={axis!r}, "
                       "keepdims={keepdims!r}))",
                 fresh=True, positive_result=True, vjp=_vector_norm_vjp, jvp=_vector_norm_jvp,
                 samples=lambda: [Sample((Spec((2, 3)),), {"axis": 1}),
                                  Sample((Spec((2, 3, 2)),), {"axis": (0, 2), "keepdims": True}),
                                  Sample((Spec(("n", 2)),), {"axis": 0})],
    array_api="xp.sqrt(xp.sum(xp.square({0}), axis={axis!r}, keepdims={keepdims!r}))")


# qr: Q and R (one op each), mode 'reduced' / 'complete' / 'r' ------------------------------

def _qr_infer(x, mode, part):
    _stack(x)
    m, n = x.shape[-2:]
    k = m if mode == "complete" else _rank_dim(m, n)
    return x.shape[:-2] + ((m, k) if part == "q" else (k, n)), "float64"


def _qr_prepare(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete' here, got {mode!r} "
                         "('r' is sg.linalg.qr's; 'raw' is not supported)")
    return {"mode": mode}


def _qr_factors(x, mode, part):
    """(Q, R) of x, after checking the derivative of ``part`` ('q' or 'r') is defined: int
    sizes or m = n, and complete Q only when m <= n (the same Q as 'reduced'): for m > n its
    last m - n columns are not unique, so PyTorch and JAX raise too. Complete R is reduced R
    over m - n zero rows, differentiable like it."""
    m, n = x.shape[-2:]
    if m != n and not (isinstance(m, int) and isinstance(n, int)):
        raise NotImplementedError(f"the derivative of qr of a {m} x {n} matrix needs int "
                                  "sizes (or a square matrix)")
    if mode == "complete" and part == "q" and _tall(x):
        raise NotImplementedError(
            f"qr_q({describe(x)}, mode='complete'): the derivative of the complete Q of a "
            f"{m} x {n} matrix (m > n) is not defined: its last {m - n} columns are any "
            "orthonormal basis of the complement of the first n (NumPy's come from its "
            "Householder reflectors; PyTorch and JAX raise too); use mode='reduced' (R alone "
            "is differentiable in mode 'complete')")
    return qr_q(x, mode="reduced"), qr_r(x, mode="reduced")


def _columns(x: Node, start: int, stop=None) -> Node:
    """``x[..., start:stop]``."""
    return getitem(x, index=(Ellipsis, slice(start, stop)))


def _square_qr_adjoint(q, r, gq, gr):
    """Ā = (Q̄ + Q N) R⁻ᵀ with M = R̄Rᵀ − QᵀQ̄, N = triu(M) + tril(Mᵀ, −1) (from the
    tangents below; Walter & Lehmann 2018); R⁻ᵀ by a triangular solve. For m >= n."""
    m = add_all([None if gr is None else mm(gr, mT(r)),
                 None if gq is None else -mm(mT(q), gq)], r.shape)
    n = upper(m) + lower(mT(m), -1)
    b = mm(q, n) if gq is None else gq + mm(q, n)
    return mT(solve_triangular(r, mT(b), lower=False))


def _square_qr_tangents(q, r, tangent):
    """(dQ, dR) with B = dA R⁻¹, C = QᵀB, Ω = tril(C, −1) − tril(C, −1)ᵀ:
    dQ = Q (Ω − C) + B, dR = (C − Ω) R (JAX's rule). For m >= n."""
    b = mT(solve_triangular(r, mT(tangent), lower=False, trans=1))
    c = mm(mT(q), b)
    omega = lower(c, -1) - mT(lower(c, -1))
    return mm(q, omega - c) + b, mm(c - omega, r)


def _wide(x) -> bool:
    m, n = x.shape[-2:]
    return m != n and isinstance(m, int) and isinstance(n, int) and m < n


def _tall(x) -> bool:
    m, n = x.shape[-2:]
    return m != n and isinstance(m, int) and isinstance(n, int) and m > n


def qr_adjoint(x, mode, gq=None, gr=None):
    """The square/tall rule; for m < n, A = [X | Y] with R = [U | QᵀY] (Liao et al. 2019):
    Ȳ = Q V̄, and X's rule with Q̄ + Y V̄ᵀ and Ū, for R̄ = [Ū | V̄]."""
    q, r = _qr_factors(x, mode, "r" if gq is None else "q")
    if mode == "complete" and _tall(x):  # R = [reduced R; 0]: its zero rows get no say
        gr = getitem(gr, index=(Ellipsis, slice(0, x.shape[-1]), slice(None)))
    if not _wide(x):
        return [_square_qr_adjoint(q, r, gq, gr)]
    k = x.shape[-2]
    y, u = _columns(x, k), _columns(r, 0, k)
    if gr is None:
        return [concatenate(_square_qr_adjoint(q, u, gq, None),
                                        zeros_op(shape=y.shape), axis=-1)]
    gv = _columns(gr, k)
    gq = add_all([gq, mm(y, mT(gv))])
    return [concatenate(_square_qr_adjoint(q, u, gq, _columns(gr, 0, k)),
                                    mm(q, gv), axis=-1)]


def qr_tangents(x, mode, tangent, part):
    """dQ (``part='q'``) or dR (``'r'``); for m < n: X's tangents, and
    dR = [dU | dQᵀ Y + Qᵀ dY]; complete R of a tall X: [dR; 0]."""
    return _qr_tangents(x, mode, tangent, part)["qr".index(part)]


def _qr_tangents(x, mode, tangent, part):
    q, r = _qr_factors(x, mode, part)
    if mode == "complete" and _tall(x):
        dq, dr = _square_qr_tangents(q, r, tangent)
        m, n = x.shape[-2:]
        stack = zeros_op(shape=dr.shape[:-2] + (m - n, n))  # the tangents' stack
        return dq, concatenate(dr, stack, axis=-2)
    if not _wide(x):
        return _square_qr_tangents(q, r, tangent)
    k = x.shape[-2]
    dq, du = _square_qr_tangents(q, _columns(r, 0, k), _columns(tangent, 0, k))
    dv = mm(mT(dq), _columns(x, k)) + mm(mT(q), _columns(tangent, k))
    return dq, concatenate(du, dv, axis=-1)


QR_SAMPLES = lambda: [Sample((Spec((4, 3)),)),  # noqa: E731
                      Sample((Spec((3, 3)),), {"mode": "complete"}),
                      Sample((Spec((2, 3, 2)),)), Sample((Spec(("n", "n")),)),
                      Sample((Spec((2, 4)),)), Sample((Spec((2, 2, 3)),))]

qr_q = op("qr_q", jacobian=jvp_jacobian, infer=lambda x, mode: _qr_infer(x, mode, "q"), prepare=_qr_prepare,
          numpy="_factorization('qr', {0}, {mode!r})[0].copy()", fresh=True,
          helpers=(runtime._factorization,),
          vjp=lambda g, out, x, mode: qr_adjoint(x, mode, gq=g),
          jvp=lambda ts, out, x, mode: qr_tangents(x, mode, ts[0], "q"), samples=QR_SAMPLES,
    array_api=Portable("xp.linalg.qr({0}, mode={mode!r})[0]", lacks=("dask",)))
qr_r = op("qr_r", jacobian=jvp_jacobian, infer=lambda x, mode: _qr_infer(x, mode, "r"), prepare=_qr_prepare,
          numpy="_factorization('qr', {0}, {mode!r})[1].copy()", fresh=True,
          helpers=(runtime._factorization,),
          vjp=lambda g, out, x, mode: qr_adjoint(x, mode, gr=g),
          jvp=lambda ts, out, x, mode: qr_tangents(x, mode, ts[0], "r"),
          samples=lambda: QR_SAMPLES() + [Sample((Spec((4, 2)),), {"mode": "complete"})],
    array_api=Portable("xp.linalg.qr({0}, mode={mode!r})[1]", lacks=("dask",)))


# pinv and matrix_rank -----------------------------------------------------------------------

def _pinv_infer(x, rcond, hermitian):
    _stack(x)
    return x.shape[:-2] + (x.shape[-1], x.shape[-2]), "float64"


def _pinv_numpy(args, attrs, ctx):
    rcond = "" if attrs["rcond"] is None else f", rcond={attrs['rcond']!r}"
    return f"np.linalg.pinv({args[0]}{rcond}, hermitian={attrs['hermitian']!r})"


def _pinv_vjp(g, out, x, rcond, hermitian):
    """Golub & Pereyra (1973), for a matrix of constant rank:
    Ā = −Pᵀ Ḡ Pᵀ + (I − A P) Ḡᵀ P Pᵀ + Pᵀ P Ḡᵀ (I − P A)."""
    p, pt, gt = out, mT(out), mT(g)
    left = mm(gt, mm(p, pt))
    right = mm(mm(pt, p), gt)
    return [-mm(pt, mm(g, pt)) + left - mm(x, mm(p, left)) + right - mm(mm(right, p), x)]


def _pinv_jvp(tangents, out, x, rcond, hermitian):
    """dP = −P dA P + P Pᵀ dAᵀ (I − A P) + (I − P A) dAᵀ Pᵀ P."""
    p, dt = out, mT(tangents[0])
    left = mm(mm(p, mT(p)), dt)
    right = mm(dt, mm(mT(p), p))
    return -mm(p, mm(tangents[0], p)) + left - mm(mm(left, x), p) + right - mm(p, mm(x, right))


def _print_pinv(p, node, x):
    """The Moore-Penrose pseudo-inverse ``X⁺`` (a call when its cutoff is not NumPy's)."""
    if node.attrs["rcond"] is not None or node.attrs["hermitian"]:
        return p.call("pinv", [x.text], dict(node.attrs))
    return p.script(x, p.head(node.op), "pinv")


pinv = op("pinv", jacobian=jvp_jacobian, infer=_pinv_infer,
          prepare=lambda x, rcond=None, hermitian=False: {
              "rcond": None if rcond is None else float(rcond), "hermitian": bool(hermitian)},
          numpy=_pinv_numpy, fresh=True, vjp=_pinv_vjp, jvp=_pinv_jvp,
          samples=lambda: [Sample((Spec((3, 2)),)), Sample((Spec((2, 3)),)),
                           Sample((Spec((2, 3, 3), "wellcond"),)),
                           Sample((Spec(("n", "m")),))],
          unicode=_print_pinv, symbol="⁺", latex_symbol="^{+}",
          cli=(("node", None),),
    array_api=Portable(lambda args, attrs, ctx: f"xp.linalg.pinv({args[0]}" + (
        "" if attrs["rcond"] is None else f", rtol={attrs['rcond']!r}") + ")", lacks=("dask",)))


def _matrix_rank_numpy(args, attrs, ctx):
    tol = "" if attrs["tol"] is None else f", tol={attrs['tol']!r}"
    return (f"np.asarray(np.linalg.matrix_rank({args[0]}{tol}, hermitian={attrs['hermitian']!r}), "
            "dtype=np.int64)")


matrix_rank = op("matrix_rank", infer=lambda x, tol, hermitian: (x.shape[:-2], "int64"),
                 prepare=lambda x, tol=None, hermitian=False: {
                     "tol": None if tol is None else float(tol), "hermitian": bool(hermitian)},
                 numpy=_matrix_rank_numpy, differentiable=False,
    array_api=lambda args, attrs, ctx: (f"xp.astype(xp.linalg.matrix_rank({args[0]}), xp.int64)" if attrs["tol"] is None
                                       else f"xp.astype(xp.sum(xp.linalg.svdvals({args[0]}) > {attrs['tol']!r}, axis=-1), xp.int64)"))
