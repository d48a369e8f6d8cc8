"""Are two expressions the same function? :func:`equivalent` answers with a
proof when it can, and with randomized testing otherwise.

A proof is symbolic: the two graphs simplify to the very same (interned) node,
or SymPy finds the two translations equal. Otherwise both graphs are evaluated
at several random points under several random bindings of the named
dimensions (a name-dependent identity that holds for n = 3 only is caught when
n = 5). Graphs of different shapes are never equivalent.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compile.emit import function
from ..ir.graph import inputs_of, toposort
from ..ir.leaves import as_node
from ..ops import is_constant
from .sampling import (FLOOR, check_options, choose_sizes, dimension_names, draw_point,
                       infer_domains, mismatch)
from ..ir.shapes import format_shape

#: Attempts at drawing a point where both expressions are finite.
DRAWS = 20
#: Graphs with more nodes than this are not handed to SymPy's simplifier (it can be slow).
SYMPY_LIMIT = 40


@dataclass
class EquivalenceReport:
    """Truthy when the two expressions are equal; ``method`` says how that was decided."""

    ok: bool
    method: str
    reason: str
    max_error: float = 0.0
    sizes: tuple = ()

    def __bool__(self):
        return self.ok

    def __str__(self):
        verdict = "equivalent" if self.ok else "NOT equivalent"
        return f"{verdict} ({self.method}): {self.reason}"

    __repr__ = __str__


def equivalent(a, b, trials: int = 5, bindings: int = 3, rtol: float = 1e-7,
               seed: int = 0) -> EquivalenceReport:
    """Whether nodes ``a`` and ``b`` are mathematically equal (see the module doc).

    ``trials`` random points for each of ``bindings`` random bindings of the
    named dimensions; values agree when ``max |a - b| <= rtol * scale``.
    """
    check_options(rtol, trials=trials, bindings=bindings)
    a, b = as_node(a), as_node(b)
    if a.shape != b.shape:
        return EquivalenceReport(False, "symbolic", f"shapes differ: {format_shape(a.shape)} "
                                 f"vs {format_shape(b.shape)}")
    proof = symbolic_proof(a, b)
    if proof is not None:
        return EquivalenceReport(True, "symbolic", proof)
    return _numeric(a, b, trials, bindings, rtol, seed)


def symbolic_proof(a, b) -> str | None:
    """How ``a`` and ``b`` were proven equal, or None when no proof was found."""
    if a is b:
        return "the two graphs are the same node"
    try:
        from ..rewrite import COMPACT_RULESETS, rewrite, simplify
    except ImportError:
        simplify = None
    if simplify is not None:
        sa, sb = simplify([a, b])
        if sa is sb:
            return "simplify(a) is simplify(b)"
        if a.dtype == b.dtype == "float64" and is_constant(simplify(sa - sb), 0):
            return "simplify(a - b) is 0"
        # the compact normal form folds transposes outward, (A B)ᵀ and Bᵀ Aᵀ alike
        ca, cb = rewrite([a, b], COMPACT_RULESETS)
        if ca is cb:
            return "both rewrite to one compact form"
    return _sympy_proof(a, b)


def _sympy_proof(a, b) -> str | None:
    """A proof through SymPy, or None. SymPy raises a zoo of exception types on
    expressions it cannot handle; any failure here only means "no proof", and
    the numeric test decides instead."""
    try:
        import sympy
        from ..bridges.sympy_export import to_sympy
        ea, eb = to_sympy(a), to_sympy(b)
        if ea == eb:
            return "to_sympy(a) == to_sympy(b)"
        small = len(toposort([a, b])) <= SYMPY_LIMIT
        if small and a.ndim == 0 and sympy.simplify(ea - eb) == 0:
            return "sympy.simplify(to_sympy(a) - to_sympy(b)) == 0"
    except Exception:  # noqa: BLE001  (see the docstring)
        return None
    return None


def _numeric(a, b, trials, bindings, rtol, seed) -> EquivalenceReport:
    rng = np.random.default_rng(seed)
    inputs = inputs_of([a, b])
    program = function(inputs, [a, b])
    domains = infer_domains([a, b])
    worst, tried = 0.0, []
    if not dimension_names([a, b]):
        bindings = 1  # every binding would be the same
    for k in range(bindings):
        sizes = choose_sizes([a, b], rng=None if k == 0 else rng)
        tried.append(sizes)
        for trial in range(trials if inputs else 1):
            values = _finite_values(program, inputs, domains, sizes, rng)
            if isinstance(values, str):
                return EquivalenceReport(False, "numeric", values, np.inf, tuple(tried))
            diff, scale, index = mismatch(*values)
            error = diff / max(scale, FLOOR)
            worst = max(worst, error)
            if error > rtol:
                reason = _differ_text(*values, index, error, sizes)
                return EquivalenceReport(False, "numeric", reason, error, tuple(tried))
    count = len(tried) * (trials if inputs else 1)
    return EquivalenceReport(True, "numeric", f"equal at {count} random points under "
                             f"{len(tried)} size bindings (max rel. error {worst:.1e})",
                             worst, tuple(tried))


def _finite_values(program, inputs, domains, sizes, rng):
    """(a, b) at a random point where both are finite, or a str saying why there is none."""
    failure = "non-finite values"
    for _ in range(DRAWS):
        point = draw_point(domains, sizes, rng)
        try:
            va, vb = (np.asarray(v, dtype=np.float64) for v in program(*[point[n] for n in inputs]))
        except (ArithmeticError, np.linalg.LinAlgError) as err:
            failure = f"{type(err).__name__}: {err}"
            continue
        if np.all(np.isfinite(va)) and np.all(np.isfinite(vb)):
            return va, vb
    return f"undecided: no random point in {DRAWS} draws where both are finite ({failure})"


def _differ_text(va, vb, index, error, sizes) -> str:
    entry = f"entry [{', '.join(map(str, index))}]" if index else "value"
    bound = ", ".join(f"{k}={v}" for k, v in sizes.items())
    va, vb = np.asarray(va, dtype=np.float64), np.asarray(vb, dtype=np.float64)
    return (f"they differ at a random point{f' with {bound}' if bound else ''}: {entry} "
            f"is {va[index]:.6g} vs {vb[index]:.6g} (rel. error {error:.2e})")


__all__ = ["equivalent", "EquivalenceReport", "symbolic_proof"]
