"""The rewrite driver's known normal forms (issue 12's compile-time goal): a normal form
recorded on a node is the one normalizing it from scratch gives, simplifying a normal
form again walks none of its nodes, and a gradient of a simplified graph walks only the
nodes the gradient built. Structural tests (nodes walked, rules tried), no timings."""
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.ops.elementwise import add
from symgrad.rewrite import RULESETS, _INDEXES, P, Rule, RuleSet
from symgrad.rewrite.engine import known_normal_form, normalization, normalize
from symgrad.rewrite.pattern import index_rules
from strategies import float_inputs, graphs

INDEX = _INDEXES[RULESETS]
EXP = sg.exp(sg.scalar("a")).op


def chain(d: int, tag: str):
    x = sg.scalar(f"x_{tag}")
    u = x
    params = [x]
    for i in range(d):
        w, b = sg.scalar(f"w{i}_{tag}"), sg.scalar(f"b{i}_{tag}")
        params += [w, b]
        u = sg.sigmoid(w * u + b)
    return params, u


class Counting(type(INDEX)):
    """The default rule index, counting the nodes the driver asks for candidates."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked = 0

    def candidates(self, node):
        self.asked += 1
        return super().candidates(node)


def counting_index():
    index = Counting()
    index.update(index_rules(RULESETS))
    return index


def test_simplifying_a_normal_form_again_walks_only_its_outputs():
    params, cost = chain(40, "again")
    outputs = sg.simplify([cost] + sg.grad(cost, params))
    again = normalization(outputs, INDEX)
    assert again.results == outputs
    assert len(again.order) == len(set(outputs))  # the outputs, none of their operands
    index = counting_index()
    normalize(outputs, index)
    assert index.asked > 3 * 40  # a fresh index walks every node, the second time none
    before = index.asked
    assert normalize(outputs, index) == outputs and index.asked == before


def test_a_gradient_of_a_simplified_graph_walks_only_what_grad_built():
    A, x = sg.matrix("A_known", (3, 3)), sg.vector("x_known", 3)
    loss = sg.simplify(sg.sum(sg.exp(A @ x) * 1.0))
    assert loss is sg.sum(sg.exp(A @ x))
    gradient = sg.grad(loss, x)  # Aᵀ (1 ⊙ exp(A x)): reads exp(A x), not A x
    done = normalization([gradient], INDEX)
    walked = set(done.order)
    assert done.pruned and sg.exp(A @ x) in walked  # known: listed, as a leaf is
    assert A @ x not in walked  # beneath a known normal form: not walked
    assert done.results == normalize([gradient], index_rules(RULESETS))  # as from scratch


@settings(max_examples=120)
@given(graphs(), st.data())
def test_known_normal_forms_are_the_normal_forms_from_scratch(case, data):
    """Simplify a part of the graph first (recording its normal forms), then the whole
    with its gradients: the same nodes as a fresh index (nothing known) gives."""
    outputs = case.built or [case.out]
    part = data.draw(st.lists(st.sampled_from(outputs), max_size=3), label="part")
    normalize(part, INDEX)
    wrt = float_inputs([case.out])
    whole = outputs + [sg.grad(sg.sum(case.out), w) for w in wrt[:2]]
    assert normalize(whole, INDEX) == normalize(whole, index_rules(RULESETS))
    assert normalize(whole, INDEX) == normalize(whole, index_rules(RULESETS))  # known now


def test_a_cut_rule_cycle_records_no_normal_form():
    x, y = sg.vector("x_cycle", 3), sg.vector("y_cycle", 3)
    swap = Rule("x + y = y + x", P(add, P.var("a"), P.var("b")), lambda a, b: b + a)
    index = index_rules([RuleSet("cycle", [swap])])
    done = normalization([sg.exp(x + y)], index)
    assert done.cut
    assert known_normal_form(sg.exp(x + y), index.token) is None


def test_running_out_of_budget_records_no_normal_form():
    x = sg.vector("x_grow", 3)
    grow = Rule("exp(y) -> exp(1.5 y) (grows forever)", P(EXP, P.var("y")),
                lambda y: sg.exp(1.5 * y))
    index = index_rules([RuleSet("grow", [grow])])
    done = normalization([sg.exp(x)], index)
    assert done.budget <= 0
    assert known_normal_form(sg.exp(x), index.token) is None


def test_gradients_that_are_operands_of_other_gradients_are_freed():
    """grad's derivative marks hold the differentiated graph, never a result: the marks
    of a result that is an operand of another result (db of w x + b is an operand of dw)
    kept every W4 gradient graph alive before (a value holding its weak key)."""
    import gc
    import weakref
    from symgrad.ir.graph import DISPLAY_NAMES
    params, cost = chain(5, "freed")
    grads = sg.grad(cost, params)
    assert any(g in set(sg.toposort([h])) - {h} for g in grads for h in grads)
    dead = [weakref.ref(g) for g in grads if g.op is not sg.constant(1.0).op]
    named = len(DISPLAY_NAMES)
    del grads
    gc.collect()
    assert all(r() is None for r in dead) and len(DISPLAY_NAMES) < named


def test_simplify_walks_the_chain_once_and_tries_under_one_rule_per_node(monkeypatch):
    """The W4 chain's default path: one toposort in simplify (it also gives the budget
    and the input's size; an unchanged result is not counted again) and, with the
    prefilter's hints, fewer than one rule tried per node (2.4 before)."""
    from symgrad.rewrite import engine, pattern
    params, cost = chain(30, "walks")
    outputs = [cost] + sg.grad(cost, params)
    walks, tries = [], []
    real_toposort, real_apply = engine.toposort, pattern.Rule.apply
    monkeypatch.setattr(engine, "toposort", lambda *a, **k: walks.append(1) or real_toposort(*a, **k))
    monkeypatch.setattr("symgrad.rewrite.op_count", lambda nodes: 1 / 0)  # never needed
    monkeypatch.setattr(pattern.Rule, "apply", lambda rule, node: tries.append(rule) or
                        real_apply(rule, node))
    assert sg.simplify(outputs) == outputs
    assert len(walks) == 1
    assert len(tries) < len(sg.toposort(outputs))


@settings(max_examples=100)
@given(graphs(), st.data())
def test_walking_the_callers_order_gives_the_same_normal_forms(case, data):
    """sg.function hands simplify its statement order (outputs completed last first):
    the normal forms are those of the driver's own walk."""
    from symgrad.rewrite import simplify_walking
    outputs = case.built or [case.out]
    wrt = float_inputs([case.out])
    whole = outputs + [sg.grad(sg.sum(case.out), w) for w in wrt[:2]]
    order = sg.toposort(whole[::-1] + wrt)
    fresh = index_rules(RULESETS)
    assert normalization(whole, fresh, order).results == normalize(whole, index_rules(RULESETS))
    assert simplify_walking(whole, order) == sg.simplify(whole)


def test_a_walk_that_cuts_a_rule_cycle_is_made_again_in_the_drivers_order():
    x, y = sg.vector("x_order", 3), sg.vector("y_order", 3)
    swap = Rule("x + y = y + x", P(add, P.var("a"), P.var("b")), lambda a, b: b + a)
    outputs = [sg.exp(x + y), sg.sin(y + x)]
    index = index_rules([RuleSet("cycle", [swap])])
    done = normalization(outputs, index, sg.toposort(outputs[::-1]))
    assert done.cut and done.order == sg.toposort(outputs)  # the driver's own walk
    assert done.results == normalize(outputs, index_rules([RuleSet("cycle", [swap])]))
