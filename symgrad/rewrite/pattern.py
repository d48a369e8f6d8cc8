"""Patterns over graph nodes, and rules as data: ``pattern -> replacement``.

A :class:`Pat` describes a node shape to look for: an op record (or any op),
operand patterns, attribute values, and a name to bind the matched node to.
Names bound twice must bind the very same node (nodes are interned, so ``is``
is structural equality). Patterns of the ops whose record says ``commutative``
(``add``, ``multiply``, ``maximum``, ``minimum``) also match with their operands swapped.

A :class:`Rule` pairs a pattern with a replacement builder and an optional
condition; both are plain functions of the bound names, so a rule reads like
a line of a derivative table::

    Rule("x + x -> 2x", P(add, x, x), lambda x: 2.0 * x)

The style follows tinygrad's ``UPat`` table and PyTensor's
``PatternNodeRewriter``: the rules are data, the driver (``engine.py``) is
generic.
"""
from __future__ import annotations

import inspect
from typing import Callable, Optional

from ..ir.graph import Node, Op
from ..ops import is_constant, structure
from ..ops.base import constant_form_ops

_ANY_OP = None


class Pat:
    """A node pattern: ``op`` (None: any), operand patterns, attrs, binding name.

    ``operands`` None accepts any operands. ``attrs`` maps attribute names to
    required values, or to a :class:`Pat` variable that binds the value.
    ``test`` is an extra predicate on the node itself. ``ops`` (op records), for a
    pattern of any op, is a hint the driver may use to skip the rule: the ops a
    node passing ``test`` can have; ``some_operand`` (op records) a hint that such a
    node has an operand of one of those ops; ``every_operand`` that it has operands, all
    of those ops.
    """

    __slots__ = ("op", "operands", "attrs", "name", "test", "ops", "some_operand", "every_operand")

    def __init__(self, op=_ANY_OP, operands=None, attrs=None, name=None, test=None, ops=None,
                 some_operand=None, every_operand=None):
        self.op = op
        self.operands = None if operands is None else tuple(operands)
        self.attrs = dict(attrs or {})
        self.name = name
        self.test = test
        self.ops = None if ops is None else frozenset(ops)
        self.some_operand = None if some_operand is None else frozenset(some_operand)
        self.every_operand = None if every_operand is None else frozenset(every_operand)

    def named(self, name: str) -> "Pat":
        """This pattern, binding the matched node to ``name``."""
        return Pat(self.op, self.operands, self.attrs, name, self.test, self.ops,
                   self.some_operand, self.every_operand)

    def __repr__(self):
        head = "*" if self.op is None else self.op.name
        inner = "" if self.operands is None else "(" + ", ".join(map(repr, self.operands)) + ")"
        return f"{head}{inner}" + (f"@{self.name}" if self.name else "")


class _Builder:
    """``P(matmul, a, b)`` is ``Pat(matmul, (a, b))`` for the op record ``matmul``;
    ``P.var("x")`` any node. Rules name their ops by record (imported from
    :mod:`symgrad.ops`), so matching compares records, never names.
    """

    def __call__(self, op, *operands, **attrs) -> Pat:
        if not isinstance(op, Op):  # a misspelt record must not give a pattern that never matches
            raise TypeError(f"a pattern's op must be an op record, got {op!r}")
        return Pat(op, operands, attrs)

    @staticmethod
    def var(name: str, test: Optional[Callable] = None, ops=None, some_operand=None,
            every_operand=None) -> Pat:
        """Any node passing ``test``; ``ops``/``some_operand``/``every_operand`` the hints
        of :class:`Pat` (the ops such a node can have, the ops one of its operands must
        have, the ops all of its operands must have)."""
        return Pat(name=name, test=test, ops=ops, some_operand=some_operand,
                   every_operand=every_operand)

    @staticmethod
    def scalar(name: str) -> Pat:
        """Any 0-d node (a factor that commutes with every linear op)."""
        return Pat(name=name, test=lambda n: n.shape == ())

    @staticmethod
    def const(name: str, scalar: bool = False) -> Pat:
        """A constant node (0-d when ``scalar``)."""
        return Pat(structure.constant, None, None, name,
                   (lambda n: n.shape == ()) if scalar else None)

    @staticmethod
    def value(v: float, name: Optional[str] = None) -> Pat:
        """A node known to equal ``v`` everywhere (constants, zeros, their broadcasts)."""
        return Pat(name=name, test=lambda n: is_constant(n, v), ops=constant_form_ops())

    @staticmethod
    def T(x: Pat) -> Pat:
        """The matrix transpose ``xᵀ``."""
        return Pat(structure.transpose, (x,), {"axes": (1, 0)})


P = _Builder()


def match(pattern: Pat, node: Node, bindings: dict) -> Optional[dict]:
    """Bindings extended by matching ``node`` against ``pattern``, or None."""
    return matcher(pattern)(node, bindings)


def matcher(pattern: Pat) -> Callable:
    """``pattern`` compiled once into a function ``(node, bindings) -> bindings | None``.

    The rewriter tries every rule on every node, so matching is its hot loop:
    a failed op or arity test costs one comparison (ops compare as objects),
    with no dictionary built.
    """
    want_op = pattern.op
    test, name = pattern.test, pattern.name
    attrs = tuple(pattern.attrs.items())
    subs = None
    if pattern.operands is not None:
        # the most selective operand first: a fixed op, then a test, then a bare variable
        order = sorted(range(len(pattern.operands)), key=lambda i: _looseness(pattern.operands[i]))
        subs = tuple((i, matcher(pattern.operands[i])) for i in order)
    swap = want_op is not None and want_op.commutative

    def match_node(node: Node, bindings: dict) -> Optional[dict]:
        if want_op is not None and node.op is not want_op:
            return None
        if subs is not None and len(node.operands) != len(subs):
            return None
        if test is not None and not test(node):
            return None
        if name is not None:
            bound = bindings.get(name)
            if bound is None:
                bindings = {**bindings, name: node}
            elif bound is not node:
                return None
        for key, want in attrs:
            bindings = _match_attr(want, node.attrs.get(key), bindings)
            if bindings is None:
                return None
        if subs is None:
            return bindings
        found = _match_sequence(subs, node.operands, bindings)
        if found is None and swap:
            found = _match_sequence(subs, node.operands[::-1], bindings)
        return found

    return match_node


def _looseness(pattern: Pat) -> int:
    return 0 if pattern.op is not None else 1 if pattern.test is not None else 2


def _match_sequence(subs: tuple, operands: tuple, bindings: dict) -> Optional[dict]:
    for i, sub in subs:
        bindings = sub(operands[i], bindings)
        if bindings is None:
            return None
    return bindings


def _match_attr(want, have, bindings: dict) -> Optional[dict]:
    if isinstance(want, Pat):
        if want.name in bindings and bindings[want.name] != have:
            return None
        return {**bindings, want.name: have}
    return bindings if want == have else None


def _caller(fn: Callable) -> Callable:
    """Call ``fn`` with just the bindings it names as parameters."""
    params = list(inspect.signature(fn).parameters)
    return lambda bindings: fn(**{p: bindings[p] for p in params})


class Rule:
    """``pattern -> build(bindings)`` when ``when(bindings)``.

    ``build`` returns the replacement node, or None when the rule turns out
    not to apply (a replacement of another dtype, e.g. ``2.0 * x`` for an
    integer ``x``, also counts as not applying).

    ``scalars`` (op records), a hint like :class:`Pat`'s ``ops``: the rule matches a
    0-d node with 0-d operands only when one of those operands has one of these ops
    (empty: never, the rule needs an axis); None (default): no such restriction.
    """

    def __init__(self, name: str, pattern: Pat, build: Callable, when: Optional[Callable] = None,
                 scalars=None):
        self.name = name
        self.pattern = pattern
        self.match = matcher(pattern)
        self.build = _caller(build)
        self.when = _caller(when) if when is not None else None
        self.root_ops = _root_ops(pattern)
        self.some_operand = pattern.some_operand
        self.every_operand = pattern.every_operand
        self.scalars = None if scalars is None else frozenset(scalars)
        #: the pattern looks at its operands' operands (so their ops can rule it out)
        self.deep = any(p.operands is not None for p in pattern.operands or ())

    def may_match(self, op, operand_forms: tuple, scalar: bool = False) -> bool:
        """False when a node of ``op`` whose operands have ``operand_forms`` cannot
        match (a necessary condition only, from the ops): each an op record, or
        ``(op, its operands' ops)``; ``scalar``: the node and its operands are 0-d."""
        operand_ops = [f[0] if type(f) is tuple else f for f in operand_forms]
        if scalar and self.scalars is not None and not any(op in self.scalars
                                                           for op in operand_ops):
            return False
        if self.some_operand is not None and not any(op in self.some_operand
                                                     for op in operand_ops):
            return False
        if self.every_operand is not None and not (
                operand_ops and all(op in self.every_operand for op in operand_ops)):
            return False
        return _may_have(self.pattern, (op, operand_forms))

    def apply(self, node: Node) -> Optional[Node]:
        """The replacement of ``node``, or None when the rule does not apply."""
        bindings = self.match(node, {})
        if bindings is None or (self.when is not None and not self.when(bindings)):
            return None
        result = self.build(bindings)
        if result is None or result is node or result.dtype != node.dtype:
            return None
        if result.shape != node.shape:
            raise AssertionError(f"rewrite rule {self.name!r} changed the shape of {node!r} "
                                 f"into {result!r}")
        return result

    def __repr__(self):
        return f"<Rule {self.name!r}: {self.pattern!r}>"


class RuleSet:
    """A named group of rules (one theme), indexed by the op at the pattern root."""

    def __init__(self, name: str, rules):
        self.name = name
        self.rules = list(rules)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self):
        return len(self.rules)

    def __repr__(self):
        return f"<RuleSet {self.name!r}: {len(self.rules)} rules>"


def _root_ops(pattern: Pat):
    """The op records a node matching ``pattern`` can have (None: any)."""
    if pattern.op is not None:
        return frozenset({pattern.op})
    return pattern.ops


def _may_have(pattern: Pat, form) -> bool:
    """False when a node of ``form`` cannot match ``pattern``, from the ops alone: a
    form is an op record, or ``(op, operand forms)`` when the operands' are known. A
    name the pattern binds twice binds one node, so both places need the same op
    (``x - x`` never matches ``c - σ(z)``)."""
    return next(_fits(pattern, form, {}), None) is not None


def _fits(pattern: Pat, form, bound: dict):
    """Each extension of ``bound`` (pattern name -> op record) under which a node of
    ``form`` may match ``pattern`` (every operand order a commutative op allows)."""
    op, below = form if type(form) is tuple else (form, None)
    ops = _root_ops(pattern)
    if ops is not None and op not in ops:
        return
    if pattern.name is not None:
        if bound.get(pattern.name, op) is not op:
            return
        bound = {**bound, pattern.name: op}
    subs = pattern.operands
    if below is None or subs is None:
        yield bound
        return
    if len(subs) != len(below):
        return
    yield from _fits_each(subs, below, bound)
    if pattern.op is not None and pattern.op.commutative:
        yield from _fits_each(subs, below[::-1], bound)


def _fits_each(patterns: tuple, forms: tuple, bound: dict):
    """Each extension of ``bound`` under which the nodes of ``forms`` may match ``patterns``."""
    if not patterns:
        yield bound
        return
    for extended in _fits(patterns[0], forms[0], bound):
        yield from _fits_each(patterns[1:], forms[1:], extended)


class RuleIndex(dict):
    """{root op record or None: [rules]}, in declaration order; :meth:`candidates` the
    rules worth trying on a node (its op's, then the op-agnostic ones, less those
    whose operand ops cannot match, or that cannot match 0-d operands when the node
    and its operands are 0-d), cached per op and operand ops (and, when a rule left
    looks deeper, the operands' operands' ops): the driver tries every node, so this
    lookup replaces most failing matches."""

    def __init__(self, *args):
        super().__init__(*args)
        self._cache: dict = {}
        #: what the engine records normal forms under (one index, one table of rules)
        self.token = object()

    def candidates(self, node: Node) -> tuple:
        # the driver asks for every node: the common arities are spelled out
        operands = node.operands
        arity = len(operands)
        if arity == 2:
            a, b = operands
            key = (node.op, a.op, b.op)
        elif arity == 1:
            key = (node.op, operands[0].op)
        else:
            key = (node.op, *[o.op for o in operands]) if arity else node.op
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._entry(node.op, tuple([o.op for o in operands]))
        anyhow, scalar, deep = found
        if deep:  # a rule looks at the operands' operands: so does the key
            forms = tuple([(o.op, tuple([p.op for p in o.operands])) for o in operands])
            key = (node.op, forms)
            found = self._cache.get(key)
            if found is None:
                found = self._cache[key] = self._entry(node.op, forms)
            anyhow, scalar = found[0], found[1]
        if scalar is not anyhow and node.shape == ():
            for o in operands:
                if o.shape != ():
                    return anyhow
            return scalar
        return anyhow

    def _entry(self, op, forms: tuple) -> tuple:
        """(rules that may match, those that may on 0-d operands, whether the
        operands' operands could rule out more) for a node of ``op`` whose operands
        have ``forms`` (see :meth:`Rule.may_match`)."""
        anyhow = tuple(r for r in self.get(op, []) + self.get(None, []) if r.may_match(op, forms))
        scalar = tuple(r for r in anyhow if r.may_match(op, forms, scalar=True))
        shallow = not any(type(f) is tuple for f in forms)
        return anyhow, anyhow if scalar == anyhow else scalar, shallow and any(r.deep for r in anyhow)


def index_rules(rulesets) -> RuleIndex:
    """The rules of the rule sets by root op record (None: any op), in declaration order."""
    index = RuleIndex()
    for ruleset in rulesets:
        for rule in ruleset:
            index.setdefault(rule.pattern.op, []).append(rule)
    return index
