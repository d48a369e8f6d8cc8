"""The fixpoint driver: rebuild bottom-up, rewrite each node until no rule fires.

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

from ..ir.graph import DISPLAY_NAMES, Node, toposort
from ..ops.structure import constant, input_

_VISIT, _DONE, _FINISH = 0, 1, 2
#: Rewrites allowed per node of the input before the driver stops rewriting.
BUDGET_PER_NODE = 50


def _first_rewrite(node: Node, index: dict):
    for rule in index.get(node.op.name, ()):
        result = rule.apply(node)
        if result is not None:
            return result
    for rule in index.get(None, ()):
        result = rule.apply(node)
        if result is not None:
            return result
    return None


def _rebuild(node: Node, memo: dict) -> Node:
    operands = tuple(memo[o] for o in node.operands)
    if all(a is b for a, b in zip(operands, node.operands)):
        return node
    return node.op(*operands, **node.attrs)


def normalize(outputs, index: dict) -> list:
    """Normal forms of ``outputs`` under the indexed rules (see module doc).
    A display name (``node.named``, ``d_W1``) passes to the normal form of its
    node when that has none, so generated source keeps the user's names."""
    normalizer = _Normalizer(index, outputs)
    results = normalizer.run()
    memo = normalizer.memo
    for node, label in list(DISPLAY_NAMES.items()):
        normal = memo.get(node)
        if normal is not None and normal is not node and normal not in DISPLAY_NAMES \
                and normal.op not in (constant, input_):
            DISPLAY_NAMES[normal] = label
    return results


class _Normalizer:
    """One normalization: the memo (node -> normal form), the explicit stack, and
    a rewrite budget that stops a diverging rule table (every rewrite is an
    equivalence, so stopping early still gives a correct, merely less simple graph)."""

    def __init__(self, index: dict, outputs):
        self.index = index
        self.outputs = list(outputs)
        self.memo: dict = {}
        self.active: set = set()
        self.stack = [(_VISIT, node, None) for node in reversed(self.outputs)]
        self.budget = BUDGET_PER_NODE * len(toposort(self.outputs)) + 1000

    def run(self) -> list:
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
        return [memo[node] for node in self.outputs]

    def settle(self, node: Node) -> None:
        """Record ``node``'s normal form, or schedule the normalization of its rewrite."""
        memo = self.memo
        rebuilt = _rebuild(node, memo)
        if rebuilt in memo:
            memo[node] = memo[rebuilt]
            return
        result = None
        if rebuilt not in self.active and self.budget > 0:
            result = _first_rewrite(rebuilt, self.index)
        if result is None:
            memo[node] = memo[rebuilt] = rebuilt
        elif result in memo:
            memo[node] = memo[rebuilt] = memo[result]
        else:
            self.budget -= 1
            self.active.add(rebuilt)
            self.stack.append((_FINISH, node, (rebuilt, result)))
            self.stack.append((_VISIT, result, None))
