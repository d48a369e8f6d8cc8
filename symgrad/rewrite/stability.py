"""Stability rules: compositions replaced by the op that evaluates them safely.

Each rule replaces a composition by one op (``log(sigmoid(x)) -> log_sigmoid(x)``,
a registered op lowered as ``-logaddexp(0, -x)``), so none grows the graph.
"""
from __future__ import annotations

from ..ops import elementwise, linalg as linalg_ops, reductions
from .algebra import as_out
from .pattern import P, Rule, RuleSet

x, A, B = P.var("x"), P.var("A"), P.var("B")
one = P.value(1.0)
axis, keepdims = P.var("axis"), P.var("keepdims")


def _softplus_of(x, out):
    return as_out(elementwise.softplus(x), out)


STABILITY = RuleSet("stability", [
    Rule("log(softmax(x)) = log_softmax(x)", P.log(P.softmax(x, axis=axis)),
         lambda x, axis: reductions.log_softmax(x, axis=axis)),
    Rule("exp(log_softmax(x)) = softmax(x)", P.exp(P.log_softmax(x, axis=axis)),
         lambda x, axis: reductions.softmax(x, axis=axis)),
    Rule("log(sigmoid(x)) = log_sigmoid(x)", P.log(P.sigmoid(x)),
         lambda x: elementwise.log_sigmoid(x)),
    Rule("log(1 + exp(x)) = softplus(x)", P.log(P.add(one, P.exp(x))).named("out"), _softplus_of),
    Rule("log1p(exp(x)) = softplus(x)", P.log1p(P.exp(x)).named("out"), _softplus_of),
    Rule("log(exp(x)) = x", P.log(P.exp(x)), lambda x: x),
    Rule("log(sum(exp(x))) = logsumexp(x)",
         P.log(P.sum(P.exp(x), axis=axis, keepdims=keepdims)),
         lambda x, axis, keepdims: reductions.logsumexp(x, axis=axis, keepdims=keepdims)),
    Rule("exp(x) / sum(exp(x)) = softmax(x)",
         P.divide(P.exp(x), P.sum(P.exp(x), axis=axis, keepdims=True)),
         lambda x, axis: reductions.softmax(x, axis=axis[0]),
         when=lambda x, axis: len(axis) == 1),
    Rule("inv(A) B = solve(A, B)", P.matmul(P.inv(A), B), lambda A, B: linalg_ops.solve(A, B)),
])

RULESETS = (STABILITY,)
