"""Algebra rules: constant folding, neutral and absorbing elements, signs, like terms.

Arithmetic identities that would change a NumPy special value are applied as
in exact real arithmetic: ``0 * x -> 0`` and ``x - x -> 0`` even where ``x``
could be ``inf`` or ``nan``; cancellations that need ``x != 0`` only fire
where :func:`symgrad.analysis.properties.is_nonzero` proves it.
"""
from __future__ import annotations

import math

import numpy as np

from ..ops import elementwise, structure
from ..ops.elementwise import combines_safely
from ..ir.graph import Node
from ..ir.leaves import constant
from ..ops import broadcast_to, is_constant, zeros
from ..ops.base import constant_form_ops
from ..analysis.properties import is_nonnegative, is_nonzero
from ..ir.shapes import ShapeError, broadcast_shapes, is_concrete
# The op records the rules match (patterns compare records, never names).
from ..ops.elementwise import add, divide, maximum, multiply, negative, power, subtract
from ..ops.structure import broadcast_to_op, reshape
from .pattern import P, Rule, RuleSet

# Arithmetic operands only: bool + bool is a logical or in NumPy, so x + x != 2x there.
x, y, z = (P.var(name, lambda n: n.dtype != "bool") for name in "xyz")
s, t = (P.var(name, lambda n: n.shape == () and n.dtype != "bool") for name in "st")
c, d = P.const("c", scalar=True), P.const("d", scalar=True)
zero, one, minus_one = P.value(0.0), P.value(1.0), P.value(-1.0)
#: A division guard: a positive constant no larger than the smallest normal float64.
eps = P.var("eps", lambda n: n.op is structure.constant and n.shape == ()
            and 0.0 < float(n.value) <= np.finfo(np.float64).tiny)

FOLD_LIMIT = 10 ** 6


def as_out(x: Node, out: Node):
    """``x`` broadcast to ``out``'s shape (constants cast to its dtype), or None
    when the dtype differs."""
    if x.op is structure.constant and x.dtype != out.dtype and out.dtype != "bool":
        x = constant(x.value.astype(out.dtype))
    return broadcast_to(x, out.shape) if x.dtype == out.dtype else None


def zeros_like(out: Node) -> Node:
    return zeros(out.shape, out.dtype)


def is_float(*nodes) -> bool:
    return all(n.dtype == "float64" for n in nodes)


# Constant folding ------------------------------------------------------------------

def _foldable(node: Node) -> bool:
    return (bool(node.operands) and all(o.op is structure.constant for o in node.operands)
            and is_concrete(node.shape) and int(np.prod(node.shape)) <= FOLD_LIMIT)


#: The evaluator of an all-constant graph: ``evaluate(node) -> array``. The compile layer
#: (above this one) fills it with its unoptimized compiler, so that a folded constant is
#: exactly what the compiled code would compute (the lowering is the semantics).
CONSTANT_EVALUATOR: list = []


def _fold(out: Node):
    """Evaluate an all-constant node with the compiler's own lowering, or None."""
    if not CONSTANT_EVALUATOR:
        return None
    try:
        value = np.asarray(CONSTANT_EVALUATOR[0](out))
    except Exception:  # e.g. one_hot of an out-of-range label: leave it to run time
        return None
    if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        return None
    folded = constant(value.astype(out.dtype))
    return folded if folded.shape == out.shape else None


def _has_int_constant(node: Node) -> bool:
    return node.op.elementwise and node.dtype == "float64" and any(
        o.op is structure.constant and o.dtype == "int64" for o in node.operands)


def _promote_int_constants(out: Node) -> Node:
    """2 * x = 2.0 * x for a float x: one spelling, so equal terms intern together."""
    operands = [constant(o.value.astype("float64"))
                if o.op is structure.constant and o.dtype == "int64" else o for o in out.operands]
    return out.op(*operands, **out.attrs)


FOLDING = RuleSet("constant folding", [
    # f(c1, ..., cn) = its value, computed once now
    Rule("fold constants", P.var("out", _foldable, every_operand={structure.constant}), _fold),
    Rule("int constants in float arithmetic are floats", P.var("out", _has_int_constant, some_operand={structure.constant}),
         _promote_int_constants),
])


# Neutral and absorbing elements ----------------------------------------------------

def _linear_operands(node: Node, odd: bool = False) -> list:
    """The operands ``node``'s op is linear in (``Op.linear_in``), or odd in (``Op.odd_in``:
    a sign also moves out of a denominator, a / (-b) = -(a / b))."""
    return [node.operands[i] for i in (node.op.odd_in if odd else node.op.linear_in)]


def _is_linear_in_zero(node: Node) -> bool:
    return any(is_constant(o, 0.0) for o in _linear_operands(node))


def _drop_broadcasts(out: Node):
    """op(broadcast_to(x), y) = op(x, y) when the result shape is unchanged."""
    operands = [o.operands[0] if o.op is structure.broadcast_to_op else o for o in out.operands]
    try:
        if broadcast_shapes(*(o.shape for o in operands)) != out.shape:
            return None
    except ShapeError:
        return None
    return out.op(*operands, **out.attrs)


def _has_broadcast_operand(node: Node) -> bool:
    return node.op.elementwise and any(o.op is structure.broadcast_to_op for o in node.operands)


NEUTRAL = RuleSet("neutral and absorbing elements", [
    Rule("x + 0 = x", P(add, x, zero).named("out"), as_out),
    Rule("x - 0 = x", P(subtract, x, zero).named("out"), as_out),
    Rule("0 - x = -x", P(subtract, zero, x).named("out"), lambda x, out: as_out(-x, out)),
    Rule("x * 1 = x", P(multiply, x, one).named("out"), as_out),
    Rule("x / 1 = x", P(divide, x, one).named("out"), as_out),
    Rule("x ** 1 = x", P(power, x, one).named("out"), as_out),
    Rule("x * -1 = -x", P(multiply, x, minus_one).named("out"), lambda x, out: as_out(-x, out)),
    Rule("0 * x = 0", P(multiply, zero, x).named("out"), zeros_like),
    Rule("0 / x = 0  (x != 0)", P(divide, zero, x).named("out"), zeros_like,
         when=lambda x: is_nonzero(x)),
    # sum(0), 0ᵀ, A @ 0, ...: a linear op of zeros is zeros
    Rule("linear(0) = 0", P.var("out", _is_linear_in_zero, some_operand=constant_form_ops()), zeros_like),
    Rule("reshape(broadcast(s)) = broadcast(s)",
         P(reshape, P(broadcast_to_op, s)).named("out"), lambda s, out: as_out(s, out)),
    Rule("broadcast(broadcast(x)) = broadcast(x)",
         P(broadcast_to_op, P(broadcast_to_op, x)).named("out"), lambda x, out: as_out(x, out)),
    # broadcast_to(x) + y = x + y when y already has the result shape
    Rule("drop broadcast under elementwise op", P.var("out", _has_broadcast_operand,
                                                              some_operand={structure.broadcast_to_op}),
         _drop_broadcasts),
])


# Signs --------------------------------------------------------------------------------

def _has_negated_operand(node: Node) -> bool:
    return any(o.op is elementwise.negative for o in _linear_operands(node, odd=True))


def _pull_negation(out: Node) -> Node:
    """op(-a, b) = -op(a, b) in an operand the op is linear in (signs multiply)."""
    operands, flips = list(out.operands), 0
    for i in out.op.odd_in:
        if operands[i].op is elementwise.negative:
            operands[i] = operands[i].operands[0]
            flips += 1
    result = out.op(*operands, **out.attrs)
    return -result if flips % 2 else result


SIGNS = RuleSet("signs", [
    Rule("op(-x, y) = -op(x, y)  (op linear)", P.var("out", _has_negated_operand,
                                                           some_operand={elementwise.negative}),
         _pull_negation),
    Rule("-(c x) = (-c) x", P(negative, P(multiply, c, x)), lambda c, x: constant(-c.value) * x),
    Rule("x + (-y) = x - y", P(add, x, P(negative, y)), lambda x, y: x - y),
    Rule("(-x) - y = -(x + y)", P(subtract, P(negative, x), y), lambda x, y: -(x + y)),
    Rule("x - (-y) = x + y", P(subtract, x, P(negative, y)), lambda x, y: x + y),
    Rule("-(x - y) = y - x", P(negative, P(subtract, x, y)), lambda x, y: y - x),
    # (-c) x + y = y - c x: a sum leads with its positive term, as it is written by hand
    Rule("(-c) x + y = y - c x  (c > 0)", P(add, P(multiply, c, x), y),
         lambda c, x, y: y - constant(-c.value) * x, when=lambda c: float(c.value) < 0),
    # y - (-c) x = y + c x: the sign of a difference built from a negated term (the
    # constructors build y + (-z) as y - z) goes into the factor, so the rule above sees it
    Rule("y - (-c) x = y + c x  (c > 0)", P(subtract, y, P(multiply, c, x)),
         lambda c, x, y: y + constant(-c.value) * x, when=lambda c: float(c.value) < 0),
])


# Like terms and scalar factors ------------------------------------------------------

def _scalar_out_of_linear(node: Node) -> bool:
    return node.op is not elementwise.multiply and any(_scaled_operand(o) for o in _linear_operands(node))


def _scaled_operand(node: Node) -> bool:
    return (node.op is elementwise.multiply and node.ndim > 0
            and any(o.ndim == 0 for o in node.operands))


def _pull_scalars(out: Node):
    """op(s X, Y) = s op(X, Y) for a 0-d ``s`` in an operand the op is linear in."""
    factors, operands = [], list(out.operands)
    for i in out.op.linear_in:
        if _scaled_operand(operands[i]):
            a, b = operands[i].operands
            factor, operands[i] = (a, b) if a.ndim == 0 else (b, a)
            factors.append(factor)
    if len(factors) == 2 and not combines_safely(np.multiply, *factors):
        return None
    scale = factors[0] if len(factors) == 1 else factors[0] * factors[1]
    return as_out(scale * out.op(*operands, **out.attrs), out)


def _scalar_last(node: Node) -> bool:
    """``x * s`` with the 0-d or constant factor second: reordered to ``s * x``."""
    a, b = node.operands
    return (b.ndim == 0 and a.ndim > 0) or (
        b.op is structure.constant and a.op is not structure.constant and b.ndim <= a.ndim)


def _nonzero_constant(node: Node) -> bool:
    return (node.op is structure.constant and node.dtype in ("float64", "int64")
            and bool(np.all(node.value != 0)))


def _signed_terms(node: Node, sign: float = 1.0, depth: int = 32) -> list:
    """[(coefficient, term)] of a chain of + and - (and unary -), with ``c t`` for a 0-d
    constant ``c`` read as the coefficient ``c`` of ``t``."""
    if depth and node.op in (elementwise.add, elementwise.subtract):
        left, right = node.operands
        flip = -sign if node.op is elementwise.subtract else sign
        return _signed_terms(left, sign, depth - 1) + _signed_terms(right, flip, depth - 1)
    if depth and node.op is elementwise.negative:
        return _signed_terms(node.operands[0], -sign, depth - 1)
    if node.op is elementwise.multiply and node.operands[0].op is structure.constant \
            and node.operands[0].shape == ():
        return [(sign * float(node.operands[0].value), node.operands[1])]
    return [(sign, node)]


def _term_of(node: Node):
    """The term ``node`` is as an operand of a sum that is not itself a sum (``c t``: ``t``),
    as :func:`_signed_terms` reads it; None when it is a sum or a negation (more terms)."""
    op = node.op
    if op is elementwise.add or op is elementwise.subtract or op is elementwise.negative:
        return None
    if op is elementwise.multiply and node.operands[0].op is structure.constant \
            and node.operands[0].shape == ():
        return node.operands[1]
    return node


def _two_distinct_terms(a: Node, b: Node) -> bool:
    """Whether the sum or difference of ``a`` and ``b`` is two terms that differ (so no
    term repeats): each operand one term, not the same one."""
    first, second = _term_of(a), _term_of(b)
    return first is not None and second is not None and first is not second


def _collect_terms(out: Node):
    """Σ cᵢ tᵢ with equal terms merged (their coefficients added), or None when no term
    repeats; the first occurrence keeps its place, so the sum reads as written."""
    if out.dtype != "float64" or out.op not in (elementwise.add, elementwise.subtract):
        return None
    if _two_distinct_terms(*out.operands):  # the common case, without building the terms
        return None
    terms = _signed_terms(out)
    coefficients: dict = {}
    for coefficient, term in terms:
        coefficients[term] = coefficients.get(term, 0.0) + coefficient
    if len(coefficients) == len(terms):
        return None
    if not all(math.isfinite(c) for c in coefficients.values()) \
            and all(math.isfinite(c) for c, _ in terms):
        return None  # 1e308 x + 1e308 x: the merged coefficient overflows
    result = None
    for term, coefficient in coefficients.items():
        if coefficient == 0.0:
            continue
        magnitude = term if abs(coefficient) == 1.0 else constant(abs(coefficient)) * term
        if result is None:
            result = magnitude if coefficient > 0 else -magnitude
        else:
            result = result + magnitude if coefficient > 0 else result - magnitude
    return as_out(zeros_like(out) if result is None else result, out)


LIKE_TERMS = RuleSet("like terms and scalar factors", [
    # a t + ... + b t = (a + b) t anywhere in a chain of sums and differences
    Rule("Σ cᵢ tᵢ: equal terms merged", P.var("out", lambda n: n.op in (
        elementwise.add, elementwise.subtract), ops={elementwise.add, elementwise.subtract}), _collect_terms),
    Rule("x s = s x", P.var("out", lambda n: n.op is elementwise.multiply and _scalar_last(n),
                               ops={elementwise.multiply}),
         lambda out: out.operands[1] * out.operands[0], scalars={structure.constant}),
    Rule("x - x = 0", P(subtract, x, x).named("out"), zeros_like),
    # x + x = 2x is built so (add's fold)
    Rule("s x + x = (s + 1) x", P(add, P(multiply, s, x), x), lambda s, x: (s + 1.0) * x,
         when=lambda s, x: is_float(x) and combines_safely(np.add, s, constant(1.0))),
    Rule("s x + t x = (s + t) x", P(add, P(multiply, s, x), P(multiply, t, x)),
         lambda s, t, x: (s + t) * x,
         when=lambda s, t, x: is_float(x) and combines_safely(np.add, s, t)),
    Rule("s x - t x = (s - t) x", P(subtract, P(multiply, s, x), P(multiply, t, x)),
         lambda s, t, x: (s - t) * x,
         when=lambda s, t, x: is_float(x) and combines_safely(np.subtract, s, t)),
    Rule("x y + x z = x (y + z)", P(add, P(multiply, x, y), P(multiply, x, z)),
         lambda x, y, z: x * (y + z)),
    Rule("x y - x z = x (y - z)", P(subtract, P(multiply, x, y), P(multiply, x, z)),
         lambda x, y, z: x * (y - z)),
    # c (d x) = (c d) x for 0-d constants is built so (multiply's fold)
    Rule("s (t X) = (s t) X", P(multiply, s, P(multiply, t, x)), lambda s, t, x: (s * t) * x,
         when=lambda s, t, x: x.ndim > 0 and combines_safely(np.multiply, s, t), scalars=()),
    Rule("x / c = (1/c) x", P(divide, x, P.var("c", _nonzero_constant)),
         lambda x, c: constant(1.0 / c.value) * x,
         when=lambda x, c: is_float(x) and combines_safely(np.divide, constant(1.0), c)),
    # sum(s X) = s sum(X), (s A) @ B = s (A @ B), trace(s X) = s trace(X), ...
    Rule("op(s X) = s op(X)  (op linear)", P.var("out", _scalar_out_of_linear,
                                                           some_operand={elementwise.multiply}),
         _pull_scalars, scalars=()),  # the scaled operand has an axis
    # t y / max(t, ε) = y for t ≥ 0: the tiny ε only keeps 0/0 out (the norm's derivative
    # x / max(‖x‖, ε)); it differs from y only where t < ε (a subnormal norm)
    Rule("t (y / max(t, ε)) = y  (t ≥ 0)", P(multiply, t, P(divide, y, P(maximum, t, eps))).named("out"),
         lambda y, out: as_out(y, out), when=lambda t: is_nonnegative(t)),
    Rule("(s t)(y / max(t, ε)) = s y  (t ≥ 0)",
         P(multiply, P(multiply, s, t), P(divide, y, P(maximum, t, eps))).named("out"),
         lambda s, y, out: as_out(s * y, out), when=lambda t: is_nonnegative(t)),
    Rule("x / x = 1  (x != 0)", P(divide, x, x).named("out"),
         lambda out: as_out(constant(1.0), out), when=lambda x: is_nonzero(x)),
    Rule("x (y / x) = y  (x != 0)", P(multiply, x, P(divide, y, x)).named("out"),
         lambda y, out: as_out(y, out), when=lambda x: is_nonzero(x)),
    Rule("x (y/x - z) = y - x z  (x != 0)", P(multiply, x, P(subtract, P(divide, y, x), z)),
         lambda x, y, z: y - x * z, when=lambda x: is_nonzero(x)),
    Rule("x (y/x + z) = y + x z  (x != 0)", P(multiply, x, P(add, P(divide, y, x), z)),
         lambda x, y, z: y + x * z, when=lambda x: is_nonzero(x)),
    Rule("x (z - y/x) = x z - y  (x != 0)", P(multiply, x, P(subtract, z, P(divide, y, x))),
         lambda x, y, z: x * z - y, when=lambda x: is_nonzero(x)),
])

RULESETS = (FOLDING, NEUTRAL, SIGNS, LIKE_TERMS)
