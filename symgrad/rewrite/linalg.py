"""Matrix rules: transpose and trace algebra, identities, symmetry, factoring.

Transposes are moved only where that removes nodes: ``(A B)ᵀ -> Bᵀ Aᵀ`` when
both factors' transposes are free (a transpose to strip, or a provably
symmetric factor), and ``Aᵀ Bᵀ -> (B A)ᵀ``. The trace is rotated cyclically
only where the rotation shortens the graph: ``tr(Aᵀ Bᵀ) = tr((B A)ᵀ) = tr(B A)``,
``tr(x yᵀ) = yᵀ x`` and ``tr(x yᵀ A) = tr(A x yᵀ) = yᵀ A x``.
"""
from __future__ import annotations

from typing import Optional

from ..ops import linalg as linalg_ops, structure
from ..ir.graph import Node
from ..analysis.properties import is_symmetric
from .pattern import P, Rule, RuleSet

A, B = P.var("A"), P.var("B")
x, y = P.var("x"), P.var("y")


def free_transpose(node: Node) -> Optional[Node]:
    """``nodeᵀ`` when it costs no new node: a transpose's operand, or a symmetric node."""
    if node.op is structure.transpose and node.ndim == 2:
        return node.operands[0]
    if is_symmetric(node):
        return node
    return None


def _transpose_product(A: Node, B: Node) -> Optional[Node]:
    """(A B)ᵀ = Bᵀ Aᵀ, built only when both transposes are free."""
    if A.ndim != 2 or B.ndim != 2:
        return None
    at, bt = free_transpose(A), free_transpose(B)
    if at is None or bt is None:
        return None
    return bt @ at


def _same_shape(x: Node, y: Node) -> bool:
    return x.shape == y.shape


TRANSPOSES = RuleSet("transpose algebra", [
    Rule("Sᵀ = S  (S symmetric)", P.T(A), lambda A: A, when=lambda A: is_symmetric(A)),
    Rule("(A B)ᵀ = Bᵀ Aᵀ  (both free)", P.T(P.matmul(A, B)), _transpose_product),
    Rule("Aᵀ Bᵀ = (B A)ᵀ", P.matmul(P.T(A), P.T(B)), lambda A, B: (B @ A).T),
    Rule("outer(x, y)ᵀ = outer(y, x)", P.T(P.outer(x, y)), lambda x, y: linalg_ops.outer(y, x)),
    Rule("det(Aᵀ) = det(A)", P.det(P.T(A)), lambda A: linalg_ops.det(A)),
    Rule("logdet(Aᵀ) = logdet(A)", P.logdet(P.T(A)), lambda A: linalg_ops.logdet(A)),
])

def _not_broadcast(A: Node, product: Node) -> bool:
    """``A`` has the full shape of ``A ⊙ I`` (a row ``(1, n)`` would be broadcast)."""
    return A.shape == product.shape


TRACES = RuleSet("trace algebra", [
    Rule("tr(Aᵀ) = tr(A)", P.trace(P.T(A)), lambda A: linalg_ops.trace(A)),
    # the adjoint of a trace, g I, summed against A
    Rule("sum(A ⊙ I) = tr(A)",
         P.sum(P.multiply(A, P.eye()).named("product"), axis=(0, 1), keepdims=False),
         lambda A: linalg_ops.trace(A), when=_not_broadcast),
    Rule("tr(x yᵀ) = yᵀ x", P.trace(P.outer(x, y)), lambda x, y: x @ y),
    Rule("tr(x yᵀ A) = yᵀ A x", P.trace(P.matmul(P.outer(x, y), A)), lambda x, y, A: y @ A @ x),
    Rule("tr(A x yᵀ) = yᵀ A x", P.trace(P.matmul(A, P.outer(x, y))), lambda x, y, A: y @ A @ x),
])

IDENTITIES = RuleSet("matrix identities", [
    Rule("I A = A", P.matmul(P.eye(), A), lambda A: A),
    Rule("A I = A", P.matmul(A, P.eye()), lambda A: A),
    Rule("inv(inv(A)) = A", P.inv(P.inv(A)), lambda A: A),
    Rule("logdet(inv(A)) = -logdet(A)", P.logdet(P.inv(A)), lambda A: -linalg_ops.logdet(A)),
    # A X + A Y = A (X + Y) and X A + Y A = (X + Y) A: one product instead of two
    Rule("A x + A y = A (x + y)", P.add(P.matmul(A, x), P.matmul(A, y)),
         lambda A, x, y: A @ (x + y), when=_same_shape),
    Rule("A x - A y = A (x - y)", P.subtract(P.matmul(A, x), P.matmul(A, y)),
         lambda A, x, y: A @ (x - y), when=_same_shape),
    Rule("x A + y A = (x + y) A", P.add(P.matmul(x, A), P.matmul(y, A)),
         lambda A, x, y: (x + y) @ A, when=_same_shape),
    Rule("x A - y A = (x - y) A", P.subtract(P.matmul(x, A), P.matmul(y, A)),
         lambda A, x, y: (x - y) @ A, when=_same_shape),
])

RULESETS = (TRANSPOSES, TRACES, IDENTITIES)
