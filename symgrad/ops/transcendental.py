"""More of NumPy's elementwise functions: trigonometric, hyperbolic and their
inverses, base-2 and base-10 exponentials and logarithms, ``expm1``,
``reciprocal``, angle conversions, and the two-operand ``arctan2``,
``logaddexp`` and ``logaddexp2``. Each VJP returns ``g`` times the partial
derivative, written with the op's own output where that is cheaper.
"""
from __future__ import annotations

import math

from . import binary, unary
from . import facts as F
from .elementwise import exp, sqrt

LN2, LN10 = math.log(2.0), math.log(10.0)

# d tan x = 1 + tan² x
tan = unary("tan", "np.tan({0})", lambda g, out, x: [g * (1.0 + out * out)], domain="unit")
# d arcsin x = 1 / √(1 - x²), d arccos x = -1 / √(1 - x²)
arcsin = unary("arcsin", "np.arcsin({0})", lambda g, out, x: [g / sqrt(1.0 - x * x)],
               domain="unit")
arccos = unary("arccos", "np.arccos({0})", lambda g, out, x: [-(g / sqrt(1.0 - x * x))],
               domain="unit")
# d arctan x = 1 / (1 + x²)
arctan = unary("arctan", "np.arctan({0})", lambda g, out, x: [g / (1.0 + x * x)])
# d sinh x = cosh x, d cosh x = sinh x
sinh = unary("sinh", "np.sinh({0})", lambda g, out, x: [g * cosh(x)])
cosh = unary("cosh", "np.cosh({0})", lambda g, out, x: [g * sinh(x)],
             positive_result=True, facts=F.POSITIVE)
# d arcsinh x = 1 / √(x² + 1), d arccosh x = 1 / √(x² - 1), d arctanh x = 1 / (1 - x²)
arcsinh = unary("arcsinh", "np.arcsinh({0})", lambda g, out, x: [g / sqrt(x * x + 1.0)])
arccosh = unary("arccosh", "np.arccosh({0})", lambda g, out, x: [g / sqrt(x * x - 1.0)],
                domain="above_one")
arctanh = unary("arctanh", "np.arctanh({0})", lambda g, out, x: [g / (1.0 - x * x)],
                domain="unit")
# d 2^x = 2^x ln 2, d expm1 x = e^x = expm1 x + 1
exp2 = unary("exp2", "np.exp2({0})", lambda g, out, x: [g * out * LN2],
             positive_result=True, facts=F.POSITIVE)
expm1 = unary("expm1", "np.expm1({0})", lambda g, out, x: [g * (out + 1.0)])
# d log2 x = 1 / (x ln 2), d log10 x = 1 / (x ln 10)
log2 = unary("log2", "np.log2({0})", lambda g, out, x: [g / (x * LN2)], domain="positive")
log10 = unary("log10", "np.log10({0})", lambda g, out, x: [g / (x * LN10)], domain="positive")
# d (1/x) = -1/x²; written as a float division (np.reciprocal of an int array is integer)
reciprocal = unary("reciprocal", "1.0 / {0}", lambda g, out, x: [-(g * out * out)],
                   domain="nonzero")
# angle conversions are linear
deg2rad = unary("deg2rad", "np.deg2rad({0})", lambda g, out, x: [g * (math.pi / 180.0)],
                linear_in=(0,))
rad2deg = unary("rad2deg", "np.rad2deg({0})", lambda g, out, x: [g * (180.0 / math.pi)],
                linear_in=(0,))


def _arctan2_vjp(g, out, y, x):
    """∂ atan2(y, x) / ∂y = x / (x² + y²), ∂ / ∂x = -y / (x² + y²)."""
    radius = x * x + y * y
    return [g * x / radius, -(g * y / radius)]


arctan2 = binary("arctan2", "np.arctan2({0}, {1})", _arctan2_vjp, left="nonzero",
                 right="nonzero", float_result=True)
# log(eᵃ + eᵇ): ∂/∂a = e^(a - out); log2(2ᵃ + 2ᵇ): ∂/∂a = 2^(a - out)
logaddexp = binary("logaddexp", "np.logaddexp({0}, {1})",
                   lambda g, out, a, b: [g * exp(a - out), g * exp(b - out)], float_result=True)
logaddexp2 = binary("logaddexp2", "np.logaddexp2({0}, {1})",
                    lambda g, out, a, b: [g * exp2(a - out), g * exp2(b - out)],
                    float_result=True)

__all__ = ["tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
           "exp2", "expm1", "log2", "log10", "reciprocal", "deg2rad", "rad2deg", "arctan2",
           "logaddexp", "logaddexp2"]
