"""Recognizing the usual slips in a hand-derived gradient.

Given the true gradient G and a hand derivation E evaluated at the same random
points, each test below asks whether one simple relation explains the
difference, and :func:`diagnose` names the first that does:

- E = c G for one constant c: a sign flip (c = -1) or a lost constant, such as
  the 2 from the two paths through ``A`` and ``Aᵀ`` in ``logdet(A Aᵀ)``;
- E = Gᵀ (possibly times c): the derivation is transposed;
- G = E + Eᵀ, or G = E + E[M → Mᵀ] for a square input M of E: a missing
  symmetric term, e.g. ``A x`` for ``∇ₓ xᵀ A x = (A + Aᵀ) x``.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..ir.graph import Node, inputs_of
from ..rewrite.engine import replace
from .sampling import FLOOR

#: At most this many square inputs are tried as the missing symmetric term.
MIRRORS = 4


def fit_factor(x: list, y: list, tol: float) -> float | None:
    """The constant c with y ≈ c x at every point, or None when no single c fits."""
    xs = np.concatenate([np.ravel(a) for a in x])
    ys = np.concatenate([np.ravel(b) for b in y])
    if xs.shape != ys.shape or not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        return None
    norm = float(xs @ xs)
    if norm == 0.0:
        return None
    c = float(xs @ ys) / norm
    scale = max(float(np.max(np.abs(ys))), abs(c) * float(np.max(np.abs(xs))), FLOOR)
    return c if float(np.max(np.abs(ys - c * xs))) <= tol * scale else None


def _number(x: float) -> str:
    """``x`` as a short fraction (1/2, 3) when it is one, else 6 digits."""
    fraction = Fraction(x).limit_denominator(64)
    if abs(float(fraction) - x) <= 1e-9 * max(1.0, abs(x)):
        return str(fraction)
    return f"{x:.6g}"


def _size_hint(k: float, sizes: dict) -> str:
    names = [name for name, size in sizes.items() if abs(size - k) <= 1e-9 * k]
    if not names:
        return ""
    return f"; {_number(k)} is the size of dimension {' or '.join(names)} here"


def factor_message(c: float, sizes: dict, tol: float = 1e-6) -> str | None:
    """Describe ``expected = c × gradient`` (None when c is 1)."""
    if abs(c - 1.0) <= tol:
        return None
    if abs(c) <= tol:
        return "expected is zero where the gradient is not"
    if abs(c + 1.0) <= tol:
        return "sign flipped: expected = -gradient"
    text = ("sign flipped and " if c < 0 else "") + \
        f"off by a constant factor: expected = {_number(c)} × gradient"
    magnitude = abs(c)
    if magnitude < 1:
        return text + f" (a factor of {_number(1 / magnitude)} is missing" + \
            _size_hint(1 / magnitude, sizes) + ")"
    return text + f" (an extra factor of {_number(magnitude)}" + _size_hint(magnitude, sizes) + ")"


def mirror_candidates(expected: Node) -> list:
    """[(label, E with M replaced by Mᵀ)] for the square float inputs M of E."""
    result = []
    for m in inputs_of([expected]):
        if m.ndim == 2 and m.shape[0] == m.shape[1] and m.dtype == "float64":
            mirrored = replace(expected, {m: m.T})
            if mirrored is not expected:
                result.append((f"{m.name} replaced by {m.name}ᵀ", mirrored))
    return result[:MIRRORS]


def _transposed(grads: list, expected: list, tol: float, sizes: dict) -> str | None:
    if not all(g.ndim == 2 and g.T.shape == e.shape for g, e in zip(grads, expected)):
        return None
    c = fit_factor([g.T for g in grads], expected, tol)
    if c is None:
        return None
    rest = factor_message(c, sizes)
    text = "transposed: expected is the transpose of the gradient"
    return text + (f", and {rest}" if rest else "")


def _missing_symmetric(grads: list, expected: list, mirrors: dict, tol: float) -> str | None:
    candidates = {}
    if all(e.ndim == 2 and e.shape == e.T.shape for e in expected):
        candidates["expectedᵀ"] = [e.T for e in expected]
    candidates.update({f"(expected with {label})": values for label, values in mirrors.items()})
    for label, values in candidates.items():
        c = fit_factor([e + v for e, v in zip(expected, values)], grads, tol)
        if c is not None and abs(c - 1.0) <= 1e-6:
            return f"missing the symmetric term: the gradient is expected + {label}"
    return None


def diagnose(grads: list, expected: list, mirrors: dict, rtol: float, sizes: dict) -> str | None:
    """Name the slip that turns ``grads`` into ``expected`` (lists over trials), if any.

    ``mirrors`` maps a label to the values of E with one input transposed.
    """
    tol = max(10 * rtol, 1e-9)
    c = fit_factor(grads, expected, tol)
    if c is not None:
        return factor_message(c, sizes)
    return _transposed(grads, expected, tol, sizes) or _missing_symmetric(grads, expected,
                                                                          mirrors, tol)


__all__ = ["diagnose", "fit_factor", "factor_message", "mirror_candidates"]
