"""Elementwise ops (NumPy broadcasting). Each VJP returns ``g`` times the partial."""
from __future__ import annotations

import operator

import numpy as np

from ..graph import Node, REGISTRY, result_dtype
from ..shapes import ShapeError, broadcast_shapes
from . import facts as F
from . import (CONSTANT_FORMS, Sample, Spec, binary, broadcast_infer, diagonal_jvp,
               is_constant, op, unary, zeros)


def _identity_fold(neutral: float, keep: int):
    """Fold ``op(a, b)`` to operand ``keep`` when the other one is ``neutral``."""
    def fold(a: Node, b: Node):
        other = (a, b)[1 - keep]
        kept = (a, b)[keep]
        if not is_constant(other, neutral):
            return None
        try:
            shape = broadcast_shapes(a.shape, b.shape)
        except ShapeError:
            return None
        if shape == kept.shape and result_dtype(a.dtype, b.dtype) == kept.dtype:
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
    return a.op.name in CONSTANT_FORMS or b.op.name in CONSTANT_FORMS


def _fold_add(a, b):
    return _first_fold(a, b, *_ADD_FOLDS) if _may_fold(a, b) else None


def _fold_subtract(a, b):
    if not _may_fold(a, b):
        return None
    folded = _ADD_FOLDS[0](a, b)
    if folded is None and a.op.name == "zeros" and a.shape == b.shape:
        return -b
    return folded


def _fold_multiply(a, b):
    if not _may_fold(a, b):
        return None
    folded = _first_fold(a, b, *_MULTIPLY_FOLDS)
    if folded is None and (a.op.name == "zeros" or b.op.name == "zeros"):
        try:
            return zeros(broadcast_shapes(a.shape, b.shape), result_dtype(a.dtype, b.dtype))
        except ShapeError:
            return None
    return folded


def _fold_negative(x):
    if x.op.name == "negative":
        return x.operands[0]
    if x.op.name == "zeros":
        return x
    return None


add = binary("add", "{0} + {1}", lambda g, out, a, b: [g, g], fold=_fold_add,
             out_form="np.add({0}, {1}, out={out})", keeps_positive=True, facts=F.add_facts)
subtract = binary("subtract", "{0} - {1}", lambda g, out, a, b: [g, -g], fold=_fold_subtract,
                  out_form="np.subtract({0}, {1}, out={out})")
multiply = binary("multiply", "{0} * {1}", lambda g, out, a, b: [g * b, g * a],
                  fold=_fold_multiply, out_form="np.multiply({0}, {1}, out={out})",
                  linear_in=(0, 1), keeps_positive=True, facts=F.multiply_facts)
divide = binary("divide", "{0} / {1}", lambda g, out, a, b: [g / b, -(g * out) / b],
                right="nonzero", float_result=True, fold=_identity_fold(1, 0),
                out_form="np.divide({0}, {1}, out={out})", odd_in=(0, 1), keeps_positive=True,
                facts=F.divide_facts)


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


def _power_prepare(a, b):
    """NumPy refuses negative integer powers of integers (at run time); a constant
    such exponent is refused when the graph is built."""
    if a.dtype != "float64" and b.value is not None and b.dtype == "int64" \
            and bool(np.any(b.value < 0)):
        raise ShapeError("Integers to negative integer powers are not allowed "
                         "(make the base or the exponent float)")
    return {}


power = binary("power", "{0} ** {1}",
               lambda g, out, a, b: _power_vjp(g, out, a, b),
               left="positive", fold=_identity_fold(1, 0), prepare=_power_prepare)
negative = unary("negative", "-{0}", lambda g, out, x: [-g], fold=_fold_negative,
                 out_form="np.negative({0}, out={out})", facts=F.keeps("nonzero"))

exp = unary("exp", "np.exp({0})", lambda g, out, x: [g * out], out_form="np.exp({0}, out={out})",
            positive_result=True, facts=F.POSITIVE)
log = unary("log", "np.log({0})", lambda g, out, x: [g / x], domain="positive",
            out_form="np.log({0}, out={out})")
log1p = unary("log1p", "np.log1p({0})", lambda g, out, x: [g / (1.0 + x)], domain="positive")
sqrt = unary("sqrt", "np.sqrt({0})", lambda g, out, x: [g / (2.0 * out)], domain="positive",
             keeps_positive=True, facts=F.sqrt_facts)
sin = unary("sin", "np.sin({0})", lambda g, out, x: [g * cos(x)])
cos = unary("cos", "np.cos({0})", lambda g, out, x: [-(g * sin(x))])
tanh = unary("tanh", "np.tanh({0})", lambda g, out, x: [g * (1.0 - out * out)],
             out_form="np.tanh({0}, out={out})")
abs_ = unary("abs", "np.abs({0})", lambda g, out, x: [g * sign(x)], domain="kinkfree",
             kink=True, positive_result=True, facts=F.abs_facts)
relu = unary("relu", "np.maximum({0}, 0.0)", lambda g, out, x: [g * (x > 0.0)],
             domain="kinkfree", kink=True, facts=F.NONNEGATIVE)
softplus = unary("softplus", "np.logaddexp(0.0, {0})", lambda g, out, x: [g * sigmoid(x)],
                 positive_result=True, facts=F.POSITIVE)

SIGMOID_HELPER = ("_sigmoid", '''
def _sigmoid(x, out=None):
    """Logistic function 1 / (1 + exp(-x)), into ``out`` if given (arrays: three
    passes in one buffer); as float64.

    Relative error of a few ulp wherever the result is normal; exp(-x) = inf
    below x = -709 gives 0, where the true value is subnormal anyway.
    """
    if not isinstance(x, np.ndarray) or x.ndim == 0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.negative(x, out=out, dtype=np.float64)
    np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)
''')


sigmoid = unary("sigmoid", "_sigmoid({0})", lambda g, out, x: [g * (out * (1.0 - out))],
                helpers=(SIGMOID_HELPER,), out_form="_sigmoid({0}, out={out})",
                positive_result=True, facts=F.POSITIVE)


def _maximum_vjp(g, out, a, b):
    return [g * (a >= b), g * (a < b)]


maximum = binary("maximum", "np.maximum({0}, {1})", _maximum_vjp, left="kinkfree",
                 right="kinkfree", kink=True, keeps_positive=True)
fmax = binary("fmax", "np.fmax({0}, {1})", _maximum_vjp, left="kinkfree", right="kinkfree",
              kink=True, keeps_positive=True)  # maximum that ignores NaN; same subgradient
fmin = binary("fmin", "np.fmin({0}, {1})", lambda g, out, a, b: [g * (a <= b), g * (a > b)],
              kink=True, keeps_positive=True)
minimum = binary("minimum", "np.minimum({0}, {1})",
                 lambda g, out, a, b: [g * (a <= b), g * (a > b)], kink=True, keeps_positive=True)


def _where_infer(cond, a, b):
    if cond.dtype != "bool":
        raise ShapeError(f"the condition must be boolean, got {cond.dtype}")
    shape, _ = broadcast_infer(cond, a, b)
    return shape, result_dtype(a.dtype, b.dtype)


def _where_vjp(g, out, cond, a, b):
    zero = zeros((), g.dtype)
    return [None, where(cond, g, zero), where(cond, zero, g)]


where = op("where", infer=_where_infer, numpy="np.where({0}, {1}, {2})", vjp=_where_vjp,
           jvp=diagonal_jvp(_where_vjp), elementwise=True, fresh=True, kink=True,
           samples=lambda: [Sample((Spec((3,), "bool"), Spec((3,)), Spec((3,)))),
                            Sample((Spec((2, 3), "bool"), Spec((3,)), Spec(())))])


def _piecewise_constant(name: str, numpy: str, dtype: str = "float64", **fields):
    """An op whose derivative is zero wherever it exists (not differentiated)."""
    return op(name, infer=lambda *xs: broadcast_infer(*xs, dtype=dtype), numpy=numpy,
              differentiable=False, elementwise=True, **fields)


sign = _piecewise_constant("sign", "np.sign({0})", fresh=True, kink=True)
# Rounding: derivative 0 wherever it exists (between the jumps), as in JAX.
floor = _piecewise_constant("floor", "np.floor({0})", fresh=True, kink=True)
ceil = _piecewise_constant("ceil", "np.ceil({0})", fresh=True, kink=True)
round_ = op("round", infer=lambda x, decimals: broadcast_infer(x, dtype="float64"),
            prepare=lambda x, decimals=0: {"decimals": int(operator.index(decimals))},
            numpy="np.round({0}, {decimals})", differentiable=False, elementwise=True,
            fresh=True, kink=True)
greater = _piecewise_constant("greater", "{0} > {1}", "bool")
greater_equal = _piecewise_constant("greater_equal", "{0} >= {1}", "bool")
less = _piecewise_constant("less", "{0} < {1}", "bool")
less_equal = _piecewise_constant("less_equal", "{0} <= {1}", "bool")
equal = _piecewise_constant("equal", "{0} == {1}", "bool")


# log(sigmoid(x)) = -softplus(-x) as one op, so the stability rewrite of a naive
# log(sigmoid(x)) does not grow the graph; finite for any x.
log_sigmoid = unary("log_sigmoid", "-np.logaddexp(0.0, -{0})",
                    lambda g, out, x: [g * sigmoid(-x)])


def square(x) -> Node:
    """NumPy ``square``: ``x * x`` (one multiply node, so it simplifies with other products)."""
    return REGISTRY["multiply"](x, x)
