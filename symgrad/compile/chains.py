"""Matrix chains in their cheapest bracketing: ``(A B) v -> A (B v)``, at compile time.

The matrix product is associative, ``(A B) C = A (B C)``, but the two
bracketings cost different work: with ``A`` p×q, ``B`` q×r, ``C`` r×s,
``(A B) C`` takes ``p q r + p r s`` multiply-adds and ``A (B C)`` takes
``q r s + p q s``. Python reads ``A @ B @ v`` left to right, so a user's
``A @ B @ v`` (n×n, n×n, n) costs n³ + n² where ``A @ (B @ v)`` costs 2 n²,
and a gradient's ``outer(u, v) @ B`` chain is as easily mis-bracketed.

The pass finds every maximal chain: a ``matmul`` whose operands are expanded
through inner ``matmul`` nodes that nothing else reads (a product read twice is
computed once, so it is a factor of the chains that read it, never recomputed).
A vector may only be an end of a chain (``u @ A @ v``): it counts as 1×n on the
left, n×1 on the right. The cheapest bracketing is the classic dynamic
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
from ..rewrite.engine import Phase, register
from .memory_plan import replaced
from .specialize import _Members

#: Longest chain (in factors) the dynamic programme (cubic in the length) considers;
#: longer chains stay as written.
MAX_FACTORS = 32


def matmul_flops(nodes) -> int:
    """Floating-point operations (2 per multiply-add) of the ``matmul`` nodes among
    ``nodes`` (integer sizes): every output entry is a dot product of the
    contracted length."""
    return sum(2 * _multiply_adds(node) for node in nodes if node.op is linalg_ops.matmul)


def _multiply_adds(node) -> int:
    return math.prod(node.shape) * node.operands[0].shape[-1]


def reassociate(outputs: list, order: list) -> tuple:
    """(``outputs`` with every matrix chain in its cheapest bracketing, their
    statement order); unchanged when every chain is already cheapest."""
    if not any(node.op is linalg_ops.matmul for node in order):
        return outputs, order
    present, mapping, absorbed = _Members(order, outputs), {}, set()
    for node in reversed(order):  # a chain's top before its inner products
        if node.op is not linalg_ops.matmul or node in absorbed:
            continue
        factors, inner = _chain(node, present)
        sizes = _sizes(factors)
        if sizes is None:  # its inner products are chains of their own
            continue
        absorbed.update(inner)
        cheaper = _cheapest(factors, sizes, inner + [node])
        if cheaper is not None:
            mapping[node] = cheaper
    return replaced(outputs, order, mapping)


def _chain(top, present) -> tuple:
    """(factors left to right, inner products) of the chain under ``top``: an
    operand that is a ``matmul`` read only by the chain is expanded."""
    factors, inner, stack = [], [], [top]
    while stack:
        node = stack.pop()
        if node is top or (node.op is linalg_ops.matmul and present.uses(node) == 1):
            if node is not top:
                inner.append(node)
            stack.extend(reversed(node.operands))
        else:
            factors.append(node)
    return factors, inner


def _sizes(factors) -> list | None:
    """d with factor i of size d[i] × d[i+1] (a vector end as 1×n or n×1); None
    when a vector is inside the chain or a size is not an integer."""
    if any(f.ndim != 2 for f in factors[1:-1]):
        return None
    first, last = factors[0], factors[-1]
    sizes = [1 if first.ndim == 1 else first.shape[0]] + [f.shape[-1] for f in factors[:-1]]
    sizes.append(1 if last.ndim == 1 else last.shape[1])
    return sizes if all(isinstance(d, int) for d in sizes) else None


def _cheapest(factors, sizes, products) -> object | None:
    """The chain rebuilt in its cheapest bracketing, or None when the written
    ``products`` already cost no more (or the chain is too long to search)."""
    if not 2 < len(factors) <= MAX_FACTORS:
        return None
    cost, split = _bracketing(sizes)
    if cost[0][-1] >= sum(_multiply_adds(p) for p in products):
        return None
    return _build(factors, split, 0, len(factors) - 1)


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


def _build(factors, split, i, j):
    if i == j:
        return factors[i]
    k = split[i][j]
    return linalg_ops.matmul(_build(factors, split, i, k), _build(factors, split, k + 1, j))


# After loop batching (whose GEMMs can form chains), before specialization.
PHASE = register(Phase("matrix chains", run=reassociate))
