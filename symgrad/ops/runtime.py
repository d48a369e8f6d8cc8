"""Run-time helpers: the functions generated code calls, as real, tested code.

An op's NumPy lowering may call a helper (``_logdet(x)``, ``_softmax(x, axis)``);
the op's record lists it in ``helpers``. Each helper is a function here, marked
with :func:`helper`, which declares what else it needs: ``uses`` the helpers it
calls (embedded before it), ``reads`` the module-level names it reads (their
statements, embedded after it). :func:`embed` copies the functions' and
statements' own source lines (read with :mod:`inspect` and :mod:`ast`) into a
generated module, each once, so that module stays self-contained
(``sg.codegen``) and imports only NumPy (and ``threading`` for scratch slots).

The SciPy names the helpers read are bound by :func:`load_scipy`, not at
import: importing SciPy costs ~0.4 s, and ``import symgrad`` needs none of it;
its statements are embedded at the top level of the generated module, which
binds them when it is compiled. This module imports only NumPy and the
standard library, so it sits in ``ops/`` under every layer that uses it.
"""
from __future__ import annotations

import ast
import functools
import inspect
import math
import sys
import textwrap
import threading

import numpy as np


def helper(uses: tuple = (), reads: tuple = ()):
    """Mark a function as a run-time helper that calls the helpers ``uses`` and
    reads this module's globals named in ``reads`` (tests/test_runtime_helpers.py
    checks both lists against the function's code)."""
    def mark(function):
        function.uses = tuple(uses)
        function.reads = tuple(reads)
        return function
    return mark


@helper()
def _sigmoid(x, out=None):
    """Logistic function 1 / (1 + exp(-x)), into ``out`` if given (arrays: three
    passes in one buffer); as float64.

    Relative error of a few ulp wherever the result is normal; exp(-x) = inf
    below x = -709 gives 0, where the true value is subnormal anyway.
    """
    if not isinstance(x, np.ndarray) or x.ndim == 0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.negative(x, out=out, dtype=np.float64)
    np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


@helper()
def _softmax(x, axis):
    """exp(x) normalized along axis, shifted by the max."""
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf))
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


@helper()
def _log_softmax(x, axis):
    """log(softmax(x)) without forming softmax (the ufuncs' own reductions: ``np.max``
    and ``.sum`` call the same ones through a Python wrapper, ~1 µs each)."""
    s = x - np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf)
    return s - np.log(np.add.reduce(np.exp(s), axis=axis, keepdims=True))


@helper()
def _logsumexp(x, axis, keepdims):
    """log(sum(exp(x))) over axis, shifted by the (finite) max; -inf over an empty axis."""
    m = np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0.0)
    r = np.log(np.add.reduce(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


@helper()
def _logsumexp_b(a, b, axis, keepdims):
    """log(sum(b * exp(a))) over axis, shifted by the finite max of a where b != 0
    (terms with b = 0 are dropped, as SciPy does); nan for a negative sum."""
    a, b = np.broadcast_arrays(a, b)
    a = np.where(b == 0, -np.inf, a)
    m = np.max(a, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(np.sum(b * np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


@helper()
def _logit(p):
    """log(p / (1 - p)) as log(p) - log1p(-p): exact near 0, and near 1 (where 1 - p is)."""
    return np.log(p) - np.log1p(-p)


@helper()
def _scipy_special(name):
    """``scipy.special.<name>``, or an ImportError saying that SciPy is needed."""
    try:
        from scipy import special
    except ImportError:
        raise ImportError(f"symgrad evaluates {name} with scipy.special.{name}, and SciPy "
                          "is not installed: pip install scipy") from None
    return getattr(special, name)


@helper(uses=(_scipy_special,))
def _erf(x):
    """scipy.special.erf(x), float64."""
    return _scipy_special('erf')(x)


@helper(uses=(_scipy_special,))
def _erfc(x):
    """scipy.special.erfc(x), float64."""
    return _scipy_special('erfc')(x)


@helper(uses=(_scipy_special,))
def _gammaln(x):
    """scipy.special.gammaln(x), float64."""
    return _scipy_special('gammaln')(x)


@helper(uses=(_scipy_special,))
def _digamma(x):
    """scipy.special.psi(x), float64."""
    return _scipy_special('psi')(x)


@helper(uses=(_scipy_special,))
def _polygamma(x, n):
    """scipy.special.polygamma(n, x): the n-th derivative of digamma."""
    return _scipy_special("polygamma")(n, x)


@helper()
def _scatter(g, shape, index):
    """Zeros of shape with g placed at index: the adjoint of indexing."""
    z = np.zeros(shape)
    z[index] = g
    return z


@helper()
def _scatter_sum(shape, indices, *gs):
    """Zeros of shape with each g added at its index: a sum of scatters in one buffer."""
    z = np.zeros(shape)
    for index, g in zip(indices, gs):
        z[index] += g
    return z


@helper()
def _scatter_add(g, shape, index):
    """Zeros of shape with g added at index, repeated entries summed (np.add.at):
    the adjoint of x[index] for any NumPy index."""
    z = np.zeros(shape)
    if g.size:  # np.add.at refuses an empty index
        np.add.at(z, index, g)
    return z


@helper()
def _add_along_axis(g, indices, axis, shape):
    """Zeros of shape with g added where take_along_axis(., indices, axis) reads
    (np.add.at: repeated indices accumulate): its adjoint."""
    z = np.zeros(shape)
    grids = [np.arange(n).reshape((1,) * d + (n,) + (1,) * (len(shape) - d - 1))
             for d, n in enumerate(shape)]
    grids[axis] = indices
    if g.size:
        np.add.at(z, tuple(grids), g)
    return z


@helper()
def _diagonal_embed(v, shape, offset, axis1, axis2):
    """Zeros of shape with v's last axis on the diagonal (offset) of axes axis1, axis2:
    the adjoint of np.diagonal."""
    z = np.zeros(shape, dtype=np.result_type(v, np.float64))
    n = v.shape[-1]
    rows = np.arange(max(-offset, 0), max(-offset, 0) + n)
    np.moveaxis(z, (axis1, axis2), (-2, -1))[..., rows, rows + offset] = v
    return z


@helper()
def _check_labels(labels, k):
    """Raise unless every label lies in [0, k). int64 labels in one pass: read as
    uint64, a negative label is a huge one (>= k)."""
    if not labels.size:
        return
    if labels.dtype == np.int64:
        bad = np.maximum.reduce(labels.view(np.uint64), axis=None) >= k
    else:
        bad = labels.min() < 0 or labels.max() >= k
    if bad:
        raise ValueError(f"labels must lie in [0, {k}), got values in "
                         f"[{labels.min()}, {labels.max()}]")


@helper(uses=(_check_labels,))
def _one_hot(labels, k):
    """Rows of the k x k identity picked by integer labels (range-checked)."""
    _check_labels(labels, k)
    return (labels[..., None] == np.arange(k)).astype(np.float64)


@helper(uses=(_check_labels,))
def _label_rows(labels, k):
    """(row indices, labels) of the flattened label array, range-checked as one_hot's."""
    _check_labels(labels, k)
    flat = labels.reshape(-1)
    return np.arange(flat.size), flat


@helper()
def _pick(x, rows):
    """x[..., labels]: the entry of each row of x that the labels (as rows) select."""
    return x.reshape(-1, x.shape[-1])[rows].reshape(x.shape[:-1])


@helper()
def _one_hot_add(x, rows, sign):
    """x + sign * one_hot(labels, k) as a fresh array, without forming one_hot."""
    out = np.array(x, dtype=np.float64)
    out.reshape(-1, out.shape[-1])[rows] += sign
    return out


@helper()
def _sort_permute(t, x, axis):
    """t in the order that (stably) sorts x along axis."""
    return np.take_along_axis(t, np.argsort(x, axis=axis, kind="stable"), axis=axis)


@helper()
def _sort_unpermute(g, x, axis):
    """The inverse of _sort_permute: g put back where the sorted entries came from."""
    out = np.empty(np.shape(g))
    np.put_along_axis(out, np.argsort(x, axis=axis, kind="stable"), g, axis=axis)
    return out


@helper()
def _shift(x, axis, offset, fill):
    """x moved by offset along axis (y[i] = x[i - offset]), fill where nothing moved in."""
    x = np.asarray(x, dtype=float)
    y = np.full(x.shape, fill)
    n = x.shape[axis]
    k = min(abs(offset), n)
    dst, src = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    dst[axis], src[axis] = (slice(k, None), slice(0, n - k)) if offset >= 0 else \
        (slice(0, n - k), slice(k, None))
    y[tuple(dst)] = x[tuple(src)]
    return y


@helper()
def _linear_recurrence(a, b, axis, reverse):
    """h[i] = a[i] * h[i - 1] + b[i] along axis (h[i + 1] when reverse), h = 0 before the
    first position: a Python loop over the axis, vectorized over the others."""
    a, b = np.broadcast_arrays(a, b)
    h = np.moveaxis(np.array(b, dtype=float), axis, 0)
    a = np.moveaxis(a, axis, 0)
    n = h.shape[0]
    order = range(n - 2, -1, -1) if reverse else range(1, n)
    step = -1 if reverse else 1
    for i in order:
        h[i] += a[i] * h[i - step]
    return np.ascontiguousarray(np.moveaxis(h, 0, axis))


@helper()
def _logdet(x):
    """log(det(x)) through slogdet: -inf for singular, nan for negative det."""
    sign, logabs = np.linalg.slogdet(x)
    return logabs if sign > 0 else (-np.inf if sign == 0 else np.nan)


@helper(reads=("_lapack",))
def _spd_factor(m):
    """Lower Cholesky factor of the symmetric matrix m, or None when m is not
    numerically positive definite. (From SciPy the strict upper triangle is left
    over from m and never read.) None for an empty m too: LAPACK rejects n = 0
    (potrs raises, potri prints "illegal value"), NumPy's fallbacks handle it."""
    if m.shape[-1] == 0:
        return None
    if _lapack is None:
        try:
            return np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            return None
    factor, info = _lapack.dpotrf(m.T, lower=True, clean=False)
    return factor if info == 0 else None


@helper(uses=(_logdet,))
def _spd_logdet(factor, m):
    """log det m = 2 sum(log(diag L)); slogdet when m had no Cholesky factor."""
    if factor is None:
        return _logdet(m)
    return 2.0 * np.log(np.diagonal(factor)).sum()


@helper(reads=("_lapack", "_blas"))
def _spd_solve(factor, m, b):
    """m^-1 b from m's Cholesky factor: with as many right-hand sides as rows,
    the inverse from the factor (potri) times b (symm, one BLAS-3 call) beats two
    triangular solves; else potrs. LU (np.linalg.solve) without SciPy or factor, and
    for a stack of right-hand sides (b.ndim > 2, which potrs would misread)."""
    if factor is None or _lapack is None or b.ndim > 2:
        return np.linalg.solve(m, b)
    if b.ndim == 2 and b.shape[1] >= m.shape[0]:
        inverse, info = _lapack.dpotri(factor, lower=True)
        if info == 0:
            return _blas.dsymm(1.0, inverse, b, side=0, lower=True)
    x, info = _lapack.dpotrs(factor, b, lower=True)
    return x if info == 0 else np.linalg.solve(m, b)


@helper(reads=("_lapack",))
def _spd_inv(factor, m):
    """m^-1 from m's Cholesky factor (potri fills one triangle; mirrored);
    np.linalg.inv without SciPy or factor."""
    if factor is None or _lapack is None:
        return np.linalg.inv(m)
    inverse, info = _lapack.dpotri(factor, lower=True)
    if info:
        return np.linalg.inv(m)
    lower = np.tril(inverse)
    return np.add(lower, np.tril(lower, -1).T, out=lower)


@helper(reads=("_scipy_linalg",))
def _solve_triangular(a, b, lower, trans, unit_diagonal):
    """x with op(T) x = b for the triangle T of a (op: transpose when trans), batched."""
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    if _scipy_linalg is not None:
        x = _scipy_linalg.solve_triangular(a, b, trans=trans, lower=lower,
                                           unit_diagonal=unit_diagonal)
    else:
        t = np.tril(a) if lower else np.triu(a)
        if unit_diagonal:
            t = t - t * np.eye(t.shape[-1]) + np.eye(t.shape[-1])
        x = np.linalg.solve(np.swapaxes(t, -1, -2) if trans else t, b)
    return x[..., 0] if vector else x


@helper()
def _cofactor(x):
    """The cofactor matrix det(x) x^-T = det(U) det(V) U diag(prod_{j != i} s_j) V^T from
    the SVD x = U diag(s) V^T: no division, so exact at singular x (rank n-1: non-zero)."""
    u, s, vh = np.linalg.svd(x)
    ones = np.ones(s.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * ((u * (before * after)[..., None, :]) @ vh)


@helper()
def _eig(x):
    """np.linalg.eig(x) of real matrices with a real spectrum, as float64 (eigenvalues,
    unit eigenvectors as columns); LinAlgError naming the problem for complex ones."""
    w, v = np.linalg.eig(x)
    if np.iscomplexobj(w):
        if np.any(w.imag != 0):
            at = np.argwhere(w.imag != 0)[0]
            where = f" {tuple(int(i) for i in at[:-1])} of the stack" if x.ndim > 2 else ""
            raise np.linalg.LinAlgError(
                f"linalg.eig/eigvals: the {x.shape[-2]} x {x.shape[-1]} matrix{where} has "
                f"complex eigenvalues (one is {complex(w[tuple(at)])!r}); symgrad computes in "
                "real float64, so a complex spectrum has no value. A symmetric matrix: use "
                "eigh/eigvalsh. Real functions that are polynomials in the eigenvalues w: "
                "sum(w) = trace(a), sum(w**k) = trace(matrix_power(a, k)), prod(w) = det(a), "
                "prod(abs(w)) = abs(det(a))")
        w, v = w.real, v.real
    return w, v


# One factorization for the ops that each read one factor of it (svd's U and Vh, qr's
# Q and R): the last input and result are remembered, per function and options, and
# reused when the next input is equal; each op returns a copy of its factor, so no
# later in-place write reaches the remembered arrays.
@helper(reads=("_LAST_FACTORIZATION",))
def _factorization(kind, x, option):
    """np.linalg.<kind>(x, option), computed once for equal consecutive inputs."""
    key = (kind, option)
    last = _LAST_FACTORIZATION.get(key)
    if last is not None and last[0].shape == x.shape and np.array_equal(last[0], x):
        return last[1]
    result = getattr(np.linalg, kind)(x, option)
    _LAST_FACTORIZATION[key] = (np.array(x), result)
    return result


# Scratch slots of compiled functions (symgrad.compile.buffers) ----------------------

@helper(reads=("_thread_state",))
def _thread_scratch(sizes, shapes):
    """This thread's scratch buffers: one ``np.empty`` of each shape ``shapes(*sizes)``
    gives (``sizes``: the bound sizes they depend on), made on the thread's first call
    and again whenever the sizes differ from the last call's."""
    kept = getattr(_thread_state, "scratch", None)
    if kept is None or kept[0] != sizes:
        kept = _thread_state.scratch = (sizes, [np.empty(shape) for shape in shapes(*sizes)])
    return kept[1]


@helper(reads=("_KEPT_BYTES", "_FREE_REFS"))
def _recycled(pool, k, shape):
    """A buffer for output k: one this thread returned before and nothing refers
    to any more (only the pool), else a fresh one, kept (the last two) if large."""
    kept = pool[k]
    for buffer in kept:
        if sys.getrefcount(buffer) == _FREE_REFS and buffer.shape == shape:
            return buffer
    buffer = np.empty(shape)
    if buffer.nbytes >= _KEPT_BYTES:
        kept.append(buffer)
        if len(kept) > 2:  # both earlier ones still held: forget the oldest
            del kept[0]
    return buffer


@helper(reads=("_blas",))
def _dot_tn(a, b, out):
    """a.T @ b into ``out`` (a.shape[1] x b.shape[1], C-ordered) for float64 matrices:
    BLAS's gemm with beta = 0 through SciPy (the Fortran view of every C-ordered
    operand, no copy). NumPy's dot zeroes ``out`` first, and its OpenBLAS build is
    slow for a rank-one (one row) product: the weight gradients of an MLP at batch 1
    (256 x 256: ~60 µs against SciPy's ~7 µs). ``np.dot`` without SciPy, for
    non-contiguous operands and for empty ones."""
    if (_blas is not None and a.size and b.size and a.flags.c_contiguous and b.flags.c_contiguous
            and out.flags.c_contiguous):
        return _blas.dgemm(1.0, b.T, a.T, trans_b=1, beta=0.0, c=out.T, overwrite_c=1).T
    return np.dot(a.T, b, out=out)


@helper(reads=("_output_state",))
def _thread_pool(n):
    """This thread's n lists of recycled output buffers."""
    try:
        return _output_state.pool
    except AttributeError:
        _output_state.pool = [[] for _ in range(n)]
        return _output_state.pool


# Module state the helpers read -----------------------------------------------------

_LAST_FACTORIZATION = {}

_KEPT_BYTES = 131072  # smallest buffer kept across calls

_thread_state = threading.local()

_output_state = threading.local()

for _probe in [np.empty(0)]:  # references to a buffer only a pool list holds, as _recycled counts them
    _FREE_REFS = sys.getrefcount(_probe)


def load_scipy():
    """Bind ``_blas``, ``_lapack`` and ``_scipy_linalg`` (None without SciPy) for
    the helpers here that read them; each statement is also what :func:`embed`
    writes into a generated module."""
    global _blas, _lapack, _scipy_linalg
    try:  # SciPy's LAPACK/BLAS wrappers when installed (Cholesky solves); NumPy otherwise
        from scipy.linalg import blas as _blas, lapack as _lapack
    except ImportError:
        _blas = _lapack = None
    try:  # SciPy's triangular solver (batched) when installed; an LU solve of the triangle otherwise
        import scipy.linalg as _scipy_linalg
    except ImportError:
        _scipy_linalg = None


# Python float helpers ------------------------------------------------------------------
# Called by the code :mod:`symgrad.compile.scalar_code` writes for graphs of 0-d float64
# values (the op records' ``scalar`` templates): Python floats in, Python floats out, with
# NumPy's value wherever ``math`` raises (overflow, a domain error, a division by zero).


@helper()
def _scalar_divide(a, b):
    """a / b; at b = ±0, NumPy's ±inf (by the signs of a and b) or nan (a = 0 or nan)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


@helper()
def _scalar_power(a, b):
    """a ** b as libm's pow; where ``math.pow`` raises (0 to a negative power, a negative
    base to a fractional power, overflow), NumPy's value."""
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), np.float64(b)))


@helper()
def _scalar_exp(x):
    """exp(x); inf where it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


@helper()
def _scalar_log(x):
    """log(x); -inf at ±0, nan below 0."""
    try:
        return math.log(x)
    except ValueError:
        return -math.inf if x == 0.0 else math.nan


@helper()
def _scalar_log1p(x):
    """log(1 + x); -inf at -1, nan below -1."""
    try:
        return math.log1p(x)
    except ValueError:
        return -math.inf if x == -1.0 else math.nan


@helper()
def _scalar_domain(function, x):
    """``function(x)`` for a ``math`` function of one float, nan where ``x`` is outside
    its domain (``math`` raises ValueError: the square root below 0, sin and cos at ±inf)."""
    try:
        return function(x)
    except ValueError:
        return math.nan


@helper()
def _scalar_sigmoid(x):
    """1 / (1 + exp(-x)) as :func:`_sigmoid` computes it; 0 where exp(-x) overflows."""
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:
        return 0.0


@helper()
def _scalar_maximum(a, b):
    """NumPy's maximum: nan if either is nan, b if they are equal (-0.0 and 0.0)."""
    return a if a > b or a != a else b


@helper()
def _scalar_minimum(a, b):
    """NumPy's minimum: nan if either is nan, b if they are equal (-0.0 and 0.0)."""
    return a if a < b or a != a else b


@helper()
def _scalar_sign(x):
    """NumPy's sign: -1.0, 1.0, nan for nan, and 0.0 for either zero."""
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else x + 0.0


# Embedding ---------------------------------------------------------------------------

def embed(helpers) -> tuple:
    """(source blocks, names they bind) for ``helpers`` and what they use, each
    once, in order: a helper's ``uses`` before it; a block is the function
    followed by the statements of its ``reads`` not already embedded."""
    blocks, written, names = [], set(), set()

    def visit(function):
        if function.__name__ in names:
            return
        for used in function.uses:
            visit(used)
        parts = [_statement(function.__name__, function.__module__)]
        for name in function.reads:
            source = _statement(name, function.__module__)
            if source not in written:
                written.add(source)
                parts.append(source)
        names.add(function.__name__)
        names.update(function.reads)
        blocks.append("\n\n\n".join(parts))

    for function in helpers:
        visit(function)
    return blocks, names


@functools.cache
def _statement(name: str, module: str = __name__) -> str:
    """The source lines of the top-level statement (or ``load_scipy`` statement)
    of ``module`` (this one, or another module of helpers: :mod:`symgrad.ops.portable`)
    binding ``name``, dedented; a function's without its decorator."""
    lines, statements = _parsed(module)
    for statement in statements:
        if name in _bound_names(statement):
            return textwrap.dedent("\n".join(lines[statement.lineno - 1:statement.end_lineno]))
    raise LookupError(f"no run-time statement binds {name!r}")


@functools.cache
def _parsed(module: str = __name__) -> tuple:
    """(source lines, candidate statements) of ``module``."""
    source = inspect.getsource(sys.modules[module])
    tree = ast.parse(source)
    statements = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == load_scipy.__name__:
            statements += node.body
    return source.splitlines(), statements


def _bound_names(statement) -> set:
    if isinstance(statement, ast.FunctionDef):
        return {statement.name}
    if isinstance(statement, (ast.Assign, ast.Try, ast.For)):
        names = set()
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name)
        return names
    return set()
