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

SCIPY_HELPER = ("_scipy_special", '''
def _scipy_special(name):
    """``scipy.special.<name>``, or an ImportError saying that SciPy is needed."""
    try:
        from scipy import special
    except ImportError:
        raise ImportError(f"symgrad evaluates {name} with scipy.special.{name}, and SciPy "
                          "is not installed: pip install scipy") from None
    return getattr(special, name)
''')


def _scipy_unary(name: str, scipy_name: str, vjp, **fields):
    """An op lowered to ``scipy.special.<scipy_name>(x)`` through a helper ``_<name>``."""
    helper = (f"_{name}", f'''
def _{name}(x):
    """scipy.special.{scipy_name}(x), float64."""
    return _scipy_special({scipy_name!r})(x)
''')
    return unary(name, f"_{name}({{0}})", vjp, helpers=(SCIPY_HELPER, helper), **fields)


LOGIT_HELPER = ("_logit", '''
def _logit(p):
    """log(p / (1 - p)) as log(p) - log1p(-p): exact near 0, and near 1 (where 1 - p is)."""
    return np.log(p) - np.log1p(-p)
''')

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# logit = σ⁻¹: d logit(p) = 1 / (p (1 - p))
logit = unary("logit", "_logit({0})", lambda g, out, p: [g / (p * (1.0 - p))],
              domain="probability", helpers=(LOGIT_HELPER,),
              to_sympy=sympy_function(lambda sp: lambda p: sp.log(p) - sp.log(1 - p)),
              cli=(("node", None),))
# d erf x = 2/√π e^(-x²), d erfc x = -2/√π e^(-x²)
erf = _scipy_unary("erf", "erf", lambda g, out, x: [g * (TWO_OVER_SQRT_PI * exp(-(x * x)))],
                   to_sympy=sympy_function(lambda sp: sp.erf), from_sympy=lambda sp: sp.erf,
                   cli=(("node", None),))
erfc = _scipy_unary("erfc", "erfc",
                    lambda g, out, x: [-(g * (TWO_OVER_SQRT_PI * exp(-(x * x))))],
                    positive_result=True,
                    to_sympy=sympy_function(lambda sp: sp.erfc), from_sympy=lambda sp: sp.erfc,
                    cli=(("node", None),))
# d log|Γ(x)| = ψ(x), d ψ(x) = ψ⁽¹⁾(x), d ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁺¹⁾(x)
gammaln = _scipy_unary("gammaln", "gammaln", lambda g, out, x: [g * digamma(x)],
                       domain="positive",
                       to_sympy=sympy_function(lambda sp: sp.loggamma), from_sympy=lambda sp: sp.loggamma,
                       cli=(("node", None),))
digamma = _scipy_unary("digamma", "psi", lambda g, out, x: [g * polygamma(x, n=1)],
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
               helpers=(SCIPY_HELPER, ("_polygamma", '''
def _polygamma(x, n):
    """scipy.special.polygamma(n, x): the n-th derivative of digamma."""
    return _scipy_special("polygamma")(n, x)
''')),
               vjp=lambda g, out, x, n: [g * polygamma(x, n=n + 1)],
               jvp=lambda tangents, out, x, n: tangents[0] * polygamma(x, n=n + 1),
               elementwise=True, fresh=True,
               samples=lambda: [Sample((Spec(s[0], "positive"),), {"n": n})
                                for s, n in zip(UNARY_SAMPLES, (1, 2, 1))])

__all__ = ["logit", "erf", "erfc", "gammaln", "digamma", "polygamma"]
