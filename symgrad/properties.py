"""Structural properties proven from the graph alone: symmetry, definiteness, sign.

Each node gets a set of *facts*, derived from its op and its operands' facts
by the table below; a fact is only recorded when it holds for every value of
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

import numpy as np

from .graph import Node

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_NONE = frozenset()


def is_square(node: Node) -> bool:
    return node.ndim == 2 and node.shape[0] == node.shape[1]


def is_transpose_of(a: Node, b: Node) -> bool:
    """Whether ``a`` is the matrix ``bᵀ`` (structurally)."""
    return a.op.name == "transpose" and a.operands[0] is b and a.ndim == 2


def _gram(a: Node, b: Node) -> bool:
    """``X @ Xᵀ`` or ``Xᵀ @ X``."""
    return is_transpose_of(b, a) or is_transpose_of(a, b)


def _mirrors(a: Node, b: Node, facts) -> bool:
    """Whether ``b`` is ``aᵀ``: structurally, or ``a`` itself when ``a`` is symmetric."""
    return _gram(a, b) or (a is b and "symmetric" in facts(a))


def _sandwich(a: Node, b: Node, facts, fact: str) -> bool:
    """``X S Xᵀ`` with ``fact`` holding for ``S``: ``(X @ S) @ Xᵀ``, ``X @ (S @ Xᵀ)``,
    or ``solve(K, S) @ inv(K)`` (``K⁻¹ S K⁻¹``) for a symmetric ``K``."""
    if a.op.name == "matmul" and _mirrors(a.operands[0], b, facts):
        return fact in facts(a.operands[1])
    if b.op.name == "matmul" and _mirrors(a, b.operands[1], facts):
        return fact in facts(b.operands[0])
    if a.op.name == "solve" and b.op.name == "inv" and a.operands[0] is b.operands[0]:
        return "symmetric" in facts(b) and fact in facts(a.operands[1])
    return False


def _matmul(node, facts):
    a, b = node.operands
    if not is_square(node):
        return _NONE
    if _gram(a, b):
        return {"psd"}
    found = set()
    if _sandwich(a, b, facts, "psd"):
        found.add("psd")
    if _sandwich(a, b, facts, "symmetric") or (a is b and "symmetric" in facts(a)):
        found.add("symmetric")
    return found


def _constant(node, facts):
    value = node.value
    found = _sign_facts(value)
    if value.ndim == 2 and value.shape[0] == value.shape[1] and np.array_equal(value, value.T):
        found.add("symmetric")
        if value.size and value.dtype.kind == "f" and _cholesky_ok(value):
            found.add("spd")
    return found


def _sign_facts(value: np.ndarray) -> set:
    if value.size == 0 or value.dtype.kind == "b":
        return set()
    found = set()
    if np.all(value > 0):
        found.add("positive")
    if np.all(value >= 0):
        found.add("nonnegative")
    if np.all(value != 0):
        found.add("nonzero")
    return found


def _cholesky_ok(value: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(value)
    except np.linalg.LinAlgError:
        return False
    return True


def _scaled(matrix_facts, factor_facts) -> set:
    """Definiteness kept when a matrix is scaled by a 0-d factor with sign facts."""
    found = set()
    if "psd" in matrix_facts and "nonnegative" in factor_facts:
        found.add("psd")
    if "spd" in matrix_facts and "positive" in factor_facts:
        found.add("spd")
    return found


def _multiply(node, facts):
    a, b = node.operands
    fa, fb = facts(a), facts(b)
    found = _product_signs(fa, fb)
    if a is b:
        found.add("nonnegative")
    if not is_square(node):
        return found
    if a.ndim == 2 and b.ndim == 2:
        found |= {f for f in ("psd", "spd") if f in fa and f in fb}
    if a.ndim == 0:
        found |= _scaled(fb, fa)
    if b.ndim == 0:
        found |= _scaled(fa, fb)
    return found


def _product_signs(fa, fb) -> set:
    found = {f for f in ("positive", "nonzero") if f in fa and f in fb}
    if "nonnegative" in fa and "nonnegative" in fb:
        found.add("nonnegative")
    return found


def _divide(node, facts):
    a, b = node.operands
    fa, fb = facts(a), facts(b)
    found = _product_signs(fa, fb) - {"nonnegative"}
    if "nonnegative" in fa and "positive" in fb:
        found.add("nonnegative")
    if b.ndim == 0 and "positive" in fb:
        found |= _scaled(fa, fb)
    return found


def _symmetric_or_scalar(node: Node, node_facts) -> bool:
    return node.ndim == 0 or "symmetric" in node_facts


def _add(node, facts):
    a, b = node.operands
    fa, fb = facts(a), facts(b)
    found = set()
    if "positive" in fa and "nonnegative" in fb or "nonnegative" in fa and "positive" in fb:
        found.add("positive")
    if "nonnegative" in fa and "nonnegative" in fb:
        found.add("nonnegative")
    if not is_square(node):
        return found
    if is_transpose_of(a, b) or is_transpose_of(b, a):
        found.add("symmetric")
    if a.ndim == 2 and b.ndim == 2:
        if "psd" in fa and "psd" in fb:
            found.add("psd")
        if "spd" in fa and "psd" in fb or "psd" in fa and "spd" in fb:
            found.add("spd")
    return found


def _diag(node, facts):
    (x,) = node.operands
    if x.ndim != 1:
        return _NONE
    fx = facts(x)
    found = {"symmetric"}
    if "nonnegative" in fx:
        found.add("psd")
    if "positive" in fx:
        found.add("spd")
    return found


def _of_spd(fact: str):
    return lambda node, facts: {fact} if "spd" in facts(node.operands[0]) else _NONE


def _keeps(*kept):
    """Ops that keep the listed facts of their first operand (views, inv, ...)."""
    return lambda node, facts: set(kept) & facts(node.operands[0])


def _broadcast(node, facts):
    (x,) = node.operands
    found = _sign_facts_of(facts(x))
    if is_square(node) and x.ndim == 0:
        found.add("symmetric")
    return found


def _sign_facts_of(node_facts) -> set:
    return {f for f in ("positive", "nonnegative", "nonzero") if f in node_facts}


def _abs(node, facts):
    return {"nonnegative", "positive"} if "nonzero" in facts(node.operands[0]) else {"nonnegative"}


def _sqrt(node, facts):
    return {"nonnegative"} | ({"positive"} if "positive" in facts(node.operands[0]) else set())


SIGN = ("positive", "nonnegative", "nonzero")
RULES = {
    "constant": _constant,
    "eye": lambda node, facts: {"spd", "nonnegative"},
    "zeros": lambda node, facts: {"psd", "nonnegative"} if is_square(node) else {"nonnegative"},
    "outer": lambda node, facts: {"psd"} if node.operands[0] is node.operands[1] else _NONE,
    "diag": _diag,
    "matmul": _matmul,
    "add": _add,
    "multiply": _multiply,
    "divide": _divide,
    "inv": lambda node, facts: {"symmetric", "spd"} & facts(node.operands[0]),
    "transpose": _keeps("symmetric", "psd", "spd", *SIGN),
    "reshape": _keeps(*SIGN),
    "getitem": _keeps(*SIGN),
    "broadcast_to": _broadcast,
    "negative": _keeps("nonzero"),
    "exp": lambda node, facts: {"positive"},
    "softplus": lambda node, facts: {"positive"},
    "sigmoid": lambda node, facts: {"positive"},
    "softmax": lambda node, facts: {"positive"},
    "sqrt": _sqrt,
    "abs": _abs,
    "relu": lambda node, facts: {"nonnegative"},
    "one_hot": lambda node, facts: {"nonnegative"},
    "norm": lambda node, facts: {"nonnegative"},
    "det": _of_spd("positive"),
    "trace": _of_spd("positive"),
}


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
    rule = RULES.get(node.op.name)
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
