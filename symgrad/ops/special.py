"""SciPy's special functions that models use: ``logit``, ``erf``, ``erfc``, ``gammaln``
and, for its derivatives, ``digamma`` and ``polygamma``.

``logit`` lowers to NumPy alone. The others have no short, exact NumPy formula
(``math.erf`` is scalar-only; a rational approximation good to 1 ulp everywhere
is a library of its own), so the generated code calls ``scipy.special``,
imported when the function first runs: building, differentiating, printing and
compiling a graph need no SciPy, and without it a call raises an ImportError
naming SciPy. The generated module still imports only NumPy at its top.
"""
from __future__ import annotations

import math

from .base import Sample, Spec, broadcast_infer, op, sympy_function, unary, UNARY_SAMPLES
from .elementwise import exp
from . import runtime


def _scipy_unary(name: str, helper, vjp, **fields):
    """An op lowered to the run-time helper ``_<name>`` (a ``scipy.special`` call)."""
    return unary(name, f"{helper.__name__}({{0}})", vjp, helpers=(helper,), **fields)


TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# logit = σ⁻¹: d logit(p) = 1 / (p (1 - p))
logit = unary("logit", "_logit({0})", lambda g, out, p: [g / (p * (1.0 - p))],
              domain="probability", helpers=(runtime._logit,),
              to_sympy=sympy_function(lambda sp: lambda p: sp.log(p) - sp.log(1 - p)),
              cli=(("node", None),),
    array_api="xp.log({0}) - xp.log1p(-{0})")
# d erf x = 2/√π e^(-x²), d erfc x = -2/√π e^(-x²)
erf = _scipy_unary("erf", runtime._erf, lambda g, out, x: [g * (TWO_OVER_SQRT_PI * exp(-(x * x)))],
                   to_sympy=sympy_function(lambda sp: sp.erf), from_sympy=lambda sp: sp.erf,
                   cli=(("node", None),))
erfc = _scipy_unary("erfc", runtime._erfc,
                    lambda g, out, x: [-(g * (TWO_OVER_SQRT_PI * exp(-(x * x))))],
                    positive_result=True,
                    to_sympy=sympy_function(lambda sp: sp.erfc), from_sympy=lambda sp: sp.erfc,
                    cli=(("node", None),))
# d log|Γ(x)| = ψ(x), d ψ(x) = ψ⁽¹⁾(x), d ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁺¹⁾(x)
gammaln = _scipy_unary("gammaln", runtime._gammaln, lambda g, out, x: [g * digamma(x)],
                       domain="positive",
                       to_sympy=sympy_function(lambda sp: sp.loggamma), from_sympy=lambda sp: sp.loggamma,
                       cli=(("node", None),))
digamma = _scipy_unary("digamma", runtime._digamma, lambda g, out, x: [g * polygamma(x, n=1)],
                       domain="positive",
                       to_sympy=sympy_function(lambda sp: sp.digamma), from_sympy=lambda sp: sp.digamma,
                       cli=(("node", None),))


def _polygamma_prepare(x, n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise TypeError(f"polygamma: the order n must be an int >= 0, got {n!r}")
    return {"n": n}


polygamma = op("polygamma", infer=lambda x, n: broadcast_infer(x, float_result=True),
               prepare=_polygamma_prepare,
               fold=lambda x, n: digamma(x) if n == 0 else None,
               numpy="_polygamma({0}, {n})",
               helpers=(runtime._polygamma,),
               vjp=lambda g, out, x, n: [g * polygamma(x, n=n + 1)],
               jvp=lambda tangents, out, x, n: tangents[0] * polygamma(x, n=n + 1),
               elementwise=True, fresh=True,
               samples=lambda: [Sample((Spec(s[0], "positive"),), {"n": n})
                                for s, n in zip(UNARY_SAMPLES, (1, 2, 1))])

__all__ = ["logit", "erf", "erfc", "gammaln", "digamma", "polygamma"]
