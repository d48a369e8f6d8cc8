"""Matrix rules: transpose and trace algebra, identities, symmetry, factoring.

Transposes are pushed towards the leaves, the way the Matrix Cookbook writes
its results (``AᵀBᵀ``, ``BᵀX``), wherever that costs no node: ``(A B)ᵀ -> Bᵀ
Aᵀ`` and ``(A ± B)ᵀ -> Aᵀ ± Bᵀ`` when at most one operand's transpose is not
free (free: a transpose to strip, or a provably symmetric operand). The
compact set (:data:`COMPACT`) folds the other way, ``Aᵀ Bᵀ -> (B A)ᵀ``, and is
what ``simplify`` falls back to when the human form would be larger. The trace is rotated cyclically
only where the rotation shortens the graph: ``tr(Aᵀ Bᵀ) = tr((B A)ᵀ) = tr(B A)``,
``tr(x yᵀ) = yᵀ x`` and ``tr(x yᵀ A) = tr(A x yᵀ) = yᵀ A x``.
"""
from __future__ import annotations

from typing import Optional

from ..ops import elementwise, linalg as linalg_ops, structure
from ..ir.graph import Node
from ..analysis.properties import is_spd, is_symmetric
# The op records the rules match (patterns compare records, never names).
from ..ops.decompositions import cofactor
from ..ops.elementwise import add, multiply, negative, subtract
from ..ops.linalg import det, inv, logdet, matmul, outer, solve, trace
from ..ops.reductions import sum_
from .pattern import P, Rule, RuleSet

A, B, C = P.var("A"), P.var("B"), P.var("C")
x, y = P.var("x"), P.var("y")


def free_transpose(node: Node, depth: int = 8) -> Optional[Node]:
    """``nodeᵀ`` when it costs no new node: a transpose's operand, a symmetric node, or
    (to ``depth`` levels) a product of such factors, ``(A B)ᵀ = Bᵀ Aᵀ``."""
    if node.op is structure.transpose and node.ndim == 2:
        return node.operands[0]
    if is_symmetric(node):
        return node
    if depth and node.op is linalg_ops.matmul and node.ndim == 2 and \
            all(o.ndim == 2 for o in node.operands):
        at, bt = (free_transpose(o, depth - 1) for o in node.operands)
        if at is not None and bt is not None:
            return bt @ at
    return None


def _transposed(node: Node) -> Node:
    """``nodeᵀ`` (0-d values are their own transpose), free or not."""
    if node.ndim == 0:
        return node
    free = free_transpose(node)
    return free if free is not None else node.T


def _pushable(operands) -> bool:
    """Operands of a product or sum whose transposes cost at most one new node."""
    if not all(o.ndim in (0, 2) for o in operands):
        return False
    return len({o for o in operands if o.ndim == 2 and free_transpose(o) is None}) <= 1


def _transpose_product(A: Node, B: Node) -> Optional[Node]:
    """(A B)ᵀ = Bᵀ Aᵀ, built when it costs no node (at most one transpose not free)."""
    if A.ndim != 2 or B.ndim != 2 or not _pushable((A, B)):
        return None
    return _transposed(B) @ _transposed(A)


def _transpose_sum(out: Node) -> Optional[Node]:
    """(A ± B)ᵀ = Aᵀ ± Bᵀ (0-d operands unchanged), when it costs no node."""
    inner = out.operands[0]
    if not _pushable(inner.operands):
        return None
    return inner.op(*(_transposed(o) for o in inner.operands))


def _is_transposed_sum(node: Node) -> bool:
    return (node.op is structure.transpose and node.ndim == 2
            and node.operands[0].op in (elementwise.add, elementwise.subtract))


def _transpose_first(node: Node) -> bool:
    """``Aᵀ + A``: written ``A + Aᵀ``, the Cookbook's order (one spelling, so it interns)."""
    if node.op is not elementwise.add:
        return False
    first, second = node.operands
    return first.op is structure.transpose and first.operands[0] is second and second.ndim == 2


def _square(A: Node) -> bool:
    return A.ndim == 2 and A.shape[0] == A.shape[1]


def _vector_and_matrix(x: Node, A: Node) -> bool:
    return x.ndim == 1 and A.ndim == 2


def _same_shape(x: Node, y: Node) -> bool:
    return x.shape == y.shape


TRANSPOSES = RuleSet("transpose algebra", [
    Rule("Sᵀ = S  (S symmetric)", P.T(A), lambda A: A, when=lambda A: is_symmetric(A)),
    # (A B)ᵀ = Bᵀ Aᵀ and (A ± B)ᵀ = Aᵀ ± Bᵀ: the transpose moves to the leaves
    Rule("(A B)ᵀ = Bᵀ Aᵀ  (no new node)", P.T(P(matmul, A, B)), _transpose_product),
    Rule("(A ± B)ᵀ = Aᵀ ± Bᵀ  (no new node)", P.var("out", _is_transposed_sum, ops={structure.transpose}), _transpose_sum),
    Rule("Aᵀ + A = A + Aᵀ", P.var("out", _transpose_first, ops={elementwise.add},
                                  some_operand={structure.transpose}),
         lambda out: out.operands[1] + out.operands[0]),
    # x @ M = Mᵀ x inside a product, so the column-vector form reads as the Cookbook
    # writes it (x Aᵀ = A x and outer(x M, y) = outer(Mᵀ x, y) are folded when built);
    # a transpose is a view, and simplify still returns nothing larger than its input
    Rule("B (x M) = B (Mᵀ x)  (x a vector)", P(matmul, B, P(matmul, x, A)),
         lambda B, x, A: B @ (A.T @ x), when=lambda B, x, A: B.ndim == 2 and _vector_and_matrix(x, A)),
    # x @ S = Sᵀ x = S x for a symmetric S: the matrix written first
    Rule("x S = S x  (x a vector, S symmetric)", P(matmul, x, A), lambda x, A: A @ x,
         when=lambda x, A: x.ndim == 1 and A.ndim == 2 and is_symmetric(A)),
    Rule("det(Aᵀ) = det(A)", P(det, P.T(A)), lambda A: linalg_ops.det(A)),
    Rule("logdet(Aᵀ) = logdet(A)", P(logdet, P.T(A)), lambda A: linalg_ops.logdet(A)),
])

def _not_broadcast(A: Node, product: Node) -> bool:
    """``A`` has the full shape of ``A ⊙ I`` (a row ``(1, n)`` would be broadcast)."""
    return A.shape == product.shape


TRACES = RuleSet("trace algebra", [
    Rule("tr(Aᵀ) = tr(A)", P(trace, P.T(A)), lambda A: linalg_ops.trace(A)),
    # the adjoint of a trace, g I, summed against A
    Rule("sum(A ⊙ I) = tr(A)",
         P(sum_, P(multiply, A, P(structure.eye)).named("product"), axis=(0, 1), keepdims=False),
         lambda A: linalg_ops.trace(A), when=_not_broadcast),
    # tr(Aᵀ Bᵀ) = tr((B A)ᵀ) = tr(B A)
    Rule("tr(Aᵀ Bᵀ) = tr(B A)", P(trace, P(matmul, P.T(A), P.T(B))),
         lambda A, B: linalg_ops.trace(B @ A)),
    Rule("tr(x yᵀ) = yᵀ x", P(trace, P(outer, x, y)), lambda x, y: x @ y),
    Rule("tr(x yᵀ A) = yᵀ A x", P(trace, P(matmul, P(outer, x, y), A)), lambda x, y, A: y @ A @ x),
    Rule("tr(A x yᵀ) = yᵀ A x", P(trace, P(matmul, A, P(outer, x, y))), lambda x, y, A: y @ A @ x),
])

def _identity_like(A: Node) -> Node:
    return structure.eye(n=A.shape[0])


def _solve_then_inverse(A: Node, B: Node) -> bool:
    return B.op is linalg_ops.inv and B.operands[0] is A


z = P.var("z")

QUADRATIC = RuleSet("quadratic forms", [
    # ∂(xᵀAx)/∂x = Aᵀx + Ax (Cookbook (81)); x @ A is Aᵀ x for a vector x
    Rule("x A + B x = (B + Aᵀ) x  (x a vector)", P(add, P(matmul, x, A), P(matmul, B, x)),
         lambda x, A, B: (B + A.T) @ x, when=_vector_and_matrix),
    Rule("z + x A + B x = z + (B + Aᵀ) x  (x a vector)",
         P(add, P(add, z, P(matmul, x, A)), P(matmul, B, x)),
         lambda z, x, A, B: z + (B + A.T) @ x, when=_vector_and_matrix),
    Rule("z + B x + x A = z + (B + Aᵀ) x  (x a vector)",
         P(add, P(add, z, P(matmul, B, x)), P(matmul, x, A)),
         lambda z, x, A, B: z + (B + A.T) @ x, when=_vector_and_matrix),
])

IDENTITIES = RuleSet("matrix identities", [
    # A A⁻¹ = I and A⁻¹ A = solve(A, A) = I (the inverse exists wherever either side is defined)
    Rule("A A⁻¹ = I", P(matmul, A, P(inv, A)), _identity_like, when=_square),
    Rule("solve(A, A) = I", P(solve, A, A), _identity_like, when=_square),
    # solve(S, Bᵀ)ᵀ = B S⁻ᵀ = B S⁻¹ for a symmetric S (so B S⁻¹ + solve(S, Bᵀ)ᵀ = 2 B S⁻¹)
    Rule("solve(S, Bᵀ)ᵀ = B S⁻¹  (S symmetric)", P.T(P(solve, A, P.T(B))),
         lambda A, B: B @ linalg_ops.inv(A), when=lambda A: is_symmetric(A)),
    Rule("A⁻ᵀ Aᵀ = I", P(matmul, P.T(P(inv, A)), P.T(A)), _identity_like, when=_square),
    Rule("Aᵀ A⁻ᵀ = I", P(matmul, P.T(A), P.T(P(inv, A))), _identity_like, when=_square),
    # A (B C) = (A B) C, read left to right as NumPy does, when A and C are square: then
    # both bracketings cost the same flops (a·b·c + a·c·d = b·c·d + a·b·d for a = b, c = d)
    # (B a matrix too: with a vector B, NumPy's A @ (b @ C) is Aᵀ... not (A @ b) @ C)
    Rule("A (B C) = (A B) C  (A, C square)", P(matmul, A, P(matmul, B, C)),
         lambda A, B, C: (A @ B) @ C,
         when=lambda A, B, C: _square(A) and B.ndim == 2 and _square(C)),
    # cof(A) = det(A) A⁻ᵀ; for A⁻¹ that is Aᵀ / det(A) = det(A⁻¹) Aᵀ, exact wherever A⁻¹ is
    Rule("cof(A⁻¹) = det(A⁻¹) Aᵀ", P(cofactor, P(inv, A)).named("out"),
         lambda A, out: linalg_ops.det(out.operands[0]) * A.T, when=_square),
    # and an SPD matrix is nonsingular, so its cofactor is det(P) P⁻¹ (the Cookbook's (49))
    Rule("cof(P) = det(P) P⁻¹  (P SPD)", P(cofactor, A), lambda A: linalg_ops.det(A) * linalg_ops.inv(A),
         when=lambda A: _square(A) and is_spd(A)),
    # A⁻¹ A⁻¹ is the Cookbook's (X⁻¹)² (its (64)); solve(A, A⁻¹) is no more accurate
    Rule("solve(A, A⁻¹) = A⁻¹ A⁻¹", P(solve, A, B), lambda A, B: B @ B, when=_solve_then_inverse),
    # -(A (x - y)) = A (y - x): the sign goes into the difference (no node for it)
    Rule("-(A (x - y)) = A (y - x)", P(negative, P(matmul, A, P(subtract, x, y))),
         lambda A, x, y: A @ (y - x)),
    Rule("-((x - y) A) = (y - x) A", P(negative, P(matmul, P(subtract, x, y), A)),
         lambda A, x, y: (y - x) @ A),
    Rule("inv(inv(A)) = A", P(inv, P(inv, A)), lambda A: A),
    Rule("logdet(inv(A)) = -logdet(A)", P(logdet, P(inv, A)), lambda A: -linalg_ops.logdet(A)),
    # A X + A Y = A (X + Y) and X A + Y A = (X + Y) A: one product instead of two
    Rule("A x + A y = A (x + y)", P(add, P(matmul, A, x), P(matmul, A, y)),
         lambda A, x, y: A @ (x + y), when=_same_shape),
    Rule("A x - A y = A (x - y)", P(subtract, P(matmul, A, x), P(matmul, A, y)),
         lambda A, x, y: A @ (x - y), when=_same_shape),
    Rule("solve(A, x) + solve(A, y) = solve(A, x + y)", P(add, P(solve, A, x), P(solve, A, y)),
         lambda A, x, y: linalg_ops.solve(A, x + y), when=_same_shape),
    Rule("solve(A, x) - solve(A, y) = solve(A, x - y)", P(subtract, P(solve, A, x), P(solve, A, y)),
         lambda A, x, y: linalg_ops.solve(A, x - y), when=_same_shape),
    Rule("x A + y A = (x + y) A", P(add, P(matmul, x, A), P(matmul, y, A)),
         lambda A, x, y: (x + y) @ A, when=_same_shape),
    Rule("x A - y A = (x - y) A", P(subtract, P(matmul, x, A), P(matmul, y, A)),
         lambda A, x, y: (x - y) @ A, when=_same_shape),
])

#: The compact alternative to pushing transposes: one node fewer, the transpose outside.
COMPACT = RuleSet("compact transposes", [
    Rule("Aᵀ Bᵀ = (B A)ᵀ", P(matmul, P.T(A), P.T(B)), lambda A, B: (B @ A).T),
])

RULESETS = (TRANSPOSES, TRACES, QUADRATIC, IDENTITIES)
