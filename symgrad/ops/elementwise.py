"""Elementwise ops (NumPy broadcasting). Each VJP returns ``g`` times the partial."""
from __future__ import annotations

import operator

import numpy as np

from ..ir.graph import DTYPES, LEAF_OPS, Node, command_line, describe, result_dtype
from ..ir.leaves import as_node
from ..ir.shapes import ShapeError, broadcast_shapes
from . import facts as F
from ..ir.print_forms import LOGICAL, PRODUCT, POSTFIX, POWER, RELATION, SCRIPT, SUM, SUPERSCRIPT, UNARY, ATOM, Piece
from .base import (TINY, Sample, Spec, binary, broadcast_infer, broadcast_to, diagonal_jvp,
                   sympy_function, sympy_scalar,
               is_constant, op, unary, zeros)
from . import runtime
from .structure import broadcast_to_op, zeros_op
from . import portable as xpl


def _identity_fold(neutral: float, keep: int, float_result: bool = False):
    """Fold ``op(a, b)`` to operand ``keep`` when the other one is ``neutral`` (and,
    for an op whose result is float, ``keep`` is float: ``k / True`` of an int ``k``
    is a float64 node, as NumPy's)."""
    def fold(a: Node, b: Node):
        other = (a, b)[1 - keep]
        kept = (a, b)[keep]
        if not is_constant(other, neutral):
            return None
        try:
            shape = broadcast_shapes(a.shape, b.shape)
        except ShapeError:
            return None
        dtype = result_dtype(a.dtype, b.dtype, *(("float64",) if float_result else ()))
        if shape == kept.shape and dtype == kept.dtype:
            return kept
        return None
    return fold


def _first_fold(a, b, *folds):
    """The first fold that applies (nodes have no truth value, so no ``or``)."""
    for fold in folds:
        folded = fold(a, b)
        if folded is not None:
            return folded
    return None


_ADD_FOLDS = (_identity_fold(0, 0), _identity_fold(0, 1))
_MULTIPLY_FOLDS = (_identity_fold(1, 0), _identity_fold(1, 1))


def _may_fold(a: Node, b: Node) -> bool:
    """Whether an operand may be a known constant; if not (the common case), no fold applies."""
    return a.op.uniform is not None or b.op.uniform is not None


def _scalar_constants(a: Node, b: Node) -> bool:
    """Both operands 0-d constants and the result a float: folded once at build time."""
    return (a.op is b.op and a.value is not None and b.value is not None
            and a.ndim == 0 == b.ndim and result_dtype(a.dtype, b.dtype) == "float64")


def _scalar_fold(ufunc):
    """``ufunc(a, b)`` of two 0-d constants, evaluated now in float64 as NumPy would
    at run time (so ``2 - 1.0`` in a power rule's exponent is the constant 1, and
    ``1.0 / 0.0`` is inf with NumPy's warning, never a Python exception)."""
    def fold(a: Node, b: Node):
        if not _scalar_constants(a, b):
            return None
        return as_node(float(ufunc(np.float64(a.value), np.float64(b.value))))
    return fold


def _unbroadcast(build):
    """``op(broadcast_to(c), x) = op(c, x)`` for a 0-d constant ``c`` when ``x`` already
    has the result's shape: broadcast constants stay scalars (one statement less, and
    the other folds see the constant)."""
    def fold(a: Node, b: Node):
        for i, (c, x) in enumerate(((a, b), (b, a))):
            if c.op is broadcast_to_op and c.operands[0].ndim == 0 \
                    and c.operands[0].value is not None and _covers(x, c):
                scalar = c.operands[0]
                return build(scalar, x) if i == 0 else build(x, scalar)
        return None
    return fold


def _broadcast_scalar(node: Node):
    """The 0-d constant that ``node`` is or broadcasts, else None."""
    if node.op is broadcast_to_op:
        node = node.operands[0]
    return node if node.op is LEAF_OPS.constant and node.ndim == 0 else None


def _broadcast_scalar_fold(ufunc):
    """``ufunc`` of broadcast 0-d constants (or one broadcast and a 0-d constant) as
    the broadcast of the folded scalar: ``3 * broadcast_to(1, (n,))`` (the gradient of
    ``sum(3 x)``) is ``broadcast_to(3, (n,))``, which prints as the uniform array it is,
    not as ``3 * 1``."""
    scalar = _scalar_fold(ufunc)

    def fold(a: Node, b: Node):
        if a.op is not broadcast_to_op and b.op is not broadcast_to_op:
            return None
        p, q = _broadcast_scalar(a), _broadcast_scalar(b)
        if p is None or q is None:
            return None
        try:
            shape = broadcast_shapes(a.shape, b.shape)
        except ShapeError:
            return None
        folded = scalar(p, q)
        return None if folded is None else broadcast_to(folded, shape)
    return fold


def _covers(x: Node, c: Node) -> bool:
    """Whether ``x`` already has the shape that ``x`` and ``c`` broadcast to."""
    if x.shape == c.shape:
        return True
    try:
        return broadcast_shapes(x.shape, c.shape) == x.shape
    except ShapeError:
        return False


# Each op's folds, built once (the builders resolve the op records when called).
_ADD_CHAIN = (_scalar_fold(np.add), _broadcast_scalar_fold(np.add), *_ADD_FOLDS,
              _unbroadcast(lambda p, q: add(p, q)))
_SUBTRACT_CHAIN = (_scalar_fold(np.subtract), _broadcast_scalar_fold(np.subtract), _ADD_FOLDS[0],
                   _unbroadcast(lambda p, q: subtract(p, q)))
_DIVIDE_CHAIN = (_scalar_fold(np.divide), _broadcast_scalar_fold(np.divide),
                 _identity_fold(1, 0, float_result=True),
                 _unbroadcast(lambda p, q: divide(p, q)))
_POWER_CHAIN = (_scalar_fold(np.power), _identity_fold(1, 0))

#: product op -> ``fold(a, b, combine)`` of ``a ± b`` (``combine``: ``add`` or
#: ``subtract``) when ``b`` is a product of that op sharing a factor with ``a``
#: (``P v + Q v = (P + Q) v``). :mod:`symgrad.ops.products` fills it: the product ops
#: are declared above this module, which cannot import them.
SHARED_FACTOR_FOLDS: dict = {}


def _shared_factor(a, b, combine):
    """``a ± b`` with a factor the two products share taken out, else None."""
    fold = SHARED_FACTOR_FOLDS.get(b.op)
    return None if fold is None else fold(a, b, combine)


def _like_terms(a, b):
    """``x + x = 2x``, ``(z + x) + x = z + 2x`` and ``(x - z) + x = 2x - z`` (float64)."""
    if b.dtype != "float64":
        return None
    if a is b:
        return multiply(2.0, a)
    if a.shape != b.shape or not (a.op is add or a.op is subtract):
        return None
    first, second = a.operands
    if a.op is add and (first is b or second is b):
        return add(second if first is b else first, multiply(2.0, b))
    if a.op is subtract and first is b:
        return subtract(multiply(2.0, b), second)
    return None


def _as_difference(a, b):
    """``x + (-y) = x - y`` and ``(-y) + x = x - y`` (the same floats), where the
    difference keeps the sum's shape and dtype."""
    if b.op is negative:
        x, y = a, b.operands[0]
    elif a.op is negative:
        x, y = b, a.operands[0]
    else:
        return None
    if x.shape != y.shape or x.dtype != "float64" or y.dtype != "float64":
        return None
    return subtract(x, y)


def _fold_add(a, b):
    a_op, b_op = a.op, b.op  # identity tests first: most sums fold nothing
    if a is b or a_op is add or a_op is subtract:
        folded = _like_terms(a, b)
        if folded is not None:
            return folded
    if a_op is negative or b_op is negative:
        folded = _as_difference(a, b)
        if folded is not None:
            return folded
    if not _may_fold(a, b):
        return _shared_factor(a, b, add)
    return _first_fold(a, b, *_ADD_CHAIN)


def _fold_subtract(a, b):
    if b.op is negative and a.shape == b.shape and a.dtype == "float64" == b.operands[0].dtype:
        return add(a, b.operands[0])  # x - (-y) = x + y (the same floats)
    if not _may_fold(a, b):
        return _shared_factor(a, b, subtract)
    folded = _first_fold(a, b, *_SUBTRACT_CHAIN)
    if folded is None and a.op is zeros_op and a.shape == b.shape:
        return -b
    return folded


def _negated(a, b):
    """(-1) * b = -b (derivative rules of ``-f`` seed with the constant -1)."""
    for c, x in ((a, b), (b, a)):
        if c.op is LEAF_OPS.constant and c.ndim == 0 and c.value == -1 and x.dtype == "float64":
            return negative(x)
    return None


def combines_safely(ufunc, a, b) -> bool:
    """Whether a rewrite may replace ``a`` and ``b`` by the one constant ``ufunc(a, b)``
    (``c (d x) = (c d) x``, ``x / c = (1/c) x``, ``a x + b x = (a + b) x``): always
    unless both are constants and some entry of the result overflows where both
    operands are finite, or, for a product or quotient, underflows (to zero or a
    subnormal) where both are normal. The graph as written never computes that
    constant, so such a fold would change a finite value (issue 15, item 8)."""
    if a.op is not LEAF_OPS.constant or b.op is not LEAF_OPS.constant:
        return True
    p, q = np.asarray(a.value, np.float64), np.asarray(b.value, np.float64)
    with np.errstate(all="ignore"):
        r = np.abs(ufunc(p, q))
    finite = np.isfinite(p) & np.isfinite(q)
    if np.any(~np.isfinite(r) & finite):
        return False
    if ufunc is np.add or ufunc is np.subtract:  # a sum below the normal range is exact
        return True
    normal = finite & (np.abs(p) >= TINY) & (np.abs(q) >= TINY)
    return not np.any((r < TINY) & normal)


def _scalar_first(a, b):
    """x * c = c * x for a 0-d constant c (one spelling, so equal terms intern together),
    and c * (d * x) = (c d) * x when c d is representable."""
    if b.op is LEAF_OPS.constant and b.ndim == 0 and a.op is not LEAF_OPS.constant:
        return multiply(b, a)
    if a.op is LEAF_OPS.constant and a.ndim == 0 and b.op is multiply:
        inner = b.operands[0]
        if inner.op is LEAF_OPS.constant and inner.ndim == 0 and combines_safely(np.multiply, a, inner):
            return multiply(multiply(a, inner), b.operands[1])
    return None


_MULTIPLY_CHAIN = (_scalar_fold(np.multiply), _broadcast_scalar_fold(np.multiply),
                   *_MULTIPLY_FOLDS, _negated,
                   _unbroadcast(lambda p, q: multiply(p, q)), _scalar_first)


def _cancelled_guard(a, b):
    """``t (y / max(t, tiny)) = y`` and ``(s t)(y / max(t, tiny)) = s y`` for a ``t``
    whose op's values are never negative (``positive_result``: ‖x‖): the guard only keeps
    0/0 out of a norm's derivative, ``x / max(‖x‖, tiny)``, so the gradient of
    ``‖x‖²`` is built as ``2 * x``, not ``2 * ‖x‖ * x / ‖x‖``. The two differ only
    where ``t < tiny`` (a subnormal norm, whose ``y`` entries are below it too); the
    rewrite phase has the same rule (rewrite/algebra.py)."""
    y, guard = b.operands
    if guard.op is not maximum or not is_constant(guard.operands[1], TINY):
        return None
    t = guard.operands[0]
    if not t.op.positive_result:
        return None
    if a is t:
        result = y
    elif a.op is multiply and t in a.operands:
        result = multiply(a.operands[1] if a.operands[0] is t else a.operands[0], y)
    else:
        return None
    try:
        same = result.shape == broadcast_shapes(a.shape, b.shape)
    except ShapeError:
        return None
    return result if same and result.dtype == "float64" == a.dtype else None


def _fold_multiply(a, b):
    if b.op is divide:
        folded = _cancelled_guard(a, b)
        if folded is not None:
            return folded
    if not _may_fold(a, b):
        return None
    folded = _first_fold(a, b, *_MULTIPLY_CHAIN)
    if folded is None and (a.op is zeros_op or b.op is zeros_op):
        try:
            return zeros(broadcast_shapes(a.shape, b.shape), result_dtype(a.dtype, b.dtype))
        except ShapeError:
            return None
    return folded


def _fold_negative(x):
    """``-(-y) = y``, ``-((-p) q) = p q``, ``-(c q) = (-c) q`` for a 0-d constant ``c``
    and ``-0 = 0``, only where the fold keeps the node's dtype: the
    negative of a bool or int is float64, so ``-(-(x > 0))`` is not ``x > 0``."""
    if x.op is negative and x.operands[0].dtype == x.dtype:
        return x.operands[0]
    if x.op is multiply:  # -((-p) q) = p q, -(c q) = (-c) q (negation is exact: the same floats)
        p, q = x.operands
        if p.op is negative or q.op is negative:
            product = multiply(p.operands[0], q) if p.op is negative else multiply(p, q.operands[0])
            return product if product.dtype == x.dtype else None
        if p.op is LEAF_OPS.constant and p.ndim == 0 and p.dtype == "float64" == x.dtype:
            return multiply(as_node(-float(p.value)), q)
    if x.op is zeros_op and x.dtype == "float64":
        return x
    if x.op is LEAF_OPS.constant and x.ndim == 0 and x.dtype == "float64":
        return as_node(-float(x.value))
    scalar = _broadcast_scalar(x) if x.op is broadcast_to_op else None
    if scalar is not None and scalar.dtype == "float64":  # -(c broadcast) = (-c) broadcast
        return broadcast_to(as_node(-float(scalar.value)), x.shape)
    return None


def _fold_divide(a, b):
    """Constants and ``x / 1`` fold; ``exp(u) / sum(exp(u))`` is built as ``softmax(u)``
    (the naive quotient overflows to inf / inf = NaN for large u)."""
    if _may_fold(a, b):
        return _first_fold(a, b, *_DIVIDE_CHAIN)
    return _naive_softmax(a, b)


def _naive_softmax(a, b):
    """softmax(u, axis) for exp(u) / sum(exp(u), axis) over one axis: kept (keepdims)
    or the leading axis (which broadcasting puts back in place)."""
    from .reductions import softmax, sum_
    if a.op is not exp or b.op is not sum_ or b.operands[0] is not a:
        return None
    axis = b.attrs["axis"]
    if len(axis) != 1 or not (b.attrs["keepdims"] or axis == (0,)):
        return None
    return softmax(a.operands[0], axis=axis[0])


# Printing rules (the record's ``unicode``/``latex`` fields; see symgrad.printing).

def _print_add(p, node, a, b):
    """``a + b``; ``a - b`` for an operand that prints negated."""
    if b.neg is not None:
        return p.infix(" - ", SUM, a, b.neg)
    return p.infix(" + ", SUM, a, b, associative=True)


def _prints_as_array(node: Node) -> bool:
    """Whether an elementwise operand prints as an array: not a 0-d node, nor a broadcast
    of one, nor a uniform constant array (both print as their scalar)."""
    if node.op is broadcast_to_op:
        node = node.operands[0]
    if node.op is LEAF_OPS.constant and node.value.size:
        return not np.all(node.value == node.value.flat[0])
    return bool(node.ndim)


def both_arrays(node: Node) -> bool:
    """Whether both operands print as arrays (``⊙``), looking through implicit broadcasts."""
    return all(_prints_as_array(o) for o in node.operands)


def _print_multiply(p, node, a, b):
    symbol = " ⊙ " if both_arrays(node) else " * "
    return p.infix(symbol, PRODUCT, a, b, "mul", associative=True)


def _latex_multiply(p, node, a, b):
    if both_arrays(node):
        symbol = r" \odot "
    else:
        symbol = r" \cdot " if b.text[:1].isdigit() or b.text[:1] in "-." else " "
    return p.infix(symbol, PRODUCT, a, b, "mul", associative=True)


def _print_divide(p, node, a, b):
    piece = p.infix(" / ", PRODUCT, a, b, "mul")
    return Piece(piece.text, PRODUCT, "div", neg=piece.neg)


# SymPy forms (the record's ``to_sympy`` field; see symgrad.bridges.sympy_export).

def _sympy_multiply(s, node, a, b):
    """Scalar products, scalar-matrix products, or a Hadamard product of broadcasts."""
    left, right = node.operands
    if not left.ndim and not right.ndim:
        return a * b
    if not left.ndim or not right.ndim:
        return s.mul(a, b)
    return s.sp.HadamardProduct(s.broadcast(a, left, node), s.broadcast(b, right, node))


def _sympy_divide(s, node, a, b):
    left, right = node.operands
    if not right.ndim:
        return s.mul(1 / b, a) if left.ndim else a / b
    reciprocal = s.sp.HadamardPower(s.broadcast(b, right, node), -1)
    if not left.ndim:
        return s.mul(a, reciprocal)
    return s.sp.HadamardProduct(s.broadcast(a, left, node), reciprocal)


add = binary("add", "{0} + {1}", lambda g, out, a, b: [g, g], fold=_fold_add, commutative=True,
             scalar="{0} + {1}",
             out_form="np.add({0}, {1}, out={out})", keeps_positive=True, facts=F.add_facts,
             operators=(operator.add,),
             unicode=_print_add,
             to_sympy=lambda s, node, a, b: s.linear(node, a, b, 1))
subtract = binary("subtract", "{0} - {1}", lambda g, out, a, b: [g, -g], fold=_fold_subtract,
                  scalar="{0} - {1}",
                  out_form="np.subtract({0}, {1}, out={out})",
                  operators=(operator.sub,),
                  unicode=lambda p, node, a, b: p.infix(" - ", SUM, a, b),
                  to_sympy=lambda s, node, a, b: s.linear(node, a, b, -1))
multiply = binary("multiply", "{0} * {1}", lambda g, out, a, b: [g * b, g * a],
                  scalar="{0} * {1}",
                  fold=_fold_multiply, commutative=True, out_form="np.multiply({0}, {1}, out={out})",
                  linear_in=(0, 1), keeps_positive=True, facts=F.multiply_facts,
                  operators=(operator.mul,),
                  unicode=_print_multiply, latex=_latex_multiply,
                  to_sympy=_sympy_multiply)
divide = binary("divide", "{0} / {1}", lambda g, out, a, b: [g / b, -(g * out) / b],
                scalar="_scalar_divide({0}, {1})",
                right="nonzero", float_result=True, fold=_fold_divide,
                out_form="np.divide({0}, {1}, out={out})", odd_in=(0, 1), keeps_positive=True,
                facts=F.divide_facts,
                operators=(operator.truediv,),
                unicode=_print_divide, latex=lambda p, node, a, b: Piece(rf"\frac{{{a.text}}}{{{b.text}}}", SCRIPT),
                to_sympy=_sympy_divide)


def _nonzero_constant(node) -> bool:
    """Whether ``node`` is a constant with no zero entry (no guard needed)."""
    return node.value is not None and bool(np.all(node.value != 0))


def _power_vjp(g, out, a, b):
    """Power rule, 0 where the function is locally constant (JAX/PyTorch values).

    The base partial is 0 when b == 0 (x**0 is constant even at x = 0) and the
    exponent partial is 0 when a == 0 (0**y is constant for y > 0); the guarded
    branches are never selected where they would give NaN.
    """
    base, expo = b * a ** (b - 1.0), out * log(a)
    if not _nonzero_constant(b):
        base = where(equal(b, 0.0), 0.0, base)
    if not _nonzero_constant(a):
        expo = where(equal(a, 0.0), 0.0, expo)
    return [g * base, g * expo]


def _fold_power(a, b):
    return _first_fold(a, b, *_POWER_CHAIN)


def _power_prepare(a, b):
    """NumPy refuses negative integer powers of integers (at run time); a constant
    such exponent is refused when the graph is built."""
    if a.dtype != "float64" and b.value is not None and b.dtype == "int64" \
            and bool(np.any(b.value < 0)):
        raise ShapeError("Integers to negative integer powers are not allowed "
                         "(make the base or the exponent float)")
    return {}


def _small_int(node: Node):
    value = node.value
    if value is None or value.ndim or not float(value).is_integer() or abs(value) > 99:
        return None
    return int(value)


def _print_power(p, node, base, exponent):
    """``x²`` for scalars; ``A^∘2`` (Hadamard power) for arrays, never read as ``A @ A``."""
    lhs = p.wrap(base, base.prec < POSTFIX)
    k = _small_int(node.operands[1])
    if node.operands[0].ndim:
        return Piece(f"{lhs}^∘{p.wrap(exponent, exponent.prec < ATOM)}", POWER)
    if k is not None:
        return Piece(lhs + str(k).translate(SUPERSCRIPT), POWER)
    return Piece(f"{lhs}^{p.wrap(exponent, exponent.prec < ATOM)}", POWER)


def _latex_power(p, node, base, exponent):
    hadamard = r"\circ " if node.operands[0].ndim else ""
    return Piece(f"{p.wrap(base, base.prec < POSTFIX)}^{{{hadamard}{exponent.text}}}", POWER)


def _print_negative(p, node, x):
    text = "-" + p.wrap(x, x.prec < PRODUCT or x.text.startswith("-"))
    prec = x.prec if x.prec == PRODUCT else UNARY
    return Piece(text, prec, x.kind if prec == PRODUCT else "", neg=x)


def _sympy_power(s, node, a, b):
    base, exponent = node.operands
    if exponent.ndim:
        s.unsupported(node)
    # unevaluated: SymPy's power rules can expand nested exponentials for minutes
    if not base.ndim:
        return s.sp.Pow(a, b, evaluate=False)
    return s.sp.HadamardPower(s.broadcast(a, base, node), b)


power = binary("power", "{0} ** {1}",
               lambda g, out, a, b: _power_vjp(g, out, a, b),
               scalar="_scalar_power({0}, {1})",
               left="positive", fold=_fold_power, prepare=_power_prepare,
               operators=(operator.pow,),
               unicode=_print_power, latex=_latex_power,
               to_sympy=_sympy_power,
               cli=(("node", None), ("node", None)))
negative = unary("negative", "-{0}", lambda g, out, x: [-g], fold=_fold_negative,
                 scalar="-{0}",
                 out_form="np.negative({0}, out={out})", facts=F.keeps("nonzero"),
                 operators=(operator.neg,),
                 unicode=_print_negative,
                 to_sympy=lambda s, node, x: s.mul(-1, x) if node.ndim else -x)

def _fold_log(x):
    """log of a composition that overflows or cancels, built as the op that does not:

        log(exp(u)) = u                  log σ(u) = log_sigmoid(u)
        log(1 − σ(u)) = log_sigmoid(−u)  log(1 + exp(u)) = softplus(u)
        log softmax(u) = log_softmax(u)  log Σ exp(u) = logsumexp(u)

    so a model written naively is finite, and so are its gradients (they are
    built from the stable op), whether or not it is simplified.
    """
    from .reductions import log_softmax, logsumexp, softmax, sum_
    kind, operands = x.op, x.operands
    if kind is exp and operands[0].dtype == "float64":
        return operands[0]
    if kind is sigmoid:
        return log_sigmoid(operands[0])
    if kind is softmax:
        return log_softmax(operands[0], **x.attrs)
    if kind is sum_ and operands[0].op is exp and x.dtype == "float64":
        return logsumexp(operands[0].operands[0], **x.attrs)
    if kind is subtract and operands[1].op is sigmoid and _one_of_shape(operands[0], x):
        return log_sigmoid(-operands[1].operands[0])
    if kind is add:
        folded = _fold_log1p_of(*operands, x)
        return folded if folded is not None else _fold_log1p_of(*operands[::-1], x)
    return None


def _one_of_shape(node: Node, out: Node) -> bool:
    """``node`` is the constant 1 and ``out`` has its partner's shape (no broadcast by it)."""
    return is_constant(node, 1.0) and node.ndim <= out.ndim and all(d == 1 for d in node.shape)


def _fold_log1p_of(one: Node, u: Node, out: Node):
    """log(1 + u) as :func:`_fold_log1p` of u, when ``one`` is 1."""
    return _fold_log1p(u) if _one_of_shape(one, out) and u.shape == out.shape else None


def _fold_log1p(x):
    """log1p(exp(u)) = softplus(u)."""
    return softplus(x.operands[0]) if x.op is exp else None


exp = unary("exp", "np.exp({0})", lambda g, out, x: [g * out], out_form="np.exp({0}, out={out})",
            scalar="_scalar_exp({0})",
            positive_result=True, facts=F.POSITIVE,
            latex=lambda p, node, x: Piece(f"e^{{{x.text}}}", SCRIPT),
            to_sympy=sympy_function(lambda sp: sp.exp), from_sympy=lambda sp: sp.exp,
            cli=(("node", None),))
log = unary("log", "np.log({0})", lambda g, out, x: [g / x], domain="positive",
            scalar="_scalar_log({0})",
            out_form="np.log({0}, out={out})", fold=_fold_log,
            latex_symbol=r"\log",
            to_sympy=sympy_function(lambda sp: sp.log),
            cli=(("node", None),))
log1p = unary("log1p", "np.log1p({0})", lambda g, out, x: [g / (1.0 + x)], domain="positive",
              scalar="_scalar_log1p({0})",
              fold=_fold_log1p,
              to_sympy=sympy_function(lambda sp: lambda x: sp.log(1 + x)),
              cli=(("node", None),))
sqrt = unary("sqrt", "np.sqrt({0})", lambda g, out, x: [g / (2.0 * out)], domain="positive",
             scalar="_scalar_domain(math.sqrt, {0})",
             keeps_positive=True, facts=F.sqrt_facts,
             unicode=lambda p, node, x: Piece("√" + p.wrap(x, x.prec < POSTFIX), SCRIPT),
             latex=lambda p, node, x: Piece(rf"\sqrt{{{x.text}}}"),
             to_sympy=sympy_function(lambda sp: sp.sqrt),
             cli=(("node", None),))
sin = unary("sin", "np.sin({0})", lambda g, out, x: [g * cos(x)],
            scalar="_scalar_domain(math.sin, {0})",
            latex_symbol=r"\sin",
            to_sympy=sympy_function(lambda sp: sp.sin), from_sympy=lambda sp: sp.sin,
            cli=(("node", None),))
cos = unary("cos", "np.cos({0})", lambda g, out, x: [-(g * sin(x))],
            scalar="_scalar_domain(math.cos, {0})",
            latex_symbol=r"\cos",
            to_sympy=sympy_function(lambda sp: sp.cos), from_sympy=lambda sp: sp.cos,
            cli=(("node", None),))
tanh = unary("tanh", "np.tanh({0})", lambda g, out, x: [g * (1.0 - out * out)],
             scalar="math.tanh({0})",
             out_form="np.tanh({0}, out={out})",
             latex_symbol=r"\tanh",
             to_sympy=sympy_function(lambda sp: sp.tanh), from_sympy=lambda sp: sp.tanh,
             cli=(("node", None),))
abs_ = unary("abs", "np.abs({0})", lambda g, out, x: [g * sign(x)], domain="kinkfree",
             scalar="abs({0})",
             kink=True, positive_result=True, facts=F.abs_facts,
             operators=(operator.abs,),
             unicode=lambda p, node, x: Piece(f"|{x.text}|"), latex=lambda p, node, x: Piece(rf"\left|{x.text}\right|"),
             to_sympy=sympy_function(lambda sp: lambda x: sp.Abs(x, evaluate=False)), from_sympy=lambda sp: sp.Abs,
             cli=(("node", None),))
relu = unary("relu", "np.maximum({0}, 0.0)", lambda g, out, x: [g * (x > 0.0)],
             scalar="_scalar_maximum({0}, 0.0)",
             domain="kinkfree", kink=True, facts=F.NONNEGATIVE,
             to_sympy=sympy_function(lambda sp: lambda x: sp.Max(x, 0)),
             cli=(("node", None),))
softplus = unary("softplus", "np.logaddexp(0.0, {0})", lambda g, out, x: [g * sigmoid(x)],
                 positive_result=True, facts=F.POSITIVE,
                 to_sympy=sympy_function(lambda sp: lambda x: sp.log(1 + sp.exp(x))),
                 cli=(("node", None),))


sigmoid = unary("sigmoid", "_sigmoid({0})", lambda g, out, x: [g * (out * (1.0 - out))],
                scalar="_scalar_sigmoid({0})",
                helpers=(runtime._sigmoid,), out_form="_sigmoid({0}, out={out})",
                positive_result=True, facts=F.POSITIVE,
                symbol="σ", latex_symbol=r"\sigma",
                to_sympy=sympy_function(lambda sp: lambda x: 1 / (1 + sp.exp(-x))),
                cli=(("node", None),),
    array_api="1.0 / (1.0 + xp.exp(-{0}))")


def _maximum_vjp(g, out, a, b):
    return [g * (a >= b), g * (a < b)]


def _print_maximum(p, node, a, b):
    """max(a, b); the division guard max(‖x‖, tiny) of norm's derivative prints as ‖x‖."""
    if is_constant(node.operands[1], TINY):
        return a
    return p.call(node.op, [a.text, b.text])


maximum = binary("maximum", "np.maximum({0}, {1})", _maximum_vjp, left="kinkfree",
                 scalar="_scalar_maximum({0}, {1})",
                 right="kinkfree", kink=True, commutative=True, keeps_positive=True,
                 unicode=_print_maximum, symbol="max", latex_symbol=r"\max",
                 to_sympy=sympy_scalar(lambda sp: sp.Max), from_sympy=lambda sp: sp.Max,
                 cli=(("node", None), ("node", None)))
fmax = binary("fmax", "np.fmax({0}, {1})", _maximum_vjp, left="kinkfree", right="kinkfree",
              kink=True, keeps_positive=True,
    array_api="xp.where(xp.isnan({0}), {1}, xp.where(xp.isnan({1}), {0}, xp.maximum({0}, {1})))")  # maximum that ignores NaN; same subgradient
fmin = binary("fmin", "np.fmin({0}, {1})", lambda g, out, a, b: [g * (a <= b), g * (a > b)],
              kink=True, keeps_positive=True,
    array_api="xp.where(xp.isnan({0}), {1}, xp.where(xp.isnan({1}), {0}, xp.minimum({0}, {1})))")
minimum = binary("minimum", "np.minimum({0}, {1})",
                 lambda g, out, a, b: [g * (a <= b), g * (a > b)], kink=True, commutative=True,
                 scalar="_scalar_minimum({0}, {1})",
                 keeps_positive=True,
                 symbol="min", latex_symbol=r"\min",
                 to_sympy=sympy_scalar(lambda sp: sp.Min), from_sympy=lambda sp: sp.Min,
                 cli=(("node", None), ("node", None)))


def _where_infer(cond, a, b):
    if cond.dtype != "bool":
        raise ShapeError(f"the condition must be boolean, got {cond.dtype}")
    shape, _ = broadcast_infer(cond, a, b)
    return shape, result_dtype(a.dtype, b.dtype)


def _where_vjp(g, out, cond, a, b):
    zero = zeros((), g.dtype)
    return [None, where(cond, g, zero), where(cond, zero, g)]


def _vanishes_at_zero_of(node: Node, k: Node) -> bool:
    """Whether ``node`` is a product with the factor ``k`` or a power of ``k``: zero
    where ``k`` is (up to 0·∞)."""
    return node.op is multiply and any(
        o is k or (o.op is power and o.operands[0] is k) for o in node.operands)


def _print_where(p, node, cond, a, b):
    """where(c, a, b); the power rule's guard ``where(k == 0, 0, k·e)`` (0 only where
    the product is 0·∞) prints as the product, as the rule is written by hand."""
    c, zero, product = node.operands
    if c.op is equal and is_constant(zero, 0.0):
        k = next((o for o, other in (c.operands, c.operands[::-1]) if is_constant(other, 0.0)),
                 None)
        if k is not None and is_constant(k, 0.0):  # always the zero branch
            return a
        if k is not None and _vanishes_at_zero_of(product, k):
            return b
    return p.call(node.op, [cond.text, a.text, b.text])


def _sympy_where(s, node, cond, a, b):
    if cond.has(s.sp.Piecewise):  # SymPy would rewrite it in exponential time
        raise ValueError(f"{describe(node)}: a where whose condition depends on another "
                         "where has no practical SymPy form")
    return s.scalars_only(node, lambda: s.sp.Piecewise((a, cond), (b, True)))


where = op("where", reads_indices=True, infer=_where_infer, numpy="np.where({0}, {1}, {2})", vjp=_where_vjp,
           scalar="{1} if {0} else {2}",
           jvp=diagonal_jvp(_where_vjp), elementwise=True, fresh=True, kink=True,
           samples=lambda: [Sample((Spec((3,), "bool"), Spec((3,)), Spec((3,)))),
                            Sample((Spec((2, 3), "bool"), Spec((3,)), Spec(())))],
           unicode=_print_where, to_sympy=_sympy_where)


def _piecewise_constant(name: str, numpy: str, dtype: str = "float64", **fields):
    """An op whose derivative is zero wherever it exists (not differentiated)."""
    infer = fields.pop("infer", None) or (lambda *xs: broadcast_infer(*xs, dtype=dtype))
    return op(name, infer=infer, numpy=numpy, differentiable=False, elementwise=True, **fields)


def _int_infer(x, **attrs):
    """The shape rule of the roundings: an int64 operand gives int64 (NumPy 2.3+; the
    node is the operand, by ``_int_is_rounded``), a float or bool one float64."""
    return broadcast_infer(x, dtype="int64" if x.dtype == "int64" else "float64")


def _int_is_rounded(x, decimals=0):
    """Rounding an int64 node to a whole number (``decimals >= 0``) is the node itself."""
    return x if x.dtype == "int64" and decimals >= 0 else None


sign = _piecewise_constant("sign", "np.sign({0})", fresh=True, kink=True,
                           scalar="_scalar_sign({0})",
                           to_sympy=sympy_function(lambda sp: sp.sign), from_sympy=lambda sp: sp.sign)
# Rounding: derivative 0 wherever it exists (between the jumps), as in JAX.
floor = _piecewise_constant("floor", "np.floor({0})", fresh=True, kink=True,
                            infer=_int_infer, fold=_int_is_rounded)
ceil = _piecewise_constant("ceil", "np.ceil({0})", fresh=True, kink=True,
                           infer=_int_infer, fold=_int_is_rounded)
round_ = op("round", infer=_int_infer, fold=_int_is_rounded,
            prepare=lambda x, decimals=0: {"decimals": int(operator.index(decimals))},
            numpy="np.round({0}, {decimals})", differentiable=False, elementwise=True,
            fresh=True, kink=True,
    array_api=xpl.rounded)


def _print_relation(p, node, a, b):
    """``a > b``: the op's symbol in the printer's notation."""
    return p.infix(f" {p.head(node.op)} ", RELATION, a, b)


def _relation(name: str, python, symbol: str, latex_symbol: str, sympy_class: str, **fields):
    """A comparison (bool-valued, never differentiated): ``{0} <python> {1}`` in NumPy,
    ``symbol`` in print, the SymPy relation ``sympy_class`` both ways."""
    fields = {"numpy": f"{{0}} {python} {{1}}", "scalar": f"{{0}} {python} {{1}}",
              "from_sympy": lambda sp: getattr(sp, sympy_class), "unicode": _print_relation,
              **fields}
    return _piecewise_constant(
        name, fields.pop("numpy"), "bool", symbol=symbol,
        latex_symbol=latex_symbol, to_sympy=sympy_scalar(lambda sp: getattr(sp, sympy_class)),
        **fields)


greater = _relation("greater", ">", ">", ">", "StrictGreaterThan", operators=(operator.gt,),
                    cli=(("node", None), ("node", None)))
greater_equal = _relation("greater_equal", ">=", "≥", r"\geq", "GreaterThan",
                          operators=(operator.ge,))
less = _relation("less", "<", "<", "<", "StrictLessThan", operators=(operator.lt,),
                 cli=(("node", None), ("node", None)))
less_equal = _relation("less_equal", "<=", "≤", r"\leq", "LessThan", operators=(operator.le,))
equal = _relation("equal", "==", "==", "=", "Eq", operators=(operator.eq,),
                  cli=(("node", None), ("node", None)))
not_equal = _relation("not_equal", "!=", "≠", r"\neq", "Ne")


def _print_logical(p, node, a, b):
    """``a ∧ b``: looser than the relations it joins (``x > 0 ∧ y < 1``); an operand
    that is another logical op is parenthesized (``(a ∨ b) ∧ c``: no convention needed)."""
    a, b = (Piece(p.wrap(piece, True), ATOM) if piece.prec == LOGICAL and operand.op is not node.op
            else piece for piece, operand in zip((a, b), node.operands))
    return p.infix(f" {p.head(node.op)} ", LOGICAL, a, b, associative=True)


def _print_not(p, node, x):
    """``¬(x > 0)``: a prefix, tighter than any infix operand it takes."""
    return Piece(p.head(node.op) + p.wrap(x, x.prec < UNARY), UNARY)


def _logical(name: str, symbol: str, latex_symbol: str, sympy_class: str, python_operator):
    """NumPy's ``logical_<name>``: bool-valued, of the operands' truth values (any
    dtype, as NumPy); Python's ``&``/``|``/``^`` of bool nodes build it. SymPy's
    n-ary ``And``/``Or``/``Xor`` are read by the SymPy importer (a fold of this op)."""
    return _relation(name, None, symbol, latex_symbol, sympy_class,
                     operators=(python_operator,), numpy=f"np.{name}({{0}}, {{1}})",
                     scalar=None, from_sympy=None, unicode=_print_logical)


logical_and = _logical("logical_and", "∧", r"\land", "And", operator.and_)
logical_or = _logical("logical_or", "∨", r"\lor", "Or", operator.or_)
logical_xor = _logical("logical_xor", "⊻", r"\veebar", "Xor", operator.xor)
logical_not = _piecewise_constant(
    "logical_not", "np.logical_not({0})", "bool", fresh=True, operators=(operator.invert,),
    symbol="¬", latex_symbol=r"\lnot ", unicode=_print_not,
    to_sympy=sympy_scalar(lambda sp: sp.Not))


# log(sigmoid(x)) = -softplus(-x) as one op, so the stability rewrite of a naive
# log(sigmoid(x)) does not grow the graph; finite for any x.
log_sigmoid = unary("log_sigmoid", "-np.logaddexp(0.0, -{0})",
                    lambda g, out, x: [g * sigmoid(-x)],
                    to_sympy=sympy_function(lambda sp: lambda x: -sp.log(1 + sp.exp(-x))),
                    cli=(("node", None),))


@command_line(x="node")
def square(x) -> Node:
    """NumPy ``square``: ``x * x`` (one multiply node, so it simplifies with other products)."""
    return multiply(x, x)


def _astype_prepare(x, dtype, casting="unsafe"):
    """The target dtype's name; TypeError for a dtype nodes cannot hold, or for a cast
    ``casting`` forbids (NumPy's message)."""
    target = np.dtype(dtype)
    if target.name not in DTYPES:
        raise TypeError(f"astype({describe(x)}, {dtype!r}): symgrad nodes hold one of "
                        f"{', '.join(DTYPES)}, not {target.name}")
    if not np.can_cast(x.dtype, target, casting):
        raise TypeError(f"Cannot cast array data from {x.dtype!r} to {target!r} according to "
                        f"the rule {casting!r}")
    return {"dtype": target.name}


# A cast to another dtype (a cast to the node's own dtype folds to the node). Its
# gradient is none: a float64 node cast to int or bool loses its derivative, and an
# int or bool node has none to pass on (float -> float, the one cast with a gradient
# of 1, is folded away).
astype = op("astype", infer=lambda x, dtype: (x.shape, dtype), prepare=_astype_prepare,
            fold=lambda x, dtype: x if x.dtype == dtype else None,
            numpy="np.asarray({0}).astype({dtype!r})", differentiable=False,
            elementwise=True, fresh=True,
            operators=(np.ndarray.astype,),
    array_api="xp.astype({0}, xp.{dtype})")


# More piecewise-constant NumPy ufuncs: derivative 0 wherever it exists.
trunc = _piecewise_constant("trunc", "np.trunc({0})", fresh=True, kink=True,
                            infer=_int_infer, fold=_int_is_rounded,
                            cli=(("node", None),))
floor_divide = _piecewise_constant("floor_divide", "np.floor_divide({0}, {1})", dtype=None,
                                   fresh=True, kink=True,
                                   operators=(operator.floordiv,),
                                   cli=(("node", None), ("node", None)))
# Boolean masks: never differentiated.
isfinite = _piecewise_constant("isfinite", "np.isfinite({0})", "bool", fresh=True)
isnan = _piecewise_constant("isnan", "np.isnan({0})", "bool", fresh=True)
isinf = _piecewise_constant("isinf", "np.isinf({0})", "bool", fresh=True)
signbit = _piecewise_constant("signbit", "np.signbit({0})", "bool", fresh=True)
