"""The rewrite engine: declared phases, one rebuild loop, and the fixpoint driver.

**Phases.** Every rewrite of a graph belongs to one phase, and :data:`ORDER`
declares the order they run in: the rule-table phases (algebraic
simplification, closed forms, stability; ``symgrad.rewrite`` registers them)
are normalized *together* to one fixpoint, their rule groups tried in phase
order (the first rule that applies wins), by :func:`symgrad.simplify`; then
the compiler's graph passes (loop batching, compile-time specialization;
``symgrad.compile`` registers them, being the layer above) run once each, in
order, by :func:`run_passes`. A phase that rewrites in the direction opposite
to an earlier one names it in ``undoes`` (specialization builds
``exp(log_softmax(z))``, which stability folds back into ``softmax(z)``), and
:func:`register` refuses it unless that phase comes first in :data:`ORDER`:
the pair is consistent by declaration, not by accident of call order.

**One rebuild loop.** :func:`rebuild` walks a topological order and rebuilds
each node on its operands' new nodes, substituting or rewriting on the way;
:func:`replace` (``sg.replace``), the compiler's passes and the driver below
all rebuild through it (or, for the driver, its per-node step :func:`rebuilt`).

**The fixpoint driver** (:func:`normalize`): rebuild bottom-up, rewrite each
node until no rule fires.

Every node is first rebuilt on its operands' normal forms, then the rules
indexed under its op (and the op-agnostic ones) are tried in order. When a
rule fires, its replacement is itself normalized the same way (its new
subnodes included) before being recorded, so every node of the result is a
fixpoint of the whole rule table. The walk uses an explicit stack (graphs can
have 10^5 nodes) and a memo from node to normal form, so each distinct node
is normalized once: the cost is linear in the graph times the rules per op.

A rule cycle (``a -> b -> ... -> a``) is cut by keeping the node being
normalized as its own normal form when the chain comes back to it; a rule
table that diverges without cycling (each rewrite building a new, larger
node) is cut by a budget of rewrites proportional to the input size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..ir.graph import (_SET_NORMAL_FORM, _SET_NORMAL_TOKEN, DISPLAY_NAMES, Node, as_node_list,
                        gc_paused, toposort)
from ..ops.structure import constant, input_

# Phases ----------------------------------------------------------------------------

#: Every phase, in the order it runs (rule-table phases first, then graph passes).
ORDER = ("algebraic", "closed forms", "stability", "loop batching", "matrix chains",
         "specialization")


@dataclass(frozen=True)
class Phase:
    """A phase: rule groups (``rulesets``, normalized with the other rule phases')
    or a graph pass ``run(outputs, order) -> (outputs, order)``, where ``order``
    is the statement order of ``outputs``; ``undoes`` names earlier phases whose
    rewrites this one reverses; ``per_backend``: the pass's ``run`` also takes the
    ``backend`` compiled for (it applies only what is valid there); ``scalar_graphs``
    false: the pass provably changes no graph whose every node is 0-d of an op with
    a ``scalar`` lowering (its rules need an array or an op without one), so the
    Python float compiler (:mod:`symgrad.compile.scalar_code`) skips it
    (tests/test_scalar_passes.py runs it on such graphs: nothing changes)."""

    name: str
    rulesets: tuple = ()
    run: Optional[Callable] = None
    undoes: tuple = ()
    per_backend: bool = False
    scalar_graphs: bool = True


#: name -> registered Phase (symgrad.rewrite and symgrad.compile fill it at import).
PHASES: dict = {}


def register(phase: Phase) -> Phase:
    """Add ``phase`` (its name declared in :data:`ORDER`; a pass after every rule
    phase; every phase it ``undoes`` declared before it)."""
    if phase.name not in ORDER:
        raise ValueError(f"phase {phase.name!r} is not declared in ORDER {ORDER}")
    position = ORDER.index(phase.name)
    for earlier in phase.undoes:
        if earlier not in ORDER or ORDER.index(earlier) >= position:
            raise ValueError(f"phase {phase.name!r} undoes {earlier!r}, which must run before it")
    if (phase.run is None) == (not phase.rulesets):
        raise ValueError(f"phase {phase.name!r} needs either rule groups or a pass, not both")
    PHASES[phase.name] = phase
    return phase


def _registered(rule_phases: bool) -> list:
    return [PHASES[n] for n in ORDER if n in PHASES and (PHASES[n].run is None) == rule_phases]


def rule_sets() -> tuple:
    """The rule groups of the rule phases, in phase order (= priority order)."""
    return tuple(ruleset for phase in _registered(True) for ruleset in phase.rulesets)


def run_passes(outputs: list, order: list, backend: str = "numpy", scalar: bool = False) -> tuple:
    """(outputs, statement order) after every registered graph pass, in :data:`ORDER`,
    each as valid for ``backend``; ``scalar``: the graph is Python float code's (every
    node 0-d, of an op with a ``scalar`` lowering), and the passes that declare they
    change no such graph (``Phase.scalar_graphs``) are skipped."""
    for phase in _registered(False):
        if scalar and not phase.scalar_graphs:
            continue
        if phase.per_backend:
            outputs, order = phase.run(outputs, order, backend=backend)
        else:
            outputs, order = phase.run(outputs, order)
    return outputs, order


# The rebuild loop ----------------------------------------------------------------------

def rebuilt_on(node: Node, new: dict) -> Node:
    """``node`` on its operands' new nodes (``new`` maps changed nodes; the node
    itself when none of its operands changed)."""
    if not new or not node.operands:
        return node
    operands = tuple(new.get(o, o) for o in node.operands)
    if all(a is b for a, b in zip(operands, node.operands)):
        return node
    return node.op(*operands, **node.attrs)


def rebuild(order, substitute=None, rewrite=None, new: Optional[dict] = None) -> dict:
    """The rebuild loop: ``new``, {node: its new node} for the nodes of ``order``
    (operands before users) that change. A node already in ``new`` keeps its
    entry (a substitution given in advance); else ``substitute(node, new)``, when
    not None, replaces it; else it is rebuilt on its operands' new nodes and
    ``rewrite(rebuilt)``, when not None, replaces that."""
    new = {} if new is None else new
    for node in order:
        if node in new:
            continue
        result = None if substitute is None else substitute(node, new)
        if result is None:
            result = rebuilt_on(node, new)
            if rewrite is not None:
                replacement = rewrite(result)
                result = result if replacement is None else replacement
        if result is not node:
            new[node] = result
    return new


def replace(outputs, mapping: dict):
    """Rebuild ``outputs`` with nodes substituted per ``mapping`` (iterative)."""
    nodes, single = as_node_list(outputs, "outputs")
    new = rebuild(toposort(nodes), new=dict(mapping))
    result = [new.get(n, n) for n in nodes]
    return result[0] if single else result


# The fixpoint driver -------------------------------------------------------------------

_VISIT, _DONE, _FINISH = 0, 1, 2
#: Rewrites allowed per node of the input before the driver stops rewriting.
BUDGET_PER_NODE = 50


def _first_rewrite(node: Node, index):
    for rule in index.candidates(node):  # its op's rules, then the op-agnostic ones
        result = rule.apply(node)
        if result is not None:
            return result
    return None


def normalize(outputs, index: dict) -> list:
    """Normal forms of ``outputs`` under the indexed rules (see module doc).
    A display name (``node.named``, ``d_W1``) passes to the normal form of its
    node when that has none, so generated source keeps the user's names."""
    return normalization(outputs, index).results


def normalization(outputs, index: dict, order=None) -> "_Normalizer":
    """The finished normalization of ``outputs``: its ``results``; ``order``, the
    toposort it walked (the whole graph of ``outputs`` when ``pruned`` is false, so
    a caller need not walk it again). ``order``, when given: a topological order of
    the whole graph of ``outputs`` to walk; normal forms do not depend on the walk
    unless a rule cycle was cut or the budget ran out, and then the driver's own
    walk is made again, so the results are the same as without it."""
    with gc_paused():  # (10^5 nodes: no collection walking them while they are built)
        normalizer = _Normalizer(index, outputs, order)
        normalizer.results = normalizer.run()
        if order is not None and (normalizer.cut or normalizer.budget <= 0):
            normalizer = _Normalizer(index, outputs)
            normalizer.results = normalizer.run()
        _pass_display_names(normalizer)
    return normalizer


def _pass_display_names(normalizer: "_Normalizer") -> None:
    """Each display name to its node's normal form, when that has none (the first
    named node, in the table's order, wins)."""
    memo, token, pruned = normalizer.memo, normalizer.token, normalizer.pruned
    passed = []  # the table must not grow while it is iterated
    for node, label in DISPLAY_NAMES.items():
        normal = memo.get(node)
        if normal is None and pruned:  # maybe beneath a node whose normal form was known
            normal = known_normal_form(node, token)
        if normal is not None and normal is not node and normal.op not in (constant, input_):
            passed.append((normal, label))
    for normal, label in passed:
        if normal not in DISPLAY_NAMES:
            DISPLAY_NAMES[normal] = label


def known_normal_form(node: Node, token):
    """``node``'s normal form under the rule index of ``token``, when an earlier
    normalization recorded it on the node (None: not known)."""
    if token is None or node._normal_token is not token:
        return None
    normal = node._normal_form
    if node._normal_token is not token:  # another thread recorded another index's meanwhile
        return None
    return node if normal is None else normal


class _Normalizer:
    """One normalization: the memo (node -> normal form), the explicit stack, and
    a rewrite budget that stops a diverging rule table (every rewrite is an
    equivalence, so stopping early still gives a correct, merely less simple graph).

    The nodes of the input are settled in their toposort (the order a depth-first
    walk from the outputs finishes them), each on its operands' normal forms: a
    node no rule can match, on unchanged operands, costs one candidate lookup. The
    explicit stack only normalizes the replacements rules build.

    **Known normal forms.** Nodes are immutable and interned, so a node's normal
    form under a rule index is a fact of the node: a normalization that finished
    without cutting a rule cycle or running out of budget (the only context its
    results depend on) records every normal form it found on its nodes
    (``Node._normal_form``, under the index's ``token``), and a later one does not
    walk beneath a node whose normal form is known: simplifying a normal form again
    visits its outputs only, and a gradient of a simplified graph walks the new
    nodes only."""

    def __init__(self, index: dict, outputs, order=None):
        self.index = index
        self.token = token = getattr(index, "token", None)
        self.outputs = list(outputs)
        self.memo: dict = {}
        self.active: set = set()
        self.stack: list = []
        self.cut = False  # a rule cycle was cut: the normal forms depend on the walk
        self.pruned = False  # some node of order has a known normal form

        def known(node):
            return node._normal_token is token
        if order is None:
            order = toposort(self.outputs, stop=known if token is not None else None)
        self.order = order
        self.budget = BUDGET_PER_NODE * len(self.order) + 1000
        self.results: list = []

    def run(self) -> list:
        memo, candidates, token = self.memo, self.index.candidates, self.token
        for node in self.order:
            if node in memo:  # reached already as part of a rule's replacement
                continue
            if node._normal_token is token:
                normal = known_normal_form(node, token)
                if normal is not None:
                    memo[node] = normal
                    self.pruned = True
                    continue
                self.stack.append((_VISIT, node, None))  # (overwritten meanwhile: walk it)
                self.drain()
                continue
            operands = node.operands
            rebuilt = node
            for o in operands:
                if memo[o] is not o:  # rebuilt on its operands' normal forms
                    rebuilt = node.op(*[memo[o] for o in operands], **node.attrs)
                    normal = memo.get(rebuilt)
                    break
            else:
                normal = None
            if normal is not None:
                memo[node] = normal
                continue
            result = None
            if self.budget > 0:
                for rule in candidates(rebuilt):  # its op's rules, then the op-agnostic ones
                    result = rule.apply(rebuilt)
                    if result is not None:
                        break
            if result is None:  # no rule applies: a normal form
                memo[node] = memo[rebuilt] = rebuilt
            elif result in memo:
                memo[node] = memo[rebuilt] = memo[result]
            else:
                self.schedule(node, rebuilt, result)
                self.drain()
        if token is not None and not self.cut and self.budget > 0:
            for node, normal in memo.items():  # token cleared first: see known_normal_form
                _SET_NORMAL_TOKEN(node, None)
                _SET_NORMAL_FORM(node, None if normal is node else normal)
                _SET_NORMAL_TOKEN(node, token)
        return [memo[node] for node in self.outputs]

    def drain(self) -> None:
        """Normalize what :meth:`settle` scheduled (a replacement and its new subnodes)."""
        memo, stack = self.memo, self.stack
        while stack:
            kind, node, pending = stack.pop()
            if kind == _FINISH:
                rebuilt, result = pending
                self.active.discard(rebuilt)
                memo[node] = memo[rebuilt] = memo[result]
            elif node in memo:
                continue
            elif kind == _VISIT:
                stack.append((_DONE, node, None))
                stack.extend((_VISIT, o, None) for o in reversed(node.operands) if o not in memo)
            else:
                self.settle(node)

    def settle(self, node: Node) -> None:
        """Record ``node``'s normal form, or schedule the normalization of its rewrite."""
        memo = self.memo
        rebuilt = rebuilt_on(node, memo)
        if rebuilt in memo:
            memo[node] = memo[rebuilt]
            return
        result = None
        if rebuilt in self.active:
            self.cut = True
        elif self.budget > 0:
            result = _first_rewrite(rebuilt, self.index)
        if result is None:
            memo[node] = memo[rebuilt] = rebuilt
        elif result in memo:
            memo[node] = memo[rebuilt] = memo[result]
        else:
            self.schedule(node, rebuilt, result)

    def schedule(self, node: Node, rebuilt: Node, result: Node) -> None:
        """Normalize ``result``, the rewrite of ``rebuilt`` (``node`` on its operands'
        normal forms), then record its normal form as theirs."""
        self.budget -= 1
        self.active.add(rebuilt)
        self.stack.append((_FINISH, node, (rebuilt, result)))
        self.stack.append((_VISIT, result, None))
