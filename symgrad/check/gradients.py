"""Checking derivations: :func:`check_grad` tests symgrad's gradient against
central finite differences and against a hand derivation, and says where and
how a wrong hand derivation went wrong.

Everything is evaluated at random points (see :mod:`symgrad.check.sampling`: named
dimensions bound to small distinct sizes, each input drawn from a domain its
consumers accept). Errors are measured relative to the scale of the whole
array (``max |a - b| / max |a|, |b|``), so entries that happen to be near zero
do not produce spurious failures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autodiff.sweeps import grad
from ..compile.emit import function
from ..ir.graph import Node, as_node_list, describe, inputs_of, toposort
from ..rewrite.engine import replace
from ..ir.leaves import as_node, tensor
from .numeric import central_difference
from ..ops import broadcast_to, structure
from .sampling import FLOOR, check_options, choose_sizes, draw_point, infer_domains, mismatch
from ..ir.shapes import format_shape
from .slips import diagnose, mirror_candidates

#: Central differences are accurate to ~1e-8 relative; their checks use at least this rtol.
FD_RTOL = 1e-5
#: Attempts at drawing a point where the cost and its gradient are finite.
DRAWS = 20


@dataclass
class Comparison:
    """The gradient of one ``wrt`` against one reference, worst case over all trials."""

    against: str
    error: float
    ok: bool
    index: tuple = ()
    trial: int = 0
    value: float = 0.0
    reference: float = 0.0
    slip: str | None = None

    def describe(self, name: str) -> str:
        entry = f"{name}[{', '.join(map(str, self.index))}]" if self.index else name
        if self.error == np.inf and self.against == "expected":
            return f"vs expected: shapes differ  MISMATCH\n      likely slip: {self.slip}"
        verdict = "ok" if self.ok else "MISMATCH"
        text = f"vs {self.against}: max rel. error {self.error:.2e}  {verdict}"
        if not self.ok:
            text += (f"\n      worst at {entry} (trial {self.trial}): gradient "
                     f"{self.value:.6g}, {self.against} {self.reference:.6g}")
        if self.slip:
            label = "likely slip" if self.against == "expected" else "likely cause"
            text += f"\n      {label}: {self.slip}"
        return text


@dataclass
class WrtCheck:
    """Results for one ``wrt``: finite differences and, if given, the hand derivation."""

    wrt: Node
    shape: tuple
    finite_differences: Comparison
    expected: Comparison | None = None

    @property
    def name(self) -> str:
        text = self.wrt.name or str(self.wrt).replace("\n", "; ")
        return text if len(text) <= 40 else text[:37] + "..."

    @property
    def ok(self) -> bool:
        return self.finite_differences.ok and (self.expected is None or self.expected.ok)

    @property
    def max_error(self) -> float:
        return max(c.error for c in (self.finite_differences, self.expected) if c is not None)

    def __str__(self):
        lines = [f"  {self.name} {format_shape(self.wrt.shape)}:"]
        lines += [f"    {c.describe(self.name)}" for c in (self.finite_differences, self.expected)
                  if c is not None]
        return "\n".join(lines)


@dataclass
class GradReport:
    """What :func:`check_grad` found. Truthy when every comparison passed."""

    checks: list
    sizes: dict
    trials: int
    rtol: float
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.checks)

    @property
    def max_error(self) -> float:
        return max((c.max_error for c in self.checks), default=0.0)

    @property
    def max_fd_error(self) -> float:
        return max((c.finite_differences.error for c in self.checks), default=0.0)

    @property
    def max_expected_error(self) -> float | None:
        errors = [c.expected.error for c in self.checks if c.expected is not None]
        return max(errors) if errors else None

    def __bool__(self):
        return self.ok

    def __getitem__(self, key) -> WrtCheck:
        """The check of one ``wrt``, by position, name or node."""
        if isinstance(key, int):
            return self.checks[key]
        for check in self.checks:
            if check.wrt is key or check.wrt.name == key:
                return check
        raise KeyError(f"no wrt {key!r} in this report")

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items()) or "none named"
        head = (f"check_grad: {'OK' if self.ok else 'FAILED'} ({self.trials} random points; "
                f"sizes {sizes}; rtol {self.rtol:g})")
        return "\n".join([head] + [f"  problem: {p}" for p in self.problems]
                         + [str(c) for c in self.checks])

    __repr__ = __str__


def check_grad(cost, wrt, expected=None, trials: int = 5, rtol: float = 1e-6, seed: int = 0):
    """Check ``grad(cost, wrt)`` against central differences and ``expected``.

    ``expected`` is a node (or a list matching ``wrt``; ``None`` entries skip a
    ``wrt``), typically a hand derivation. Returns a :class:`GradReport`; a
    wrong derivation is reported, never raised. Misuse (a non-scalar cost,
    ``expected`` of the wrong shape or length, bad options) raises
    ``TypeError``/``ValueError`` naming the culprit.
    """
    check_options(rtol, trials=trials)
    wrts, single = as_node_list(wrt, "wrt")
    expecteds = _expected_list(expected, wrts, single)
    grads = grad(cost, wrts)
    plan = _Plan(cost, wrts, grads, expecteds)
    rng = np.random.default_rng(seed)
    runs, problems = [], []
    for _ in range(trials):
        run = plan.run(rng)
        if run is None:
            problems.append(f"no point with a finite cost and gradient in {DRAWS} draws "
                            f"({plan.failure}; sizes {plan.sizes}, domains {plan.domain_text()})")
            break
        runs.append(run)
    checks = [plan.summarize(i, runs, rtol) for i in range(len(wrts))] if runs else []
    return GradReport(checks, plan.sizes, trials, rtol, problems)


def _expected_list(expected, wrts, single) -> list:
    """One expected node (or None) per wrt, each of a shape that can be compared."""
    if expected is None:
        return [None] * len(wrts)
    listed = isinstance(expected, (list, tuple)) and (
        not single or any(isinstance(e, Node) for e in expected))  # else an array literal
    if not listed:
        expected = [expected]
    if len(expected) != len(wrts):
        raise ValueError(f"expected has {len(expected)} entries but wrt has {len(wrts)}")
    result = []
    for e, w in zip(expected, wrts):
        if e is not None:
            try:
                e = as_node(e)
            except TypeError as err:
                raise TypeError(f"expected for {describe(w)}: {err}") from None
            if e.ndim == 0 and w.ndim:
                e = broadcast_to(e, w.shape)  # e.g. expected=0
            transposed = (w.shape[::-1],) if w.ndim == 2 else ()  # reported as a slip
            if e.shape not in (w.shape,) + transposed:
                raise ValueError(f"expected for {describe(w)} has shape {format_shape(e.shape)}; "
                                 f"a gradient has the shape of its wrt, {format_shape(w.shape)}")
        result.append(e)
    return result


class _Plan:
    """The compiled programs of one check: values, gradients, expected, and the
    cost as a function of each ``wrt`` alone (for finite differences)."""

    def __init__(self, cost, wrts, grads, expecteds):
        self.wrts, self.expecteds = wrts, expecteds
        self.mirrors = [mirror_candidates(e) if e is not None else [] for e in expecteds]
        extra = [e for e in expecteds if e is not None]
        extra += [node for ms in self.mirrors for _, node in ms]
        outputs = [cost] + list(grads) + list(wrts) + extra
        self.inputs = inputs_of(outputs)
        self.program = function(self.inputs, outputs)
        self.standins = [w if w.op is structure.input_ else tensor(f"wrt {i}", w.shape)
                         for i, w in enumerate(wrts)]
        self.partials = [function(self.inputs + ([s] if s not in self.inputs else []),
                                  replace(cost, {w: s})) for w, s in zip(wrts, self.standins)]
        self.sizes = choose_sizes(outputs)
        self.domains = infer_domains(outputs)
        self.failure = ""
        self.kinks = sorted({n.op.name for n in toposort([cost]) if n.op.kink})

    def domain_text(self) -> str:
        return ", ".join(f"{n.name}: {d}" for n, d in self.domains.items())

    def run(self, rng):
        """Values at one random point where cost and gradients are finite (None: none found).

        A point where evaluation fails numerically (overflow, a singular
        matrix) is treated like a non-finite one: another point is drawn.
        """
        k = len(self.wrts)
        for _ in range(DRAWS):
            point = draw_point(self.domains, self.sizes, rng)
            values = [point[n] for n in self.inputs]
            try:
                results = [np.asarray(r, dtype=np.float64) for r in self.program(*values)]
            except (ArithmeticError, np.linalg.LinAlgError) as err:
                self.failure = f"{type(err).__name__}: {err}"
                continue
            if all(np.all(np.isfinite(r)) for r in results[:1 + 2 * k]):
                return self._finish(values, results)
            self.failure = "non-finite values"
        return None

    def _finish(self, values, results) -> dict:
        k = len(self.wrts)
        run = {"cost": float(results[0]), "grads": results[1:1 + k], "fd": []}
        for i, (standin, partial) in enumerate(zip(self.standins, self.partials)):
            args = values + ([results[1 + k + i]] if standin not in self.inputs else [])
            position = (self.inputs.index(standin) if standin in self.inputs else len(values))
            declared = standin.attrs.get("structure") is not None
            run["fd"].append(central_difference(partial, args, position, symmetric=declared))
        rest = iter(results[1 + 2 * k:])
        run["expected"] = [next(rest) if e is not None else None for e in self.expecteds]
        run["mirrors"] = [[next(rest) for _ in ms] for ms in self.mirrors]
        return run

    def summarize(self, i: int, runs: list, rtol: float) -> WrtCheck:
        grads = [r["grads"][i] for r in runs]
        noise = 1e-8 * max(1.0, max(abs(r["cost"]) for r in runs))
        fd_rtol = max(rtol, FD_RTOL)
        fd = _compare("finite differences", grads, [r["fd"][i] for r in runs], fd_rtol, noise)
        if not fd.ok:
            fd.slip = (f"the cost contains {', '.join(self.kinks)}: a random point may lie near "
                       "a kink" if self.kinks else "a wrong derivative rule in symgrad")
        check = WrtCheck(self.wrts[i], grads[0].shape, fd)
        if self.expecteds[i] is not None:  # judged against the best truth available
            truth = (grads, rtol, 0.0) if fd.ok else ([r["fd"][i] for r in runs], fd_rtol, noise)
            check.expected = self._compare_expected(i, runs, *truth)
        return check

    def _compare_expected(self, i, runs, grads, rtol, noise) -> Comparison:
        """``expected`` against the gradient values ``grads``, with the slip named."""
        expected = [r["expected"][i] for r in runs]
        flipped = self.expecteds[i].shape != self.wrts[i].shape
        if flipped:
            expected = [np.swapaxes(e, 0, 1) for e in expected]
        comparison = _compare("expected", grads, expected, rtol, noise)
        mirrors = {label: [r["mirrors"][i][j] for r in runs]
                   for j, (label, _) in enumerate(self.mirrors[i])}
        if flipped:
            rest = None if comparison.ok else diagnose(grads, expected, {}, rtol, self.sizes)
            comparison.ok, comparison.error = False, np.inf
            shapes = self.expecteds[i].shape, self.wrts[i].shape
            comparison.slip = (f"transposed: expected has shape {format_shape(shapes[0])}, "
                               f"the gradient {format_shape(shapes[1])}"
                               + (f"; and after transposing, {rest}" if rest else ""))
        elif not comparison.ok:
            comparison.slip = diagnose(grads, expected, mirrors, rtol, self.sizes)
        return comparison


def _compare(against: str, values: list, references: list, rtol: float, noise: float) -> Comparison:
    """Worst relative mismatch of ``values`` and ``references`` over the trials.

    A trial passes when ``max |a - b| <= rtol * scale + noise``; ``noise``
    allows for the rounding error of finite differences on a large cost.
    """
    worst, ok = None, True
    for trial, (a, b) in enumerate(zip(values, references)):
        diff, scale, index = mismatch(a, b)
        scale = max(scale, FLOOR)
        ok = ok and diff <= rtol * scale + noise
        if worst is None or diff / scale > worst.error:
            worst = Comparison(against, diff / scale, True, index, trial,
                               float(a[index]), float(b[index]))
    worst.ok = ok
    return worst


__all__ = ["check_grad", "GradReport", "WrtCheck", "Comparison"]
