"""Batched building blocks: the last two axes are the matrix, the leading ones a stack.

Written with the structure and reduction records only (and ``@`` for two matrices),
so that both ``linalg`` and ``decompositions`` build on this module and neither
imports the other's helpers.
"""
from __future__ import annotations

from ..ir.graph import Node
from ..ir.shapes import ShapeError
from ..ir.leaves import constant
from .reductions import sum_
from .structure import reshape, transpose


def mT(x: Node) -> Node:
    """The matrix transpose of every matrix in a stack (the last two axes swapped)."""
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes=axes)


def mm(a: Node, b: Node) -> Node:
    """Stacks of matrices multiplied like NumPy's ``matmul`` (operands of rank >= 2,
    leading axes broadcast): ``matmul`` for two matrices, otherwise the broadcast
    product summed over the inner axis (``matmul``'s own rule when it gains batching)."""
    if a.ndim == 2 and b.ndim == 2:
        return a @ b
    left = reshape(a, shape=a.shape + (1,))
    right = reshape(b, shape=b.shape[:-2] + (1,) + b.shape[-2:])
    return sum_(left * right, axis=-2)


def row(w: Node) -> Node:
    """``w`` (``(..., n)``) as ``(..., 1, n)``: scales the columns of a matrix it multiplies."""
    return reshape(w, shape=w.shape[:-1] + (1, w.shape[-1]))


def column(w: Node) -> Node:
    """``w`` (``(..., n)``) as ``(..., n, 1)``: scales the rows of a matrix it multiplies."""
    return reshape(w, shape=w.shape + (1,))


def solve_columns(solver, a: Node, rhs: Node, vector: bool, **attrs) -> Node:
    """``solver(a, rhs)`` (solve, solve_triangular); for a vector ``b`` solved against a
    stack of matrices, ``rhs`` is a stack of vectors ``(..., n)``, solved as columns."""
    if not vector or rhs.ndim == 1:
        return solver(a, rhs, **attrs)
    x = solver(a, column(rhs), **attrs)
    return reshape(x, shape=x.shape[:-1])


def jvp_jacobian(sweep, node: Node, js) -> Node | None:
    """The whole-Jacobian rule of an op on stacks of matrices, read off its JVP: the
    operands' Jacobians (``operand.shape + x.shape``) with ``x``'s axes moved to the
    front are a stack of tangents, which the JVP broadcasts like any leading axes;
    its result's leading axes go back to the end. None (one reverse pass per entry
    instead) when an operand is a vector or a scalar, where a leading stack axis
    would change what the op reads (a vector right-hand side would become a matrix)."""
    k = sweep.k
    if any(o.ndim < 2 for o in node.operands):
        return None
    tangents = [None if j is None else
                transpose(j, axes=tuple(range(j.ndim - k, j.ndim)) + tuple(range(j.ndim - k)))
                for j in js]
    try:
        t = node.op.jvp(tangents, node, *node.operands, **node.attrs)
    except ShapeError:  # a JVP written for one matrix (trace, 2-D matmul): decline
        return None
    if t is None or tuple(t.shape) != tuple(sweep.x.shape) + tuple(node.shape):
        return None
    return transpose(t, axes=tuple(range(k, t.ndim)) + tuple(range(k))) if k else t


ONE = constant(1.0)


def gradient_jacobian(sweep, node: Node, js) -> Node | None:
    """The whole-Jacobian rule of an op with a scalar result, read off its VJP at 1:
    ``J = sum_i <d node / d u_i, J[u_i]>`` over each operand's own axes."""
    if node.shape != ():
        return None
    partials = node.op.vjp(ONE, node, *node.operands, **node.attrs)
    terms = []
    for operand, j, partial in zip(node.operands, js, partials):
        if j is None or partial is None:
            continue
        spread = reshape(partial, shape=tuple(operand.shape) + (1,) * sweep.k)
        terms.append(sum_(spread * j, axis=tuple(range(operand.ndim))) if operand.ndim
                     else spread * j)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total
