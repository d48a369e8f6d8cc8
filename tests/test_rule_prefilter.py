"""The rewrite driver's rule prefilter (``RuleIndex.candidates``) only skips rules that
cannot match: normalizing with it gives the very graphs that trying every rule gives,
on random graphs, their gradients, and the cookbook-style cases."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.rewrite import COMPACT_RULESETS, RULESETS
from symgrad.rewrite.engine import normalize
from symgrad.rewrite.pattern import RuleIndex, index_rules
from strategies import float_inputs, graphs


class Unfiltered(RuleIndex):
    """Every rule of the node's op, then every op-agnostic one: no prefilter."""

    def candidates(self, node):
        return tuple(self.get(node.op, []) + self.get(None, []))


def _unfiltered(rulesets):
    index = Unfiltered()
    index.update(index_rules(rulesets))
    return index


def _same_normal_forms(outputs):
    for rulesets in (RULESETS, COMPACT_RULESETS):
        assert normalize(outputs, index_rules(rulesets)) == normalize(outputs, _unfiltered(rulesets))


@settings(max_examples=150)
@given(graphs(), st.data())
def test_the_prefilter_changes_no_normal_form(case, data):
    outputs = case.built or [case.out]
    wrt = float_inputs([case.out])
    _same_normal_forms(outputs + [sg.grad(sg.sum(case.out), w) for w in wrt[:2]])


def test_the_prefilter_skips_rules_that_cannot_match():
    x, y = sg.vector("x", 3), sg.vector("y", 3)
    node = sg.sigmoid(x) * sg.tanh(y)
    index = index_rules(RULESETS)
    names = {r.name for r in index.candidates(node)}
    assert "x * 1 = x" not in names and "0 * x = 0" not in names  # no constant operand
    assert "fold constants" not in names and "Σ cᵢ tᵢ: equal terms merged" not in names
    scaled = sg.sigmoid(x) * sg.constant(np.array([1.0, 2.0, 3.0]))  # a constant operand
    assert "x * 1 = x" in {r.name for r in index.candidates(scaled)}
    assert index.candidates(node) is index.candidates(sg.sigmoid(y) * sg.tanh(x))  # cached


@settings(max_examples=150)
@given(graphs(kind="scalar"), st.data())
def test_the_prefilter_changes_no_normal_form_of_scalar_graphs(case, data):
    """The ``scalars`` hint (rules that need an axis, or a constant operand, skipped on
    0-d nodes of 0-d operands) on graphs where every node is 0-d."""
    outputs = case.built or [case.out]
    wrt = float_inputs([case.out])
    _same_normal_forms(outputs + [sg.grad(case.out, w) for w in wrt[:2]])


def test_rules_that_need_an_axis_are_skipped_on_scalars():
    index = index_rules(RULESETS)
    a, b = sg.scalar("a"), sg.scalar("b")
    names = {r.name for r in index.candidates(sg.sigmoid(a) * (a * b))}
    assert "s (t X) = (s t) X" not in names and "x s = s x" not in names
    assert "x s = s x" in {r.name for r in index.candidates(sg.sigmoid(a) * 2.0)}
    v = sg.vector("v", 3)
    assert "s (t X) = (s t) X" in {r.name for r in index.candidates(sg.sigmoid(a) * (a * v))}


def test_rules_looking_two_levels_down_are_skipped_by_their_operands_operands():
    index = index_rules(RULESETS)
    a, b, c = sg.scalar("a"), sg.scalar("b"), sg.scalar("c")
    x_times_difference = sg.sigmoid(a) * (c - sg.sigmoid(b))  # no y / x in the difference
    names = {r.name for r in index.candidates(x_times_difference)}
    assert "x (y/x - z) = y - x z  (x != 0)" not in names
    with_quotient = sg.sigmoid(a) * (b / sg.sigmoid(a) - c)
    assert "x (y/x - z) = y - x z  (x != 0)" in {r.name for r in index.candidates(with_quotient)}


def test_names_bound_twice_need_one_op_and_folding_needs_every_operand_constant():
    """A pattern name bound twice binds one node, so both places need the same op: ``x - x``
    is no candidate for ``c - σ(z)``; folding needs every operand constant. The check
    backtracks through commutative operand orders: ``s x + x`` still matches
    ``σ(z) w + σ(z)`` with ``x`` the product's second operand."""
    z, w = sg.scalar("z_twice"), sg.scalar("w_twice")
    index = index_rules(RULESETS)
    names = {r.name for r in index.candidates(1.0 - sg.sigmoid(z))}
    assert "x - x = 0" not in names and "fold constants" not in names
    assert "x - x = 0" in {r.name for r in index.candidates(sg.sigmoid(z) - sg.sigmoid(w))}
    both = sg.constant(np.array([1.0, 2.0])) - sg.constant(np.array([3.0, 5.0]))
    assert "fold constants" in {r.name for r in index.candidates(both)}
    s = sg.sigmoid(z)
    node = s * w + s
    assert "s x + x = (s + 1) x" in {r.name for r in index.candidates(node)}
    assert sg.simplify(w * s + s) is (w + 1.0) * s
