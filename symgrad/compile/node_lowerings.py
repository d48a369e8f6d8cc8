"""Cheaper forms of single nodes (a compile-time pass: one rebuild applying :data:`RULES`).

Each rule maps a node to a replacement of the same value, or ``None``:

* **Shared Cholesky factor.** ``logdet(M)``, ``solve(M, B)`` and ``inv(M)``
  of a matrix the graph proves symmetric PSD (``A @ A.T``, ``X.T @ X + λI``,
  ...: :func:`symgrad.analysis.properties.is_psd`) use one factorization,
  ``spd_factor(M)``, an interned node shared by every consumer: the
  log-determinant becomes ``2 Σ log diag L``, the solve a Cholesky solve and
  the inverse LAPACK's ``potri`` (SciPy's LAPACK when installed, else NumPy).
  A matrix that is PSD but numerically singular has no factor; its consumers
  fall back to ``slogdet`` and LU at run time.
* **Labels index instead of a one_hot matrix.** ``sum(one_hot(y) * X, axis=-1)``
  becomes ``pick(X, y)`` (``X[..., y]``), and ``X ± one_hot(y)`` /
  ``one_hot(y) - X`` become ``one_hot_add`` (a copy of ``±X`` with ``±1``
  added at the labels). Both index through one ``label_rows(y)`` node, so
  one_hot's range check runs once per label array. Where ``X`` holds
  ``-inf`` (a log-probability underflowed) the indexed form gives the picked
  entry, where ``0 * -inf`` made the one_hot product NaN.
* **Softmax from log-softmax.** ``softmax(z)`` next to ``log_softmax(z)``
  (cross-entropy and its gradient) is ``exp(log_softmax(z))``: one ``exp``
  instead of a second max/exp/sum/divide pass.
* **A product taken back out of a factored sum.** The constructors build
  ``P v + Q v`` as ``(P + Q) v`` (and ``x A + B x`` as ``(Aᵀ + B) x``: the
  Cookbook's form of a gradient, and for matrices one product fewer). Where the
  graph computes ``P v`` anyway (the forward pass of ``xᵀAx`` computes ``x A``),
  ``(P + Q) v`` is ``add_product(P v, Q, v)``, ``P v + Q v`` with ``P v`` read
  again: one product and no matrix sum, the code of the graph before the fold.
  For a vector ``v`` two products are cheaper than a sum of the matrices and one
  (``A + Aᵀ`` always, and for a few columns too; other sums of large matrices: the
  sum streams both matrices and writes a third), so they are taken out too.
* **A derivative's factors in the order that frees them.** ``g * (s * f(s))``
  (sigmoid's backward pass: ``g * (s * (1 - s))``, ``f`` elementwise in ``s``
  and scalars; arrays only) is ``(g * s) * f(s)`` when the inner product has no other reader:
  ``s`` is then read last by ``f(s)``, which the memory plan writes into ``s``'s
  own buffer, so no third array of the layer's shape is live (MLP at batch 1024:
  one 2 MB buffer fewer; the same three passes). Rounding differs by an ulp.
"""
from __future__ import annotations

from ..ops import elementwise, linalg as linalg_ops, products, reductions, structure
from ..rewrite.engine import rebuild
from ..analysis.properties import is_psd
from .graph_members import GraphMembers
from .memory_plan import statement_order
from .portability import NUMPY_ONLY, PORTABLE, valid

SPD_LOWERED = {linalg_ops.logdet: linalg_ops.spd_logdet, linalg_ops.solve: linalg_ops.spd_solve,
               linalg_ops.inv: linalg_ops.spd_inv}


def apply_rules(outputs: list, order: list, ops: set, backend: str) -> tuple:
    """(outputs, order) after one rebuild applying the :data:`RULES` valid here."""
    rules = {op: rule for op, (rule, needs, portable) in RULES.items()
             if op in ops and needs in ops and valid(portable, backend)}
    if not rules:
        return outputs, order
    present = GraphMembers(order, outputs)

    def rewrite(node):
        rule = rules.get(node.op)
        return None if rule is None else rule(node, present)

    new = rebuild(order, rewrite=rewrite)
    if not new:
        return outputs, order
    outputs = [new.get(o, o) for o in outputs]
    return outputs, statement_order(outputs)


def _spd(node, present):
    matrix = node.operands[0]
    if not is_psd(matrix):
        return None
    return SPD_LOWERED[node.op](linalg_ops.spd_factor(matrix), *node.operands)


def _one_hot_labels(node, like):
    """``label_rows`` of ``node``'s labels when it is a one_hot of ``like``'s shape."""
    if node.op is structure.one_hot and node.shape == like.shape:
        return structure.label_rows(node.operands[0], k=node.attrs["k"])
    return None


def _pick(node, present):
    """``sum(one_hot(y) * X, axis=last)`` -> ``pick(X, y)``."""
    product = node.operands[0]
    if (product.op is not elementwise.multiply or node.attrs["keepdims"]
            or node.attrs["axis"] != (product.ndim - 1,)):
        return None
    a, b = product.operands
    for one_hot, other in ((a, b), (b, a)):
        rows = _one_hot_labels(one_hot, product)
        if rows is not None and other.shape == product.shape:
            return structure.pick(other, rows)
    return None


def _one_hot_add(node, present):
    """``X + one_hot(y)``, ``X - one_hot(y)``, ``one_hot(y) ± X`` -> ``one_hot_add``, a
    sign kept outside: ``one_hot(y) - X = -(X - one_hot(y))`` and ``-E ± one_hot(y) =
    -(E ∓ one_hot(y))`` (as many passes; a 0-d factor applied next absorbs the sign,
    see :func:`symgrad.compile.scalar_push._scaled`)."""
    a, b = node.operands
    sign = -1.0 if node.op is elementwise.subtract else 1.0
    rows = _one_hot_labels(b, a)
    if rows is not None:
        x, negated = a, False
    else:
        rows = _one_hot_labels(a, b)
        if rows is None:
            return None
        x, negated, sign = b, sign < 0, -1.0 if sign < 0 else 1.0
    if x.op is elementwise.negative:
        x, negated, sign = x.operands[0], not negated, -sign
    result = structure.one_hot_add(x, rows, sign=sign)
    return elementwise.negative(result) if negated else result


def _softmax(node, present):
    """``softmax(z)`` -> ``exp(log_softmax(z))`` when the graph has the latter."""
    log_softmax = reductions.log_softmax(node.operands[0], **node.attrs)
    return elementwise.exp(log_softmax) if log_softmax in present else None


def _products_of(matrix, factor, side: str) -> list:
    """The nodes that compute ``matrix`` applied to ``factor`` from ``side``
    (``matrix @ factor`` for "right"), a vector's other reading too (``Aᵀ @ x`` is
    ``x @ A``)."""
    if side == "right":
        found = [linalg_ops.matmul(matrix, factor)]
    else:
        found = [linalg_ops.matmul(factor, matrix)]
    if matrix.op is structure.transpose and factor.ndim == 1:
        inner = matrix.operands[0]
        found.append(linalg_ops.matmul(factor, inner) if side == "right"
                     else linalg_ops.matmul(inner, factor))
    return found


#: Fewest entries of a matrix ``P + Q`` (of known sizes) for which ``(P + Q) v`` of a
#: narrow ``v`` runs as two products: both forms stream the matrices, the sum writing
#: one more; below, the extra product's call costs more (a 2-core Intel machine,
#: docs/performance.md, branch printing: even at n = 50, ahead from n = 100).
DISTRIBUTED_MIN_ENTRIES = 4096
#: Most columns of a matrix factor for which two products beat ``(A + Aᵀ) X``: a
#: product of a few columns streams the matrix about once, while the transpose sum, a
#: strided pass, costs about seven matrix-vector products at n = 1000 (ahead at 3
#: columns, behind at 30; a plain sum ``A + B`` is ahead from 3 columns).
NARROW_COLUMNS = 8


def _distributes(p, q, total, factor, side: str) -> bool:
    """Whether ``(p + q) v`` is cheaper as ``p v + q v``: the sum ``A + Aᵀ`` (strided)
    and ``v`` a vector or a few known columns (rows, on the left), or ``v`` a vector and
    the matrix large or of a named size."""
    transposes = (p.op is structure.transpose and p.operands[0] is q) or (
        q.op is structure.transpose and q.operands[0] is p)
    if factor.ndim == 2:
        free = factor.shape[1] if side == "right" else factor.shape[0]
        return transposes and isinstance(free, int) and free <= NARROW_COLUMNS
    if transposes:
        return True
    rows, columns = total.shape
    return not (isinstance(rows, int) and isinstance(columns, int)) or \
        rows * columns >= DISTRIBUTED_MIN_ENTRIES


def _product_out_of_sum(node, present):
    """``(P + Q) v`` -> ``add_product(P v, Q, v)`` (``u (P + Q)`` likewise) when the sum
    has no other reader and the graph computes ``P v`` anyway, or ``v`` is narrow enough
    that two products are cheaper (:func:`_distributes`; see the module docstring)."""
    a, b = node.operands
    for side, total, factor in (("right", a, b), ("left", b, a)):
        if total.op is not elementwise.add or total.ndim != 2 or present.uses(total) != 1:
            continue
        if any(term.shape != total.shape for term in total.operands):
            continue
        for p, q in (total.operands, total.operands[::-1]):
            done = next((u for u in _products_of(p, factor, side) if u in present), None)
            if done is not None:
                return _add_product(done, q, factor, side)
        p, q = total.operands
        if _distributes(p, q, total, factor, side):
            return _add_product(_products_of(p, factor, side)[-1], q, factor, side)
    return None


def _add_product(done, matrix, factor, side: str):
    """``done + matrix @ factor`` ("right") or ``done + factor @ matrix``."""
    operands = (matrix, factor) if side == "right" else (factor, matrix)
    return products.add_product(done, *operands)


def _reassociate(node, present):
    """``g * (s * f(s))`` -> ``(g * s) * f(s)`` (see the module docstring)."""
    if node.dtype != "float64" or not node.shape:  # arrays only: a scalar has no buffer
        return None
    for g, inner in (node.operands, node.operands[::-1]):
        if (inner.op is elementwise.multiply and inner.shape == node.shape == g.shape
                and inner is not g and present.uses(inner) == 1):
            for s, f in (inner.operands, inner.operands[::-1]):
                if (s.shape == node.shape and s is not g and f.op.elementwise and s in f.operands
                        and all(o is s or not o.shape for o in f.operands)):
                    return elementwise.multiply(elementwise.multiply(g, s), f)
    return None


#: op -> (rule, an op the graph must contain for the rule to ever apply, portable).
#: The shared Cholesky factor (SciPy's LAPACK) and label indexing (helpers that
#: range-check the labels, a branch on their values) need NumPy's runtime; softmax
#: from log-softmax is valid on every backend (symgrad.compile.portable).
RULES = {linalg_ops.logdet: (_spd, linalg_ops.logdet, NUMPY_ONLY),
         linalg_ops.solve: (_spd, linalg_ops.solve, NUMPY_ONLY),
         linalg_ops.inv: (_spd, linalg_ops.inv, NUMPY_ONLY),
         reductions.sum_: (_pick, structure.one_hot, NUMPY_ONLY),
         elementwise.add: (_one_hot_add, structure.one_hot, NUMPY_ONLY),
         elementwise.subtract: (_one_hot_add, structure.one_hot, NUMPY_ONLY),
         reductions.softmax: (_softmax, reductions.log_softmax, PORTABLE),
         elementwise.multiply: (_reassociate, elementwise.multiply, NUMPY_ONLY),
         linalg_ops.matmul: (_product_out_of_sum, elementwise.add, PORTABLE)}
