"""Stability rules: compositions replaced by the op that evaluates them safely.

Most stable forms are built at construction (``log(sigmoid(x))`` *is*
``log_sigmoid(x)``, see the ``fold`` of ``log``); the rules here are the
ones a later phase may undo or that trade one op for another.
"""
from __future__ import annotations

from ..ops import linalg as linalg_ops, reductions
# The op records the rules match (patterns compare records, never names).
from ..ops.elementwise import exp
from ..ops.linalg import inv, matmul
from ..ops.reductions import log_softmax
from .pattern import P, Rule, RuleSet

x, A, B = P.var("x"), P.var("A"), P.var("B")
axis = P.var("axis")


STABILITY = RuleSet("stability", [
    # The naive log/exp compositions (log σ, log softmax, log Σ exp, exp / Σ exp, ...)
    # never reach the rewriter: log's and divide's records build them as the stable
    # op (their ``fold``s in ops/elementwise.py). These two stay rewrites: the
    # lowering builds exp(log_softmax) on purpose (one pass for both), and solve
    # for inv(A) B is a choice of the optimizer.
    Rule("exp(log_softmax(x)) = softmax(x)", P(exp, P(log_softmax, x, axis=axis)),
         lambda x, axis: reductions.softmax(x, axis=axis)),
    # (not for B = A⁻¹: A⁻¹ A⁻¹ is the closed form, solve(A, A⁻¹) no more accurate)
    Rule("inv(A) B = solve(A, B)", P(matmul, P(inv, A), B), lambda A, B: linalg_ops.solve(A, B),
         when=lambda A, B: not (B.op is linalg_ops.inv and B.operands[0] is A)),
])

RULESETS = (STABILITY,)
