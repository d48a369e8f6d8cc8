"""Graph rewriting: rules as data, the engine's phases, and ``simplify``.

``pattern.py`` holds the pattern language and :class:`Rule`/:class:`RuleSet`;
``engine.py`` the declared phases, the one rebuild loop and the bottom-up
fixpoint driver; the theme modules hold the rule tables of the rule phases
registered here: *algebraic* (``algebra``: folding, neutral elements, signs,
like terms; ``linalg``: transpose and trace algebra, identities), *closed
forms* (``closed_forms``) and *stability* (``stability``). :func:`simplify`
applies all of them and never returns a larger graph than it was given.
"""
from __future__ import annotations

from ..ir.graph import as_node_list, op_count
from . import algebra, closed_forms, linalg, stability
from .engine import Phase, normalization, normalize, register, rule_sets
from .pattern import P, Pat, Rule, RuleSet, index_rules, match

register(Phase("algebraic", rulesets=algebra.RULESETS + linalg.RULESETS))
register(Phase("closed forms", rulesets=closed_forms.RULESETS))
register(Phase("stability", rulesets=stability.RULESETS))

#: Every rule group, in phase order = priority order (the first rule that applies wins).
RULESETS = rule_sets()
#: The same with transposes folded outward (``Aᵀ Bᵀ -> (B A)ᵀ``) rather than pushed to the
#: leaves: what ``simplify`` uses when the human form would be larger than its input.
COMPACT_RULESETS = RULESETS + (linalg.COMPACT,)


def rewrite(nodes, rulesets=RULESETS):
    """``nodes`` rewritten to a fixpoint of ``rulesets`` (a node or a list, like the input)."""
    outputs, single = as_node_list(nodes, "nodes")
    result = normalize(outputs, index_rules(rulesets))
    return result[0] if single else result


def simplify(node_or_nodes):
    """An equivalent, never larger graph: folded, collected, in closed form.

    Applies every rule group to a fixpoint, transposes pushed to the leaves
    as the Matrix Cookbook writes them. The rules are written to remove nodes
    or keep their count, but a rewrite that pays off locally can cost a node
    when its operands are shared elsewhere (``(A B)ᵀ -> Bᵀ Aᵀ`` with ``A B``
    still used); if the whole result has more op nodes than the input, the
    compact rules (transposes folded outward, :data:`COMPACT_RULESETS`) are
    tried instead, and if that is larger too the input is returned unchanged. Returns a node for a node and a list
    for a list.
    """
    outputs, single = as_node_list(node_or_nodes, "simplify's argument")
    result = simplify_walking(outputs)
    return result[0] if single else result


def simplify_walking(outputs: list, order=None) -> list:
    """:func:`simplify` of the list ``outputs``; ``order``, when the caller has one, a
    topological order of their whole graph for the rewrite driver to walk (the one
    ``sg.function`` compiles in) instead of a toposort of its own: the same normal
    forms (the driver walks its own order again when a rule cycle or its budget
    makes them depend on the walk)."""
    result = outputs
    size = None
    for rulesets in (RULESETS, COMPACT_RULESETS) if outputs else ():
        done = normalization(outputs, _INDEXES[rulesets], order)
        candidate = done.results
        if all(a is b for a, b in zip(candidate, outputs)):
            result = candidate
            break
        if size is None:  # the input's size, from the driver's walk when it was whole
            size = op_count(outputs) if done.pruned else sum(1 for n in done.order
                                                               if not n.op.leaf)
        if op_count(candidate) <= size:
            result = candidate
            break
    return result


_INDEXES = {rulesets: index_rules(rulesets) for rulesets in (RULESETS, COMPACT_RULESETS)}


__all__ = ["P", "Pat", "Rule", "RuleSet", "RULESETS", "COMPACT_RULESETS", "match", "rewrite", "simplify"]
