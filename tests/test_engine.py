"""The rewrite engine: declared phases, the one rebuild loop, explain sharing the
reverse sweep's step."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.autodiff import sweeps
from symgrad.check import explain as explain_module
from symgrad.rewrite import RULESETS, engine, stability


def test_every_phase_is_registered_in_the_declared_order():
    assert tuple(engine.PHASES) != () and set(engine.PHASES) == set(engine.ORDER)
    kinds = [engine.PHASES[name].run is None for name in engine.ORDER]
    assert kinds == sorted(kinds, reverse=True)  # rule phases first, then graph passes
    assert RULESETS == engine.rule_sets() and RULESETS[-1] is stability.STABILITY
    assert engine.PHASES["specialization"].undoes == ("stability", "algebraic")


@pytest.mark.parametrize("phase, message", [
    (engine.Phase("fusion", run=lambda o, s: (o, s)), "not declared"),
    (engine.Phase("stability", rulesets=RULESETS, undoes=("specialization",)), "must run before"),
    (engine.Phase("loop batching", rulesets=RULESETS, run=lambda o, s: (o, s)), "not both"),
    (engine.Phase("loop batching"), "not both"),
])
def test_register_refuses_an_undeclared_or_misordered_phase(phase, message):
    before = dict(engine.PHASES)
    with pytest.raises(ValueError, match=message):
        engine.register(phase)
    assert engine.PHASES == before


def test_softmax_is_rewritten_both_ways_in_declared_phase_order():
    """Stability folds exp(log_softmax) into softmax; specialization, declared
    after it, builds exp(log_softmax) next to a log_softmax: the compiled function
    keeps the latter, simplify the former."""
    z = sg.matrix("z_phases", (2, 3))
    assert sg.simplify(sg.exp(sg.log_softmax(z, axis=1))) is sg.softmax(z, axis=1)
    source = sg.codegen([z], [sg.softmax(z, axis=1), sg.log_softmax(z, axis=1)])
    assert "_softmax(" not in source.replace("_log_softmax(", "") and "np.exp(" in source


def test_run_passes_goes_through_the_registered_passes(monkeypatch):
    seen = []
    for name in ("loop batching", "matrix chains", "specialization"):
        def run(outputs, order, name=name, original=engine.PHASES[name].run):
            seen.append(name)
            return original(outputs, order)
        monkeypatch.setitem(engine.PHASES, name, engine.Phase(name, run=run))
    x = sg.vector("x_passes", 3)
    sg.codegen([x], sg.exp(x))
    assert seen == ["loop batching", "matrix chains", "specialization"]


def test_rebuild_substitutes_rewrites_and_keeps_given_entries():
    x, y = sg.vector("x_rebuild", 3), sg.vector("y_rebuild", 3)
    top = sg.exp(x) + sg.sin(x)
    order = sg.toposort([top])
    new = engine.rebuild(order, substitute=lambda node, new: y if node is x else None)
    assert new[top] is sg.exp(y) + sg.sin(y) and sg.sin(x) in new
    cos_for_sin = lambda node: sg.cos(node.operands[0]) if node.op is sg.sin(x).op else None  # noqa: E731
    assert engine.rebuild(order, rewrite=cos_for_sin)[top] is sg.exp(x) + sg.cos(x)
    given = engine.rebuild(order, new={sg.exp(x): y})
    assert given[top] is y + sg.sin(x) and x not in given  # unchanged nodes are not listed
    assert sg.replace(top, {x: y}) is sg.exp(y) + sg.sin(y)


def test_explain_takes_its_local_derivatives_from_the_sweep_step(monkeypatch):
    """explain's local Jacobians come from ``send_adjoints``, the step ``grad`` runs."""
    calls = []
    step = sweeps.send_adjoints

    def counting(node, g, adjoints, relevant):
        calls.append(node)
        step(node, g, adjoints, relevant)
    monkeypatch.setattr(explain_module, "send_adjoints", counting)
    w = sg.vector("w_explain_step", 2)
    cost = sg.sum(sg.tanh(w) * w)
    report = sg.explain(cost, w, {"w_explain_step": np.array([0.5, -1.0])})
    assert report.local and calls
    t = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(report.gradient, (1 - t * t) * [0.5, -1.0] + t)
