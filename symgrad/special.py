"""``sg.special``: the functions of ``scipy.special`` that symgrad supports, under
SciPy's names and signatures (``expit``, ``logit``, ``erf``, ``erfc``, ``gammaln``,
``digamma``/``psi``, ``polygamma(n, x)``). ``sg.expit``, ``sg.logit``, ``sg.erf``,
``sg.erfc`` and ``sg.gammaln`` are the same functions.

Evaluating ``erf``, ``erfc``, ``gammaln``, ``digamma`` and ``polygamma`` needs SciPy
(see :mod:`symgrad.ops.special`); ``expit`` and ``logit`` are NumPy only. SciPy's
own ufuncs dispatch here too: ``scipy.special.erf(node)`` builds ``sg.erf(node)``.
"""
from __future__ import annotations

from .ir.graph import NUMPY_FUNCTIONS
from .ops import special as S
from .ir.leaves import as_node
from .ops import elementwise as E, reductions as R
from .ops.elementwise import sigmoid
from .api.reductions import logsumexp  # noqa: F401  (SciPy's signature: a, axis, b, keepdims, return_sign)

__all__ = ["expit", "logit", "erf", "erfc", "gammaln", "digamma", "psi", "polygamma",
           "logsumexp", "softmax", "log_softmax", "xlogy", "ndtr"]


def softmax(x, axis=None):
    """SciPy's ``softmax``: over every entry when ``axis`` is None (SciPy's default; ``sg.softmax``
    defaults to the last axis), else along ``axis`` (an int or a tuple)."""
    return _normalized(x, axis, log=False)


def log_softmax(x, axis=None):
    """SciPy's ``log_softmax`` (``axis=None``: over every entry): ``x - logsumexp(x)``."""
    return _normalized(x, axis, log=True)


def _normalized(x, axis, log: bool):
    x = as_node(x)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return (R.log_softmax if log else R.softmax)(x, axis=axis)
    shifted = x - logsumexp(x, axis=axis, keepdims=True)
    return shifted if log else E.exp(shifted)


def xlogy(x, y):
    """SciPy's ``xlogy``: ``x log(y)``, 0 where ``x == 0`` (also for y = 0), with a finite
    gradient there (the double-``where`` form)."""
    x, y = as_node(x), as_node(y)
    zero = E.equal(x, 0.0)
    return E.where(zero, 0.0, x * E.log(E.where(zero, 1.0, y)))


def ndtr(x):
    """SciPy's ``ndtr``: the standard normal CDF ½ erfc(-x/√2); derivative φ(x)."""
    return 0.5 * S.erfc(as_node(x) * (-0.5 ** 0.5))


def expit(x):
    """The logistic function 1 / (1 + e⁻ˣ) (SciPy's name for ``sg.sigmoid``)."""
    return sigmoid(x)


def logit(x):
    """log(x / (1 - x)), the inverse of ``expit``; derivative 1 / (x (1 - x))."""
    return S.logit(x)


def erf(z):
    """The error function 2/√π ∫₀ᶻ e^(-t²) dt; derivative 2/√π e^(-z²)."""
    return S.erf(z)


def erfc(x):
    """1 - erf(x), without the cancellation for large x."""
    return S.erfc(x)


def gammaln(x):
    """log|Γ(x)|; derivative ``digamma(x)``."""
    return S.gammaln(x)


def digamma(x):
    """ψ(x) = d log Γ(x) / dx; derivative ``polygamma(1, x)``."""
    return S.digamma(x)


psi = digamma


def polygamma(n, x):
    """ψ⁽ⁿ⁾(x), the n-th derivative of ``digamma`` (``n`` an int >= 0, SciPy's order of
    arguments); derivative ``polygamma(n + 1, x)``."""
    return S.polygamma(x, n=n)


# SciPy ufuncs without an op of their name: scipy.special.expit(node), psi(node).
NUMPY_FUNCTIONS.update({"expit": expit, "psi": digamma, "xlogy": xlogy, "ndtr": ndtr})
