"""Structural-fact rules the op records hold (``Op.facts``), and their shared pieces.

A rule ``rule(node, facts_of) -> set`` returns the facts proven for ``node``
from its operands' facts (``facts_of(operand)``, a frozenset). The facts are
``symmetric``, ``psd``, ``spd`` (matrices) and ``positive``, ``nonnegative``,
``nonzero`` (every entry); :mod:`symgrad.analysis.properties` closes them under the
implications (spd => psd => symmetric, positive => nonnegative, nonzero) and
caches them per node. A rule records a fact only when it holds for every
real, finite value of the inputs.
"""
from __future__ import annotations

import numpy as np

NONE = frozenset()
SIGN = ("positive", "nonnegative", "nonzero")


def constant_rule(found: set):
    """A rule proving ``found`` whatever the operands (``exp`` is positive)."""
    found = frozenset(found)
    return lambda node, facts: found


POSITIVE = constant_rule({"positive"})
NONNEGATIVE = constant_rule({"nonnegative"})


def is_square(node) -> bool:
    return node.ndim == 2 and node.shape[0] == node.shape[1]


def is_transpose_of(a, b) -> bool:
    """Whether ``a`` is the matrix ``bᵀ`` (structurally): ``b``'s axes permuted to (1, 0).
    Read off the node's attributes, so this module needs no op record (the op files
    import it; ``transpose`` is the op with an ``axes`` permutation of one operand)."""
    return a.ndim == 2 and a.operands == (b,) and a.attrs.get("axes") == (1, 0)


def keeps(*kept):
    """A rule keeping the listed facts of the first operand (views, inv, ...)."""
    kept = frozenset(kept)
    return lambda node, facts: kept & facts(node.operands[0])


def of_spd(fact: str):
    """A rule proving ``fact`` when the operand is SPD (``det``, ``trace``)."""
    return lambda node, facts: {fact} if "spd" in facts(node.operands[0]) else NONE


def sign_facts(value: np.ndarray) -> set:
    """The sign facts of a constant array."""
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


def sign_facts_of(node_facts) -> set:
    return {f for f in SIGN if f in node_facts}


def scaled(matrix_facts, factor_facts) -> set:
    """Definiteness kept when a matrix is scaled by a 0-d factor with sign facts."""
    found = set()
    if "psd" in matrix_facts and "nonnegative" in factor_facts:
        found.add("psd")
    if "spd" in matrix_facts and "positive" in factor_facts:
        found.add("spd")
    return found


def product_signs(fa, fb) -> set:
    found = {f for f in ("positive", "nonzero") if f in fa and f in fb}
    if "nonnegative" in fa and "nonnegative" in fb:
        found.add("nonnegative")
    return found


# Elementwise arithmetic ------------------------------------------------------------

def add_facts(node, facts):
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


def multiply_facts(node, facts):
    a, b = node.operands
    fa, fb = facts(a), facts(b)
    found = product_signs(fa, fb)
    if a is b:
        found.add("nonnegative")
    if not is_square(node):
        return found
    if a.ndim == 2 and b.ndim == 2:
        found |= {f for f in ("psd", "spd") if f in fa and f in fb}
    if a.ndim == 0:
        found |= scaled(fb, fa)
    if b.ndim == 0:
        found |= scaled(fa, fb)
    return found


def divide_facts(node, facts):
    a, b = node.operands
    fa, fb = facts(a), facts(b)
    found = product_signs(fa, fb) - {"nonnegative"}
    if "nonnegative" in fa and "positive" in fb:
        found.add("nonnegative")
    if b.ndim == 0 and "positive" in fb:
        found |= scaled(fa, fb)
    return found


def abs_facts(node, facts):
    return {"nonnegative", "positive"} if "nonzero" in facts(node.operands[0]) else {"nonnegative"}


def sqrt_facts(node, facts):
    return {"nonnegative"} | ({"positive"} if "positive" in facts(node.operands[0]) else set())
