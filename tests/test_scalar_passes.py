"""The graph passes that declare they change no Python float code
(``Phase(scalar_graphs=False)``, skipped by :mod:`symgrad.compile.scalar_code`) change
none: run on random all-scalar graphs and their gradients, each returns its input; and
the scalar source of the W4 chain is the one the passes would give."""
from hypothesis import given, settings

import symgrad as sg
from symgrad.compile import rolling, scalar_code
from symgrad.compile.emit import check_signature
from symgrad.compile.memory_plan import plan, read_counts, statement_order
from symgrad.rewrite import engine
from symgrad.ir.graph import inputs_of
from strategies import graphs

SKIPPED = [phase for phase in engine.PHASES.values() if phase.run and not phase.scalar_graphs]


def test_the_array_passes_are_declared_skipped():
    assert {phase.name for phase in SKIPPED} == {"loop batching", "specialization"}


def _unchanged_by_the_skipped_passes(inputs, outputs):
    _, outs, _, order = check_signature(inputs, outputs)
    if not scalar_code.is_scalar_graph(inputs, order):
        return False
    for phase in SKIPPED:
        kept, kept_order = phase.run(outs, order, backend="numpy")
        assert kept_order is order and all(a is b for a, b in zip(kept, outs)), phase.name
    return True


@settings(max_examples=150)
@given(graphs(kind="scalar"))
def test_skipped_passes_change_no_scalar_graph(case):
    inputs = inputs_of([case.out])
    if case.out.shape or any(x.shape or x.dtype != "float64" for x in inputs):
        return
    outputs = [case.out] + sg.grad(case.out, inputs)
    _unchanged_by_the_skipped_passes(inputs, outputs)
    _unchanged_by_the_skipped_passes(inputs, sg.simplify(outputs))


def test_the_chain_is_scalar_code_and_passes_would_not_change_it(monkeypatch):
    x = sg.scalar("x_chain_passes")
    ws = [sg.scalar(f"w{i}_chain_passes") for i in range(6)]
    u = x
    for w in ws:
        u = sg.sigmoid(w * u + 0.5) * (u - 2.0) / (1.0 + sg.exp(-w))
    inputs = [x] + ws
    outputs = [u] + sg.grad(u, inputs)
    assert _unchanged_by_the_skipped_passes(inputs, outputs)
    skipped = sg.function(inputs, outputs).executed_source
    monkeypatch.setattr(engine, "PHASES", {name: engine.Phase(
        phase.name, phase.rulesets, phase.run, phase.undoes, phase.per_backend)
        for name, phase in engine.PHASES.items()})  # every pass declared to run
    assert sg.function(inputs, outputs).executed_source == skipped


@settings(max_examples=60)
@given(graphs(kind="scalar"))
def test_the_plan_of_a_scalar_graph_is_its_read_counts(case):
    """The scalar compiler plans with ``read_counts`` only: for 0-d values that is the
    memory plan, nothing deleted and no buffer reused."""
    wrt = [x for x in inputs_of([case.out]) if x.dtype == "float64"]
    outputs = [case.out] + (sg.grad(case.out, wrt) if not case.out.shape else [])
    order = statement_order(outputs)
    if any(node.shape for node in order):
        return
    full = plan(order, outputs, inplace=False)
    assert full.uses == read_counts(order, outputs) and not full.dies_after and not full.reuse


def test_the_chain_compiles_to_two_statements_per_layer_and_a_short_docstring(monkeypatch):
    """The W4 chain's straight scalar module (loops not rolled): per layer one
    statement for σ and one for the backward product (every other node inlined into
    its one reader), and a docstring that lists the first ``DOC_INPUTS`` inputs and
    counts the rest."""
    monkeypatch.setattr(rolling, "MIN_RUN", 10 ** 9)
    d = 40
    x = sg.scalar("x_chain_doc")
    ws = [sg.scalar(f"w{i}_chain_doc") for i in range(d)]
    bs = [sg.scalar(f"b{i}_chain_doc") for i in range(d)]
    u = x
    for w, b in zip(ws, bs):
        u = sg.sigmoid(w * u + b)
    inputs = [x] + ws + bs
    f = sg.function(inputs, [u] + sg.grad(u, inputs))
    body = f.executed_source.split("def f(arguments):\n", 1)[1].splitlines()
    assert f._scalar and body[1].endswith("= arguments") and body[-1].startswith("    return ")
    assert len(body) - 3 == 2 * d  # and the docstring, the unpacking and the return
    doc = body[0]
    assert doc.count("() float64") == scalar_code.DOC_INPUTS
    assert f"and {len(inputs) - scalar_code.DOC_INPUTS} more" in doc
