"""More of NumPy's elementwise functions: trigonometric, hyperbolic and their
inverses, base-2 and base-10 exponentials and logarithms, ``expm1``,
``reciprocal``, angle conversions, and the two-operand ``arctan2``,
``logaddexp`` and ``logaddexp2``. Each VJP returns ``g`` times the partial
derivative, written with the op's own output where that is cheaper.
"""
from __future__ import annotations

import math
import operator
import sys

from .base import binary, op, sympy_function, unary, unary_samples
from . import facts as F
from .elementwise import (abs_, cos, equal, exp, floor, isfinite, less, sign, signbit, sqrt,
                          trunc, where)

LN2, LN10 = math.log(2.0), math.log(10.0)

# d tan x = 1 + tan² x
tan = unary("tan", "np.tan({0})", lambda g, out, x: [g * (1.0 + out * out)], domain="unit",
            cli=(("node", None),))
# d arcsin x = 1 / √(1 - x²), d arccos x = -1 / √(1 - x²)
arcsin = unary("arcsin", "np.arcsin({0})", lambda g, out, x: [g / sqrt(1.0 - x * x)],
               domain="unit",
               cli=(("node", None),),
    array_api="xp.asin({0})")
arccos = unary("arccos", "np.arccos({0})", lambda g, out, x: [-(g / sqrt(1.0 - x * x))],
               domain="unit",
               cli=(("node", None),),
    array_api="xp.acos({0})")
# d arctan x = 1 / (1 + x²)
arctan = unary("arctan", "np.arctan({0})", lambda g, out, x: [g / (1.0 + x * x)],
               cli=(("node", None),),
    array_api="xp.atan({0})")
# d sinh x = cosh x, d cosh x = sinh x
sinh = unary("sinh", "np.sinh({0})", lambda g, out, x: [g * cosh(x)],
             cli=(("node", None),))
cosh = unary("cosh", "np.cosh({0})", lambda g, out, x: [g * sinh(x)],
             positive_result=True, facts=F.POSITIVE,
             cli=(("node", None),))
# d arcsinh x = 1 / √(x² + 1), d arccosh x = 1 / √(x² - 1), d arctanh x = 1 / (1 - x²)
arcsinh = unary("arcsinh", "np.arcsinh({0})", lambda g, out, x: [g / sqrt(x * x + 1.0)],
                cli=(("node", None),),
    array_api="xp.asinh({0})")
arccosh = unary("arccosh", "np.arccosh({0})", lambda g, out, x: [g / sqrt(x * x - 1.0)],
                domain="above_one",
                cli=(("node", None),),
    array_api="xp.acosh({0})")
arctanh = unary("arctanh", "np.arctanh({0})", lambda g, out, x: [g / (1.0 - x * x)],
                domain="unit",
                cli=(("node", None),),
    array_api="xp.atanh({0})")
# d ∛x = 1 / (3 ∛x²): the real cube root (negative for negative x, as NumPy)
cbrt = unary("cbrt", "np.cbrt({0})", lambda g, out, x: [g / (3.0 * out * out)],
             domain="nonzero", cli=(("node", None),),
    array_api="xp.sign({0}) * xp.abs({0}) ** (1.0 / 3.0)")
# d 2^x = 2^x ln 2, d expm1 x = e^x = expm1 x + 1
exp2 = unary("exp2", "np.exp2({0})", lambda g, out, x: [g * out * LN2],
             positive_result=True, facts=F.POSITIVE,
             cli=(("node", None),),
    array_api="2.0 ** {0}")
expm1 = unary("expm1", "np.expm1({0})", lambda g, out, x: [g * (out + 1.0)],
              cli=(("node", None),))
# d log2 x = 1 / (x ln 2), d log10 x = 1 / (x ln 10)
log2 = unary("log2", "np.log2({0})", lambda g, out, x: [g / (x * LN2)], domain="positive",
             cli=(("node", None),))
log10 = unary("log10", "np.log10({0})", lambda g, out, x: [g / (x * LN10)], domain="positive",
              cli=(("node", None),))
# d (1/x) = -1/x²; written as a float division (np.reciprocal of an int array is integer)
reciprocal = unary("reciprocal", "1.0 / {0}", lambda g, out, x: [-(g * out * out)],
                   scalar="_scalar_divide(1.0, {0})",
                   domain="nonzero",
                   cli=(("node", None),))
# angle conversions are linear
deg2rad = unary("deg2rad", "np.deg2rad({0})", lambda g, out, x: [g * (math.pi / 180.0)],
                linear_in=(0,),
                cli=(("node", None),),
    array_api="{0} * 0.017453292519943295")
rad2deg = unary("rad2deg", "np.rad2deg({0})", lambda g, out, x: [g * (180.0 / math.pi)],
                linear_in=(0,),
                cli=(("node", None),),
    array_api="{0} * 57.29577951308232")


def _arctan2_vjp(g, out, y, x):
    """∂ atan2(y, x) / ∂y = x / (x² + y²), ∂ / ∂x = -y / (x² + y²)."""
    radius = x * x + y * y
    return [g * x / radius, -(g * y / radius)]


arctan2 = binary("arctan2", "np.arctan2({0}, {1})", _arctan2_vjp, left="nonzero",
                 right="nonzero", float_result=True,
                 cli=(("node", None), ("node", None)),
    array_api="xp.atan2({0}, {1})")
# log(eᵃ + eᵇ): ∂/∂a = e^(a - out); log2(2ᵃ + 2ᵇ): ∂/∂a = 2^(a - out)
logaddexp = binary("logaddexp", "np.logaddexp({0}, {1})",
                   lambda g, out, a, b: [g * exp(a - out), g * exp(b - out)], float_result=True,
                   cli=(("node", None), ("node", None)))
logaddexp2 = binary("logaddexp2", "np.logaddexp2({0}, {1})",
                    lambda g, out, a, b: [g * exp2(a - out), g * exp2(b - out)],
                    float_result=True,
                    cli=(("node", None), ("node", None)),
    array_api="xp.logaddexp({0} * 0.6931471805599453, {1} * 0.6931471805599453) / 0.6931471805599453")


# x1 mod x2 with the sign of x2 (NumPy's ``remainder``/``mod``, Python's ``%``) and with
# the sign of x1 (``fmod``, C's): x1 - q x2 with q = floor(x1 / x2), resp. trunc(x1 / x2),
# piecewise constant, so ∂/∂x1 = 1 and ∂/∂x2 = -q between the jumps (autograd's rule).
remainder = binary("remainder", "np.remainder({0}, {1})",
                   lambda g, out, a, b: [g, -(g * floor(a / b))], right="nonzero", kink=True,
                   operators=(operator.mod,),
                   cli=(("node", None), ("node", None)))
fmod = binary("fmod", "np.fmod({0}, {1})", lambda g, out, a, b: [g, -(g * trunc(a / b))],
              right="nonzero", kink=True,
              cli=(("node", None), ("node", None)),
    array_api="xp.copysign(xp.remainder(xp.abs({0}), xp.abs({1})), {0})")

#: Below this |x| the derivative of sinc is its Taylor series (the closed form cancels).
SINC_SERIES_BELOW = 0.2
#: sinc'(x) = Σₖ cₖ x^(2k-1), cₖ = (-1)ᵏ 2k π^(2k) / (2k+1)!, k = 1..10 (error < 1e-20 there)
SINC_SERIES = tuple((-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1)
                    for k in range(1, 11))


def _sinc_derivative(x, out):
    """sinc'(x) = (cos πx - sinc x) / x, finite and accurate at and near 0.

    Near 0 the closed form loses its digits (both terms tend to 1), so there the
    derivative is the Taylor series, whose own derivatives (the Hessian) are
    right at 0 too. The closed form divides by x replaced with 1 near 0, so the
    branch ``where`` does not select stays finite and sends no NaN backwards.
    """
    near = less(abs_(x), SINC_SERIES_BELOW)
    x2 = x * x
    series = SINC_SERIES[-1]
    for c in reversed(SINC_SERIES[:-1]):
        series = series * x2 + c
    closed = (cos(math.pi * x) - out) / where(near, 1.0, x)
    return where(near, x * series, closed)


# NumPy's normalized sinc, sin(πx) / (πx), 1 at 0.
sinc = unary("sinc", "np.sinc({0})", lambda g, out, x: [g * _sinc_derivative(x, out)],
             to_sympy=sympy_function(lambda sp: lambda x: sp.sinc(sp.pi * x)),
             cli=(("node", None),),
    array_api="xp.sin(3.141592653589793 * xp.where({0} == 0, 1e-20, {0})) / (3.141592653589793 * xp.where({0} == 0, 1e-20, {0}))")


def _float_source(value) -> str:
    """Source for a float attribute: ``None``, a literal, or ``float('inf')``/``float('nan')``."""
    if value is None:
        return "None"
    return repr(value) if math.isfinite(value) else f"float({repr(value)!r})"


_LARGEST = sys.float_info.max  # NumPy's posinf when none is given


def _or(value, default):
    return default if value is None else value


def _nan_to_num_prepare(x, nan=0.0, posinf=None, neginf=None):
    """Float attributes (None kept: NumPy's largest/smallest float), NaN spelled as
    ``math.nan`` so that equal calls intern together."""
    def as_float(value):
        value = float(value)
        return math.nan if math.isnan(value) else value
    return {"nan": as_float(nan), "posinf": None if posinf is None else as_float(posinf),
            "neginf": None if neginf is None else as_float(neginf)}


# NaN -> nan, ±inf -> posinf/neginf (default the largest finite floats); the identity
# elsewhere, so the derivative is 1 where x is finite and 0 where it was replaced.
nan_to_num = op("nan_to_num", infer=lambda x, **_: (x.shape, x.dtype),
                prepare=_nan_to_num_prepare,
                numpy=lambda args, attrs, ctx: (
                    f"np.nan_to_num({args[0]}, nan={_float_source(attrs['nan'])}, "
                    f"posinf={_float_source(attrs['posinf'])}, "
                    f"neginf={_float_source(attrs['neginf'])})"),
                vjp=lambda g, out, x, **_: [g * isfinite(x)],
                jvp=lambda tangents, out, x, **_: tangents[0] * isfinite(x),
                elementwise=True, fresh=True, samples=unary_samples(),
                cli=(("node", None),),
    array_api=lambda args, attrs, ctx: (
        f"xp.where(xp.isnan({args[0]}), {_float_source(attrs['nan'])}, "
        f"xp.where({args[0]} == xp.inf, {_float_source(_or(attrs['posinf'], _LARGEST))}, "
        f"xp.where({args[0]} == -xp.inf, {_float_source(_or(attrs['neginf'], -_LARGEST))}, "
        f"{args[0]})))"))


def _copysign_vjp(g, out, a, b):
    """copysign(a, b) = ±|a| by the sign bit of b: ∂/∂a = ±sign(a) (0 at a = 0, as
    JAX), nothing for b (piecewise constant in it)."""
    return [where(signbit(b), -g, g) * sign(a), None]


copysign = binary("copysign", "np.copysign({0}, {1})", _copysign_vjp, left="kinkfree",
                  right="kinkfree", float_result=True, kink=True,
                  cli=(("node", None), ("node", None)))
# Heaviside step: 0 below 0, x2 at 0, 1 above; ∂/∂x2 = [x1 = 0] (JAX's), none for x1.
heaviside = binary("heaviside", "np.heaviside({0}, {1})",
                   lambda g, out, a, b: [None, g * equal(a, 0.0)], left="kinkfree",
                   float_result=True, kink=True,
                   cli=(("node", None), ("node", None)),
    array_api="xp.where({0} < 0, 0.0, xp.where({0} > 0, 1.0, xp.where({0} == 0, {1}, {0})))")

__all__ = ["tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
           "exp2", "expm1", "log2", "log10", "reciprocal", "deg2rad", "rad2deg", "arctan2",
           "logaddexp", "logaddexp2", "remainder", "fmod", "sinc", "nan_to_num", "copysign",
           "heaviside"]
