"""Graph rewrites the compiler applies before scheduling (values unchanged).

Sums of outer products -> one matrix product. Reverse mode through a loop
(an unrolled RNN, weight sharing) accumulates a weight's gradient as
``outer(a_1, b_1) + outer(a_2, b_2) + ... + outer(a_T, b_T)``: T rank-one
updates, each allocating and adding a full matrix. The same sum is
``A.T @ B`` with the a's and b's stacked as rows, a single BLAS GEMM, which is
what a hand-written BPTT does. The rewrite uses existing ops only
(concatenate, reshape, transpose, matmul), so the result prints, compiles and
differentiates like any graph.

Products with the rows of one matrix -> one product. A loop that reads
``U @ X[t]`` for every row t of an input sequence ``X`` makes T matrix-vector
calls; ``(X @ U.T)[t]`` computes them all in one GEMM and reads rows (views).
"""
from __future__ import annotations

from .graph import REGISTRY, replace, toposort
from .ops.structure import FULL

#: Fewer rank-one terms than this are left alone (the stacking would not pay).
MIN_TERMS = 3


def fuse(outputs: list, order: list | None = None) -> tuple:
    """(``outputs`` with both rewrites applied (each when it finds ``MIN_TERMS``
    terms), their toposort). ``order``, the toposort of ``outputs`` when the
    caller has it, is reused (and returned) while no rewrite applies."""
    order = toposort(outputs) if order is None else order
    return _fuse_outer_sums(*_batch_row_products(outputs, order))


def _batch_row_products(outputs: list, order: list) -> tuple:
    """``U @ X[t]`` for T rows t of the same ``X`` -> ``(X @ U.T)[t]``."""
    groups: dict = {}
    for node in order:
        if node.op.name == "matmul" and node.operands[1].op.name == "getitem":
            matrix, row = node.operands
            source, index = row.operands[0], row.attrs["index"]
            if matrix.ndim == 2 and source.ndim == 2 and isinstance(index[0], int) and index[1] == FULL:
                groups.setdefault((matrix, source), []).append(node)
    mapping = {}
    for (matrix, source), nodes in groups.items():
        if len(nodes) >= MIN_TERMS:
            product = REGISTRY["matmul"](source, REGISTRY["transpose"](matrix))
            for node in nodes:
                mapping[node] = REGISTRY["getitem"](product, index=node.operands[1].attrs["index"])
    return _replaced(outputs, order, mapping)


def _replaced(outputs: list, order: list, mapping: dict) -> tuple:
    if not mapping:
        return outputs, order
    outputs = replace(outputs, mapping)
    return outputs, toposort(outputs)


def _fuse_outer_sums(outputs: list, order: list) -> tuple:
    """Every sum of ``MIN_TERMS`` or more outer products -> one GEMM."""
    if not any(node.op.name == "outer" for node in order):
        return outputs, order
    consumers = _consumers(order, outputs)
    mapping = {}
    for node in order:
        if node.op.name != "add" or _absorbed(node, consumers):
            continue
        terms = _terms(node, consumers)
        outers = [t for t in terms if _fusible_outer(t, consumers)]
        if len(outers) >= MIN_TERMS:
            rest = [t for t in terms if t not in outers]
            mapping[node] = _sum([_stacked_product(outers, node.shape)] + rest)
    return _replaced(outputs, order, mapping)


def _consumers(order, outputs) -> dict:
    consumers: dict = {}
    for node in order:
        for operand in node.operands:
            consumers.setdefault(operand, []).append(node)
    for node in outputs:
        consumers.setdefault(node, []).append(None)
    return consumers


def _single_use(node, consumers) -> bool:
    return len(consumers.get(node, ())) == 1


def _absorbed(node, consumers) -> bool:
    """Whether ``node`` is an inner term of a larger add tree."""
    if not _single_use(node, consumers):
        return False
    user = consumers[node][0]
    return user is not None and user.op.name == "add" and user.shape == node.shape


def _terms(root, consumers) -> list:
    """Leaves of the add tree under ``root`` (inner adds: single use, same shape)."""
    terms, stack = [], list(reversed(root.operands))
    while stack:
        node = stack.pop()
        if node.op.name == "add" and node.shape == root.shape and _single_use(node, consumers):
            stack.extend(reversed(node.operands))
        else:
            terms.append(node)
    return terms


def _fusible_outer(node, consumers) -> bool:
    return (node.op.name == "outer" and _single_use(node, consumers) and node.dtype == "float64"
            and all(isinstance(d, int) for d in node.shape))


def _stacked_product(outers, shape):
    """Σ_k outer(a_k, b_k) as (stack a)ᵀ (stack b)."""
    concatenate, reshape = REGISTRY["concatenate"], REGISTRY["reshape"]
    count = len(outers)
    left = reshape(concatenate(*[o.operands[0] for o in outers], axis=0), shape=(count, shape[0]))
    right = reshape(concatenate(*[o.operands[1] for o in outers], axis=0), shape=(count, shape[1]))
    return REGISTRY["matmul"](REGISTRY["transpose"](left), right)


def _sum(terms):
    total = terms[0]
    for term in terms[1:]:
        total = REGISTRY["add"](total, term)
    return total
