"""Matrix chains in their cheapest bracketing: ``(A B) v -> A (B v)``, at compile time.

The matrix product is associative, ``(A B) C = A (B C)``, but the two
bracketings cost different work: with ``A`` p×q, ``B`` q×r, ``C`` r×s,
``(A B) C`` takes ``p q r + p r s`` multiply-adds and ``A (B C)`` takes
``q r s + p q s``. Python reads ``A @ B @ v`` left to right, so a user's
``A @ B @ v`` (n×n, n×n, n) costs n³ + n² where ``A @ (B @ v)`` costs 2 n²;
and matmul's reverse rule makes the gradient of ``f(A B v)`` wrt ``A`` the chain
``outer(g, v) @ Bᵀ`` (n³), which is ``outer(g, B v)`` (2 n²).

The pass finds every maximal chain: a ``matmul`` whose operands are expanded
through inner ``matmul`` and ``outer`` nodes that nothing else reads (a product
read twice is computed once, so it is a factor of the chains that read it, never
recomputed). A vector is a 1×n row or an n×1 column: a chain's first and last
vectors (``u @ A @ v``), and ``outer(x, y)``, the column ``x`` times the row ``y``.
Where a column meets a row the contracted length is 1, and the rebuilt product is an
``outer`` (or ``*`` with a scalar). The cheapest bracketing is the classic dynamic
programme over the chain's sizes (Cormen et al., *Introduction to Algorithms*,
§15.2); the chain is rebuilt in it only when that is strictly cheaper than the
bracketing written, so an already optimal graph (every chain of two products
whose sizes tie, every MLP's backward pass) compiles to the same source.
Sizes must be integers: a chain with a named size (``b``) could be cheaper
either way, so it stays as written. Rounding differs from the written order's
by the usual reassociation error.
"""
from __future__ import annotations

import math

from ..ops import linalg as linalg_ops
from ..rewrite.engine import Phase, rebuild, register
from .memory_plan import statement_order
from .graph_members import GraphMembers

#: Longest chain (in factors) the dynamic programme (cubic in the length) considers;
#: longer chains stay as written.
MAX_FACTORS = 32


def matmul_flops(nodes) -> int:
    """Floating-point operations (2 per multiply-add) of the ``matmul`` nodes among
    ``nodes`` (integer sizes): every output entry is a dot product of the
    contracted length."""
    return sum(2 * _multiply_adds(node) for node in nodes if node.op is linalg_ops.matmul)


def _multiply_adds(node) -> int:
    """Multiply-adds of a ``matmul`` or ``outer`` node (an outer product contracts length 1)."""
    contracted = node.operands[0].shape[-1] if node.op is linalg_ops.matmul else 1
    return math.prod(node.shape) * contracted


#: A factor's part in a chain: a matrix, or a vector read as a 1×n row or an n×1 column.
MATRIX, ROW, COLUMN = "matrix", "row", "column"
#: The part a vector operand plays in a link of the chain: (left operand, right operand).
_VECTOR_PARTS = {linalg_ops.matmul: (ROW, COLUMN), linalg_ops.outer: (COLUMN, ROW)}


def reassociate(outputs: list, order: list) -> tuple:
    """(``outputs`` with every matrix chain in its cheapest bracketing, their
    statement order); unchanged when every chain is already cheapest."""
    if not any(node.op is linalg_ops.matmul for node in order):
        return outputs, order
    present, plans, absorbed = GraphMembers(order, outputs), {}, set()
    for node in reversed(order):  # a chain's top before its inner products
        if node.op is not linalg_ops.matmul or node in absorbed:
            continue
        factors, inner = _chain(node, present)
        sizes = _sizes(factors)
        if sizes is None:  # its inner products are chains of their own
            continue
        absorbed.update(inner)
        split = _cheaper_split(factors, sizes, inner + [node])
        if split is not None:
            plans[node] = (factors, split)
    if not plans:
        return outputs, order

    def substitute(node, new):  # on the factors as rebuilt: a factor may hold a chain too
        if node not in plans:
            return None
        factors, split = plans[node]
        factors = [(new.get(f, f), part) for f, part in factors]
        return _build(factors, split, 0, len(factors) - 1)[0]
    new = rebuild(order, substitute=substitute)
    outputs = [new.get(o, o) for o in outputs]
    return outputs, statement_order(outputs)


def _chain(top, present) -> tuple:
    """(factors left to right as (node, part), inner links) of the chain under the
    ``matmul`` ``top``: an operand that is a ``matmul`` or an ``outer`` read only by
    the chain is expanded."""
    factors, inner, stack = [], [], [(top, MATRIX)]
    while stack:
        node, part = stack.pop()
        if node is top or (node.op in _VECTOR_PARTS and present.uses(node) == 1):
            if node is not top:
                inner.append(node)
            left, right = _VECTOR_PARTS[node.op]
            stack += [(node.operands[1], right), (node.operands[0], left)]
        else:
            factors.append((node, MATRIX if node.ndim == 2 else part))
    return factors, inner


def _sizes(factors) -> list | None:
    """d with factor i of size d[i] × d[i+1]; None when the chain has no bracketing
    NumPy can write (a row that neither starts it nor follows a column, a column that
    neither ends it nor precedes a row) or a size is not an integer."""
    parts = [part for _, part in factors]
    for i, part in enumerate(parts):
        if (part == ROW and i and parts[i - 1] != COLUMN) or \
                (part == COLUMN and i < len(parts) - 1 and parts[i + 1] != ROW):
            return None
    first, part = factors[0]
    sizes = [1 if part == ROW else first.shape[0]]
    sizes += [1 if p == COLUMN else f.shape[-1] for f, p in factors]
    return sizes if all(isinstance(d, int) for d in sizes) else None


def _cheaper_split(factors, sizes, links) -> list | None:
    """The split table of the cheapest bracketing (:func:`_bracketing`), or None when
    the written ``links`` already cost no more (or the chain is too long to search)."""
    if not 2 < len(factors) <= MAX_FACTORS:
        return None
    cost, split = _bracketing(sizes)
    return split if cost[0][-1] < sum(_multiply_adds(p) for p in links) else None


def _bracketing(d) -> tuple:
    """(cost, split): cost[i][j], the fewest multiply-adds for factors i..j, and
    split[i][j], the k of the last product (factors i..k) @ (factors k+1..j)."""
    n = len(d) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + d[i] * d[k + 1] * d[j + 1], k) for k in range(i, j))
    return cost, split


def _build(factors, split, i, j) -> tuple:
    """(node, whether it has a row axis, whether it has a column axis) of factors
    i..j: a ``matmul`` where the two halves meet on an axis, else (a column times a
    row: contracted length 1) ``outer`` of two vectors, ``*`` with a scalar."""
    if i == j:
        node, part = factors[i]
        return node, part != ROW, part != COLUMN
    k = split[i][j]
    (a, a_rows, a_columns), (b, b_rows, b_columns) = (_build(factors, split, i, k),
                                                      _build(factors, split, k + 1, j))
    if a_columns:  # then b has rows: a column is always followed by a row
        return linalg_ops.matmul(a, b), a_rows, b_columns
    product = linalg_ops.outer(a, b) if a.ndim == b.ndim == 1 else a * b
    return product, a_rows, b_columns


# After loop batching (whose GEMMs can form chains), before specialization.
PHASE = register(Phase("matrix chains", run=reassociate))
