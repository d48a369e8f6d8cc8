"""Both directions between symgrad graphs and SymPy expressions.

``to_sympy``: a scalar becomes a SymPy scalar expression (inputs are
``Symbol(name, real=True)``: symgrad scalars are real), a matrix a ``MatrixSymbol``-based matrix expression, and a
vector ``(n,)`` an ``(n, 1)`` column. Named dimensions become
``Symbol(name, integer=True, positive=True)``, int dimensions Integers.
Elementwise functions of arrays use ``applyfunc`` and ``HadamardProduct``;
broadcasting uses ``OneMatrix`` factors; full sums and vector dot products are
``(1, 1)`` products read out as scalars with ``Trace``.

``from_sympy``: ``Symbol("w")`` becomes ``sg.scalar("w")`` and
``MatrixSymbol("X", n, m)`` the input ``sg.matrix("X", ("n", "m"))`` (the very
same interned nodes); ``shapes={"v": ("n",)}`` overrides a shape by name,
e.g. to read an ``(n, 1)`` MatrixSymbol back as a vector. A node built here
may be a lower-rank *form* of its SymPy shape: a vector stands for an
``(n, 1)`` column or a ``(1, n)`` row and a scalar for a ``(1, 1)`` matrix,
exactly as NumPy's ``matmul`` treats them; nodes are made 2-D only where an
operation needs it.

Anything without a counterpart raises ``ValueError`` naming it. Neither
direction parses strings: no ``sympify``, no ``eval``.
"""
from __future__ import annotations

import sys

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from ..ir.graph import as_node_list, describe, toposort


def dim_to_sympy(dim):
    """An int dimension as an Integer, a named one as a positive integer Symbol."""
    return sp.Integer(dim) if isinstance(dim, int) else sp.Symbol(dim, integer=True, positive=True)


def _matrix_shape(shape) -> tuple:
    """SymPy shape of a symgrad array: vectors are columns."""
    shape = tuple(dim_to_sympy(d) for d in shape)
    return shape + (sp.Integer(1),) if len(shape) == 1 else shape


def _scalar_number(value):
    """A short float as an exact Rational (0.1 -> 1/10), otherwise an exact Float."""
    if isinstance(value, bool):
        return sp.true if value else sp.false
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return sp.Integer(int(value))
    short = repr(value)
    if len(short) <= 12 and "e" not in short and "n" not in short:
        return sp.Rational(short)
    return sp.Float(value)


def _too_deep(order) -> ValueError:
    """The error for a graph whose SymPy expression is deeper than SymPy can recurse."""
    depth: dict = {}
    for node in order:  # operands first: the longest path from a leaf, without recursion
        depth[node] = 1 + max((depth[o] for o in node.operands), default=0)
    return ValueError(
        f"to_sympy: the graph is {max(depth.values())} operations deep; SymPy recurses once per "
        f"level of an expression and exceeded Python's recursion limit "
        f"(sys.getrecursionlimit() = {sys.getrecursionlimit()}), which allows roughly "
        f"{sys.getrecursionlimit() // 5} levels. Convert smaller parts, or simplify first.")


def _unsupported(node):
    raise ValueError(f"symgrad op {node.op.name!r} has no SymPy equivalent ({describe(node)})")


def _element(matrix):
    """The single entry of a (1, 1) matrix expression, as its trace: a ``MatrixElement``
    of a product would be expanded into an index ``Sum`` by SymPy's canonicalization."""
    return sp.Trace(matrix)


def _mul(*factors):
    """Matrix (or scalar-matrix) product, canonicalized one level deep only: SymPy's
    operators would ``doit`` the whole tree and expand each ``MatrixElement`` into a Sum."""
    return sp.MatMul(*factors).doit(deep=False)


def _T(matrix):
    return sp.Transpose(matrix)


def _ones(rows, cols):
    return sp.OneMatrix(rows, cols)


class _ToSympy:
    """Converts a graph, one node at a time, through each op's ``to_sympy`` field
    (``rule(bridge, node, *operand_exprs)``; see :class:`symgrad.ir.graph.Op`).
    The rules are written in the ops' own modules with the helpers here."""

    sp = sp  # the rules reach SymPy through the bridge: the ops layer never imports it
    dim = staticmethod(dim_to_sympy)
    matrix_shape = staticmethod(_matrix_shape)
    number = staticmethod(_scalar_number)
    unsupported = staticmethod(_unsupported)
    element = staticmethod(_element)
    mul = staticmethod(_mul)
    T = staticmethod(_T)
    ones = staticmethod(_ones)
    matrix_element = staticmethod(MatrixElement)

    def convert(self, node):
        rule = node.op.to_sympy
        if rule is None:
            return _unsupported(node)
        return rule(self, node, *self.args)

    def run(self, nodes):
        done = {}
        order = toposort(nodes)
        try:
            for node in order:
                if node.ndim > 2:
                    raise ValueError(f"{describe(node)} has rank {node.ndim}; "
                                     "SymPy matrices have rank 2")
                self.args = [done[o] for o in node.operands]
                done[node] = self.convert(node)
        except RecursionError:  # SymPy's own methods recurse once per level of an expression
            raise _too_deep(order) from None
        return [done[n] for n in nodes]

    @staticmethod
    def scalars_only(node, build, *args):
        """``build(*args)`` for scalar nodes; arrays have no SymPy counterpart here."""
        if node.ndim:
            _unsupported(node)
        return build(*args)

    def elementwise(self, node, function, x):
        """``function`` of a scalar, or applied entrywise to the (broadcast) operand."""
        if not node.ndim:
            return function(x)
        d = sp.Dummy("d")
        return self.broadcast(x, node.operands[0], node).applyfunc(sp.Lambda(d, function(d)))

    def broadcast(self, expr, operand, node):
        """``expr`` (the operand's SymPy form) broadcast to ``node``'s shape with OneMatrix."""
        if operand.shape == node.shape:
            return expr
        rows, cols = _matrix_shape(node.shape)
        if not operand.ndim:
            return _mul(expr, _ones(rows, cols))
        if operand.ndim == 1 and node.ndim == 2:
            expr = _T(expr)  # a vector broadcasts along the last axis: a row
        r, c = expr.shape
        left = _ones(rows, 1) if r != rows else None
        right = _ones(1, cols) if c != cols else None
        return _mul(*[f for f in (left, expr, right) if f is not None])

    def linear(self, node, a, b, sign):
        """``a + b`` (``sign`` 1) or ``a - b`` (-1), matrices broadcast to the result."""
        if not node.ndim:
            return a + sign * b
        a, b = (self.broadcast(e, o, node) for e, o in zip((a, b), node.operands))
        return sp.MatAdd(a, b if sign > 0 else _mul(-1, b)).doit(deep=False)


def to_sympy(nodes):
    """SymPy expression(s) for a node or a list of nodes (see the module docstring)."""
    nodes, single = as_node_list(nodes, "to_sympy arguments")
    result = _ToSympy().run(nodes)
    return result[0] if single else result


from .sympy_import import from_sympy  # noqa: E402  (the other direction)

__all__ = ["to_sympy", "from_sympy", "dim_to_sympy"]
