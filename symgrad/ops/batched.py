"""Batched building blocks: the last two axes are the matrix, the leading ones a stack.

Written with the structure and reduction records only (and ``@`` for two matrices),
so that both ``linalg`` and ``decompositions`` build on this module and neither
imports the other's helpers.
"""
from __future__ import annotations

from ..ir.graph import Node
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
