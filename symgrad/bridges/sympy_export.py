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


SCALAR_FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos,
    "tanh": sp.tanh, "sign": sp.sign,
    # unevaluated: SymPy would rewrite |f(x)| with re/im/atan2 when it cannot prove f(x) real
    "abs": lambda x: sp.Abs(x, evaluate=False),
    "log1p": lambda x: sp.log(1 + x),
    "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
    "relu": lambda x: sp.Max(x, 0),
    "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "log_sigmoid": lambda x: -sp.log(1 + sp.exp(-x)),
    "erf": sp.erf, "erfc": sp.erfc, "gammaln": sp.loggamma, "digamma": sp.digamma,
    "logit": lambda p: sp.log(p) - sp.log(1 - p),
    "sinc": lambda x: sp.sinc(sp.pi * x),  # SymPy's sinc is the unnormalized sin(x) / x
}
RELATIONS = {"greater": sp.StrictGreaterThan, "greater_equal": sp.GreaterThan,
             "less": sp.StrictLessThan, "less_equal": sp.LessThan, "equal": sp.Eq}


class _ToSympy:
    """One method per op: ``_op_<name>(node, *operand_exprs) -> SymPy expression``."""

    def convert(self, node):
        name = node.op.name
        method = getattr(self, "_op_" + name, None)
        if method is not None:
            return method(node, *self.args)
        if name in SCALAR_FUNCTIONS:
            return self.elementwise(node, SCALAR_FUNCTIONS[name], *self.args)
        if name in RELATIONS:
            return self.scalars_only(node, RELATIONS[name], *self.args)
        return _unsupported(node)

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

    def _op_input(self, node):
        if node.dtype != "float64":
            raise ValueError(f"input {describe(node)} has dtype {node.dtype}; only float64 "
                             "inputs have a SymPy equivalent")
        if not node.ndim:
            return sp.Symbol(node.name, real=True)
        return sp.MatrixSymbol(node.name, *_matrix_shape(node.shape))

    def _op_constant(self, node):
        value = node.value
        if not value.ndim:
            return _scalar_number(value.item())
        rows = value.reshape(-1, 1) if value.ndim == 1 else value
        return sp.ImmutableMatrix([[_scalar_number(v) for v in row] for row in rows.tolist()])

    def _op_zeros(self, node):
        return sp.Integer(0) if not node.ndim else sp.ZeroMatrix(*_matrix_shape(node.shape))

    def _op_eye(self, node):
        return sp.Identity(dim_to_sympy(node.attrs["n"]))

    def _op_dimsize(self, node):
        return sp.Mul(*[dim_to_sympy(d) for d in node.attrs["dims"]])

    def _linear(self, node, a, b, sign):
        if not node.ndim:
            return a + sign * b
        a, b = (self.broadcast(e, o, node) for e, o in zip((a, b), node.operands))
        return sp.MatAdd(a, b if sign > 0 else _mul(-1, b)).doit(deep=False)

    def _op_add(self, node, a, b):
        return self._linear(node, a, b, 1)

    def _op_subtract(self, node, a, b):
        return self._linear(node, a, b, -1)

    def _op_negative(self, node, x):
        return _mul(-1, x) if node.ndim else -x

    def _op_multiply(self, node, a, b):
        left, right = node.operands
        if not left.ndim and not right.ndim:
            return a * b
        if not left.ndim or not right.ndim:
            return _mul(a, b)
        return sp.HadamardProduct(self.broadcast(a, left, node), self.broadcast(b, right, node))

    def _op_divide(self, node, a, b):
        left, right = node.operands
        if not right.ndim:
            return _mul(1 / b, a) if left.ndim else a / b
        reciprocal = sp.HadamardPower(self.broadcast(b, right, node), -1)
        if not left.ndim:
            return _mul(a, reciprocal)
        return sp.HadamardProduct(self.broadcast(a, left, node), reciprocal)

    def _op_power(self, node, a, b):
        base, exponent = node.operands
        if exponent.ndim:
            _unsupported(node)
        # unevaluated: SymPy's power rules can expand nested exponentials for minutes
        return sp.Pow(a, b, evaluate=False) if not base.ndim else sp.HadamardPower(self.broadcast(a, base, node), b)

    def _op_maximum(self, node, a, b):
        return self.scalars_only(node, sp.Max, a, b)

    def _op_minimum(self, node, a, b):
        return self.scalars_only(node, sp.Min, a, b)

    def _op_where(self, node, cond, a, b):
        if cond.has(sp.Piecewise):  # SymPy would rewrite it in exponential time
            raise ValueError(f"{describe(node)}: a where whose condition depends on another "
                             "where has no practical SymPy form")
        return self.scalars_only(node, lambda: sp.Piecewise((a, cond), (b, True)))

    def _op_matmul(self, node, a, b):
        left, right = node.operands
        if left.ndim == 1 and right.ndim == 1:
            return _element(_mul(_T(a), b))
        return _mul(_T(b), a) if left.ndim == 1 else _mul(a, b)

    def _op_outer(self, node, a, b):
        return _mul(a, _T(b))

    def _op_transpose(self, node, x):
        return _T(x)

    def _op_trace(self, node, x):
        return sp.Trace(x)

    def _op_det(self, node, x):
        return sp.Determinant(x)

    def _op_logdet(self, node, x):
        return sp.log(sp.Determinant(x))

    def _op_inv(self, node, x):
        return sp.Inverse(x)

    def _op_solve(self, node, a, b):
        return _mul(sp.Inverse(a), b)

    def _op_norm(self, node, x):
        operand = node.operands[0]
        if not operand.ndim:
            return sp.Abs(x)
        square = _mul(_T(x), x)
        return sp.sqrt(_element(square) if operand.ndim == 1 else sp.Trace(square))

    def _op_sum(self, node, x):
        operand, axis = node.operands[0], node.attrs["axis"]
        if not operand.ndim or not axis:
            return x
        rows, cols = x.shape
        if len(axis) == operand.ndim:
            factors = [_ones(1, rows), x] + ([_ones(cols, 1)] if operand.ndim == 2 else [])
            total = _mul(*factors)
            return total if node.attrs["keepdims"] else _element(total)
        if axis == (0,):
            if node.attrs["keepdims"]:
                return _mul(_ones(1, rows), x)
            return _mul(_T(x), _ones(rows, 1))
        return _mul(x, _ones(cols, 1))

    def _op_broadcast_to(self, node, x):
        return self.broadcast(x, node.operands[0], node)

    def _op_reshape(self, node, x):
        source, target = node.operands[0].shape, node.shape
        if not source and target in ((1,), (1, 1)):
            return sp.ImmutableMatrix([[x]])
        if not target and source in ((1,), (1, 1)):
            return _element(x)
        if source and target and _matrix_shape(source) == _matrix_shape(target):
            return x
        # a row to a column (or back) keeps NumPy's row-major order: a transpose; any
        # other reshape between (a, b) and (b, a) reorders entries and has no SymPy form
        if source and target and _matrix_shape(source) == _matrix_shape(target)[::-1] \
                and 1 in _matrix_shape(source):
            return _T(x)
        return _unsupported(node)

    def _op_getitem(self, node, x):
        keys = [slice(*entry[1:]) if isinstance(entry, tuple) else entry
                for entry in node.attrs["index"]]
        if len(keys) == 1:
            keys.append(0)
        if isinstance(keys[0], int) and isinstance(keys[1], int):
            if isinstance(x, sp.MatrixSymbol):
                return MatrixElement(x, keys[0], keys[1])
            return _element(x[keys[0]:keys[0] + 1, keys[1]:keys[1] + 1])
        picked = x[keys[0], keys[1]]
        return _T(picked) if isinstance(keys[0], int) else picked


def to_sympy(nodes):
    """SymPy expression(s) for a node or a list of nodes (see the module docstring)."""
    nodes, single = as_node_list(nodes, "to_sympy arguments")
    result = _ToSympy().run(nodes)
    return result[0] if single else result


from .sympy_import import from_sympy  # noqa: E402  (the other direction)

__all__ = ["to_sympy", "from_sympy", "dim_to_sympy"]
