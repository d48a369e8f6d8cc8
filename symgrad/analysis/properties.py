"""Structural properties proven from the graph alone: symmetry, definiteness, sign.

Each node gets a set of *facts*, derived from its op and its operands' facts
by the op record's rule (``Op.facts``, see :mod:`symgrad.ops.facts`); a fact is only recorded when it holds for every value of
the inputs (real, finite). Absence of a fact means "not proven", never
"false". The facts and what proves them:

``symmetric`` (a square matrix equal to its transpose)
    ``eye``, square ``zeros``, ``diag(v)``, ``outer(x, x)``, a constant equal
    to its transpose, a 0-d value broadcast to a square; ``X @ Xᵀ``,
    ``Xᵀ @ X``, ``X @ S @ Xᵀ`` (also with a symmetric ``X`` for ``Xᵀ``, and
    ``solve(K, S) @ inv(K)``) and ``S @ S`` for symmetric ``S``;
    ``X + Xᵀ``; sums, differences and elementwise products/quotients of
    symmetric matrices and 0-d factors; any elementwise function of a
    symmetric matrix; ``inv`` of a symmetric matrix.
``psd`` (symmetric positive semidefinite)
    ``X @ Xᵀ``, ``Xᵀ @ X``, ``outer(x, x)``, ``X @ S @ Xᵀ`` for PSD ``S``,
    square ``zeros``, ``diag`` of a nonnegative vector, sums of PSD
    matrices, a PSD matrix times (or over) a nonnegative (positive) 0-d
    factor, Hadamard products of PSD matrices (Schur), and every SPD matrix.
``spd`` (symmetric positive definite)
    ``eye``, ``diag`` of a positive vector, a constant whose Cholesky
    factorization succeeds, SPD + PSD, an SPD matrix times (or over) a
    positive 0-d factor, Hadamard products of SPD matrices, ``inv`` of SPD.
    ``A @ A.T`` alone is only PSD (singular when ``A`` has fewer columns than
    rows); ``A @ A.T + c * eye(n)`` is SPD when ``c`` is provably positive
    (a positive constant, ``exp(s)``, ``softplus(s)``, ...).
``positive`` / ``nonnegative`` / ``nonzero`` (every entry)
    positive constants, ``exp``, ``softplus``, ``sigmoid``, ``softmax``,
    ``sqrt`` of a positive value, ``abs`` of a nonzero one, ``det``/``trace``
    of SPD matrices, sums and products of positive values; ``x * x``,
    ``abs``, ``relu``, ``one_hot`` and ``norm`` are nonnegative. Positivity
    is mathematical: ``exp(-1000)`` underflows to 0.0 in float64.

Facts are cached per node (nodes are immutable) and computed by an iterative
walk that stops at cached nodes, so queries during a rewrite of a 10^5-node
graph stay linear overall.
"""
from __future__ import annotations

import weakref

from ..ir.graph import Node
from ..ops.facts import is_square

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _symmetric_or_scalar(node: Node, node_facts) -> bool:
    return node.ndim == 0 or "symmetric" in node_facts


def _elementwise_symmetry(node: Node, facts) -> bool:
    """An elementwise op on symmetric matrices and 0-d values is symmetric."""
    return (node.op.elementwise and is_square(node)
            and all(_symmetric_or_scalar(o, facts(o)) for o in node.operands))


def _close(found: set) -> frozenset:
    """Add the implied facts: spd => psd => symmetric, positive => nonnegative, nonzero."""
    if "spd" in found:
        found.add("psd")
    if "psd" in found:
        found.add("symmetric")
    if "positive" in found:
        found |= {"nonnegative", "nonzero"}
    return frozenset(found)


def _derive(node: Node) -> frozenset:
    rule = node.op.facts
    found = set(rule(node, _CACHE.__getitem__)) if rule is not None else set()
    if _elementwise_symmetry(node, _CACHE.__getitem__):
        found.add("symmetric")
    return _close(found)


def facts(node: Node) -> frozenset:
    """Every fact proven for ``node`` (see the module doc), cached."""
    cached = _CACHE.get(node)
    if cached is not None:
        return cached
    stack = [(node, False)]
    while stack:
        current, ready = stack.pop()
        if current in _CACHE:
            continue
        if ready:
            _CACHE[current] = _derive(current)
            continue
        stack.append((current, True))
        stack.extend((o, False) for o in current.operands if o not in _CACHE)
    return _CACHE[node]


def is_symmetric(node: Node) -> bool:
    """Whether ``node`` is provably a symmetric matrix (``node.T`` equals it)."""
    return "symmetric" in facts(node)


def is_psd(node: Node) -> bool:
    """Whether ``node`` is provably symmetric positive semidefinite."""
    return "psd" in facts(node)


def is_spd(node: Node) -> bool:
    """Whether ``node`` is provably symmetric positive definite (Cholesky applies)."""
    return "spd" in facts(node)


def is_positive(node: Node) -> bool:
    """Whether every entry of ``node`` is provably > 0."""
    return "positive" in facts(node)


def is_nonnegative(node: Node) -> bool:
    """Whether every entry of ``node`` is provably >= 0."""
    return "nonnegative" in facts(node)


def is_nonzero(node: Node) -> bool:
    """Whether every entry of ``node`` is provably != 0."""
    return "nonzero" in facts(node)
