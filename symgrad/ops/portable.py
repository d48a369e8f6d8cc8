"""Run-time helpers of the array-API backends: written against a namespace ``xp``.

The portable counterparts of :mod:`symgrad.ops.runtime`'s NumPy helpers, for the
ops whose array-API lowering (``Op.array_api``, a :class:`~symgrad.ir.graph.Portable`)
needs more than one expression. Each takes the array namespace first (the generated
function reads it off its inputs at call time), calls only names of the array API
standard, writes no ``out=``, branches on no array value (a lazy library such as
Dask would have to compute it) and converts nothing. They are embedded by source
into the generated module (:func:`symgrad.ops.runtime.embed`), as the NumPy helpers
are. This module imports only the standard library.
"""
from __future__ import annotations

from .runtime import helper


@helper()
def _xp_softmax(xp, x, axis):
    """exp(x) normalized along axis, shifted by the max."""
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


@helper()
def _xp_log_softmax(xp, x, axis):
    """log(softmax(x)) without forming softmax."""
    s = x - xp.max(x, axis=axis, keepdims=True)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


@helper()
def _xp_logsumexp(xp, x, axis, keepdims):
    """log(sum(exp(x))) over axis, shifted by the (finite) max."""
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    r = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else xp.squeeze(r, axis=axis)


@helper()
def _xp_logsumexp_b(xp, a, b, axis, keepdims):
    """log(sum(b * exp(a))) over axis, terms with b = 0 dropped; nan for a negative sum."""
    a, b = xp.broadcast_arrays(a, b)
    a = xp.where(b == 0, -xp.inf, a)
    m = xp.max(a, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    r = xp.log(xp.sum(b * xp.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else xp.squeeze(r, axis=axis)


@helper()
def _xp_logdet(xp, x):
    """log(det(x)) through slogdet: -inf for singular, nan for negative det (no branch)."""
    sign, logabs = xp.linalg.slogdet(x)
    return xp.where(sign > 0, logabs, xp.where(sign == 0, -xp.inf, xp.full_like(logabs, xp.nan)))


@helper()
def _xp_scatter(xp, g, shape, index):
    """Zeros of shape with g placed at index (ints and slices), built by padding with
    zeros along each indexed axis (no item assignment, so JAX and Dask too): an int
    index is a size-1 axis, a slice of step k interleaves k - 1 zeros after each entry."""
    index = tuple(index) + (slice(None),) * (len(shape) - len(index))
    for axis, entry in enumerate(index):
        if isinstance(entry, int):
            g = xp.expand_dims(g, axis=axis)
    for axis, (entry, n) in enumerate(zip(index, shape)):
        if isinstance(entry, int):
            start, step, m = entry % n, 1, 1
        else:
            start, stop, step = entry.indices(n)
            m = len(range(start, stop, step))
        if step < 0:  # the same entries in increasing order
            g, start, step = xp.flip(g, axis=axis), start + (m - 1) * step, -step
        if step > 1 and m:
            spread = xp.stack([g] + [xp.zeros_like(g)] * (step - 1), axis=axis + 1)
            size = list(g.shape)
            size[axis] = m * step
            g = xp.reshape(spread, tuple(size))
            g = g[(slice(None),) * axis + (slice(0, (m - 1) * step + 1), ...)]
        used = (m - 1) * step + 1 if m else 0
        start = start if m else 0
        before, after = list(g.shape), list(g.shape)
        before[axis], after[axis] = start, n - start - used
        g = xp.concat([xp.zeros(tuple(before), dtype=g.dtype), g,
                       xp.zeros(tuple(after), dtype=g.dtype)], axis=axis)
    return xp.astype(g, xp.float64)


@helper()
def _xp_diagonal_embed(xp, v, shape, offset, axis1, axis2):
    """Zeros of shape with v's last axis on the diagonal (offset) of axes axis1, axis2,
    through a mask of the diagonal (no item assignment)."""
    rows, columns = shape[axis1], shape[axis2]
    n = v.shape[-1]
    along = rows if offset >= 0 else columns  # entry j of v sits in row j (column j if offset < 0)
    padded = xp.concat([v, xp.zeros(v.shape[:-1] + (along - n,), dtype=v.dtype)], axis=-1)
    values = padded[..., :, None] if offset >= 0 else padded[..., None, :]
    mask = xp.reshape(xp.arange(rows), (-1, 1)) + offset == xp.reshape(xp.arange(columns), (1, -1))
    z = xp.where(mask, values, xp.zeros((), dtype=v.dtype))
    return xp.moveaxis(z, (-2, -1), (axis1, axis2))


@helper()
def _xp_shift(xp, x, axis, offset, fill):
    """x moved by offset along axis (y[i] = x[i - offset]), fill where nothing moved in."""
    x = xp.astype(x, xp.float64)
    n = x.shape[axis]
    k = min(abs(offset), n)
    kept = [slice(None)] * x.ndim
    kept[axis] = slice(0, n - k) if offset >= 0 else slice(k, None)
    block = list(x.shape)
    block[axis] = k
    filled = xp.full(tuple(block), fill, dtype=xp.float64)
    parts = [filled, x[tuple(kept)]] if offset >= 0 else [x[tuple(kept)], filled]
    return xp.concat(parts, axis=axis)


@helper()
def _xp_linear_recurrence(xp, a, b, axis, reverse):
    """h[i] = a[i] * h[i - 1] + b[i] along axis (h[i + 1] when reverse), h = 0 before the
    first position: a Python loop over the axis, the steps stacked (no item assignment)."""
    a, b = xp.broadcast_arrays(a, b)
    a, b = xp.moveaxis(a, axis, 0), xp.moveaxis(xp.astype(b, xp.float64), axis, 0)
    n = b.shape[0]
    steps = range(n - 1, -1, -1) if reverse else range(n)
    h, out = None, [None] * n
    for i in steps:
        h = b[i, ...] if h is None else a[i, ...] * h + b[i, ...]
        out[i] = h
    return xp.moveaxis(xp.stack(out, axis=0), 0, axis)


@helper()
def _xp_solve_triangular(xp, a, b, lower, trans, unit_diagonal):
    """x with op(T) x = b for the triangle T of a (op: transpose when trans), batched:
    a general solve of the triangle (the standard has no triangular solver)."""
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    t = xp.tril(a) if lower else xp.triu(a)
    if unit_diagonal:
        eye = xp.eye(t.shape[-1], dtype=t.dtype)
        t = t - t * eye + eye
    if trans:
        t = xp.matrix_transpose(t)
    x = xp.linalg.solve(t, b)
    return x[..., 0] if vector else x


@helper()
def _xp_cofactor(xp, x):
    """The cofactor matrix det(x) x^-T from the SVD (as runtime._cofactor: no division)."""
    u, s, vh = xp.linalg.svd(x)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumulative_prod(xp.concat([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumulative_prod(xp.concat([ones, xp.flip(s[..., 1:], axis=-1)], axis=-1),
                                       axis=-1), axis=-1)
    sign = xp.linalg.det(u) * xp.linalg.det(vh)
    return sign[..., None, None] * xp.matmul(u * (before * after)[..., None, :], vh)


@helper()
def _xp_scan(xp, step, init, xs, consts, reverse, length):
    """For ``outputs = step(*carries, *(x[i] for x in xs), *consts)`` from the tuple
    ``init``, for i in range(length) (from the last i when reverse), the first
    ``len(init)`` outputs the next carries: every output's values stacked in i's order,
    one output as it is, several flattened and side by side (shape (length, total
    size)). One ``jax.lax.scan`` on JAX (one compiled loop with a tuple carry, the
    outputs its ``ys``, not length copies of the step), a Python loop on every other
    library."""
    k = len(init)
    if xp.__name__.startswith("jax"):
        import jax

        def body(carry, x):
            new = tuple(step(*carry, *x, *consts))
            return new[:k], new
        ys = jax.lax.scan(body, tuple(init), tuple(xs), length=length, reverse=reverse)[1]
    else:
        carry, out = tuple(init), [None] * length
        for i in range(length - 1, -1, -1) if reverse else range(length):
            out[i] = tuple(step(*carry, *[x[i, ...] for x in xs], *consts))
            carry = out[i][:k]
        ys = [xp.stack([row[j] for row in out], axis=0) for j in range(len(out[0]))]
    if len(ys) == 1:
        return ys[0]
    return xp.concat([xp.reshape(y, (length, -1)) for y in ys], axis=1)


# Source-writing functions of array-API lowerings (called when lowering, not embedded) ---

def index_tuple(index) -> str:
    """An index tuple (ints and slices, as ``getitem`` records them) as a Python
    expression: ``(1, slice(None, None, None))``, for a helper taking an index."""
    def part(entry):
        if isinstance(entry, int):
            return str(entry)
        return f"slice({entry[1]!r}, {entry[2]!r}, {entry[3]!r})"
    return "(" + "".join(f"{part(e)}, " for e in index) + ")"


def symmetric(args, attrs) -> str:
    """The symmetric matrix whose ``UPLO`` triangle is the operand's (the standard's
    ``eigh``/``eigvalsh`` read a triangle of the implementation's choosing)."""
    triangle = "xp.tril" if attrs["UPLO"] == "L" else "xp.triu"
    return f"{triangle}({args[0]}) + xp.matrix_transpose({triangle}({args[0]}, k={'-1' if attrs['UPLO'] == 'L' else '1'}))"


def rounded(args, attrs, ctx) -> str:
    """``np.round(x, decimals)`` as NumPy computes it: scaled, rounded half to even, unscaled."""
    d = attrs["decimals"]
    if d == 0:
        return f"xp.round({args[0]})"
    if d > 0:
        return f"xp.round({args[0]} * {10.0 ** d!r}) / {10.0 ** d!r}"
    return f"xp.round({args[0]} / {10.0 ** -d!r}) * {10.0 ** -d!r}"
