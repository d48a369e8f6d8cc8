"""``from_sympy``: a SymPy scalar or matrix expression as a symgrad graph.

The conventions (names, dimensions, vector and scalar *forms* of SymPy
shapes) are described in :mod:`symgrad.bridges.sympy_export`. Builders dispatch on
the SymPy class (walking its MRO, so ``MatMul`` is found before ``Mul``):
the op records' ``from_sympy`` fields name the SymPy functions that are one op
of their arguments (``exp``, ``erf``, ``Max``), and the structural builders
here read the classes that are not (sums, products, powers, matrices). The traversal is iterative and memoized, so a
subexpression SymPy shares is converted once.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.logic.boolalg import BooleanFalse, BooleanTrue
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.matrices.expressions.slice import MatrixSlice

from ..api import functions as F
from ..ir.graph import REGISTRY, Node
from ..ops import elementwise, structure
from ..ir.leaves import constant, tensor
from ..ir.shapes import normalize_shape


def _dim(d):
    """A SymPy dimension as a symgrad one: Integer -> int, Symbol -> its name."""
    if d.is_Integer:
        return int(d)
    if d.is_Symbol:
        return d.name
    raise ValueError(f"SymPy dimension {d} is neither an integer nor a symbol")


def _int(value, what: str) -> int:
    if not getattr(value, "is_Integer", False):
        raise ValueError(f"{what} {value} must be an integer")
    return int(value)


def _fold(build, nodes):
    total = nodes[0]
    for node in nodes[1:]:
        total = build(total, node)
    return total


def _leading_row(node: Node, shape) -> Node:
    """``node`` as the left factor of a product: a vector is kept only as a row form."""
    if node.ndim == 2 or (node.ndim == 1 and shape[0] == 1):
        return node
    return _as_2d(node, shape)


def _trailing_column(node: Node, shape) -> Node:
    """``node`` as the right factor of a product: a vector is kept only as a column form."""
    if node.ndim == 2 or (node.ndim == 1 and shape[1] == 1):
        return node
    return _as_2d(node, shape)


def _as_2d(node: Node, shape) -> Node:
    """The 2-D node for a vector or scalar form of the SymPy ``shape`` (rows, cols)."""
    if node.ndim == 2:
        return node
    if node.ndim == 0:
        return F.reshape(node, (1, 1))
    k = node.shape[0]
    return F.reshape(node, (k, 1) if shape[1] == 1 else (1, k))


def _matrix_power(node: Node, k: int) -> Node:
    """``node`` to the power ``k >= 1`` by repeated squaring: O(log k) products
    (interning shares the squares), not k - 1."""
    result, square = None, node
    while True:
        if k & 1:
            result = square if result is None else result @ square
        k >>= 1
        if not k:
            return result
        square = square @ square


class _FromSympy:
    """Converts one SymPy expression; ``env`` binds a Lambda's variable to a node."""

    def __init__(self, shapes: dict, dims: set, builders: dict, env: dict | None = None):
        self.shapes, self.dims, self.env, self.done = shapes, dims, env or {}, {}
        self.builders = builders

    def convert(self, expr) -> Node:
        stack = [(expr, False)]
        while stack:
            item, ready = stack.pop()
            if item in self.done:
                continue
            build = _builder(item, self.builders)
            children = [] if ready else self.children(item)
            if not children:
                self.done[item] = build(self, item)
            else:
                stack.append((item, True))
                stack.extend((c, False) for c in children if c not in self.done)
        return self.done[expr]

    @staticmethod
    def children(expr) -> list:
        if expr.is_Atom or isinstance(expr, (sp.MatrixSymbol, sp.MatrixBase, sp.Identity,
                                             sp.ZeroMatrix, sp.OneMatrix)):
            return []
        if isinstance(expr, ElementwiseApplyFunction):
            return [expr.expr]
        if isinstance(expr, (MatrixElement, MatrixSlice)):
            return [expr.parent]
        if isinstance(expr, sp.Piecewise):
            return [part for pair in expr.args for part in pair.args]
        return list(expr.args)

    def args(self, expr) -> list:
        return [self.done[a] for a in expr.args]

    # Scalars -----------------------------------------------------------------------

    def symbol(self, expr) -> Node:
        """A Lambda's variable, a dimension's size (``n`` in ``MatrixSymbol(X, n, n)``),
        or an input (a scalar unless ``shapes`` says otherwise)."""
        if expr in self.env:
            return self.env[expr]
        if expr in self.dims and expr.name not in self.shapes:
            return structure.dimsize(dims=(expr.name,))
        return tensor(expr.name, self.shapes.get(expr.name, ()))

    def number(self, expr) -> Node:
        if not expr.is_extended_real:
            raise ValueError(f"SymPy number {expr} is not real")
        return constant(float(expr))

    def mul(self, expr) -> Node:
        """Products, with factors of negative power collected into one denominator."""
        coeff, factors = (expr.args[0], expr.args[1:]) if expr.args[0].is_Number else (1, expr.args)
        numerator, denominator = [], []
        for factor in factors:
            if factor.is_Pow and factor.exp.is_Number and factor.exp < 0:
                denominator.append(self.power(self.done[factor.base], -factor.exp))
            else:
                numerator.append(self.done[factor])
        if coeff not in (1, -1):
            numerator.insert(0, constant(float(coeff)))
        result = _fold(Node.__mul__, numerator) if numerator else constant(1.0)
        if denominator:
            result = result / _fold(Node.__mul__, denominator)
        return -result if coeff == -1 else result

    @staticmethod
    def power(base: Node, exponent) -> Node:
        """``base ** exponent`` for a SymPy number, as sqrt where it is one."""
        if exponent == 1:
            return base
        if exponent == sp.Rational(1, 2):
            return F.sqrt(base)
        return base ** float(exponent)

    def pow(self, expr) -> Node:
        """Powers (and Hadamard powers): ``x ** -k`` as ``1 / x ** k``, ``x ** (1/2)`` as sqrt."""
        base, exponent = self.done[expr.args[0]], expr.args[1]
        if not exponent.is_Number:
            return base ** self.done[exponent]
        if exponent < 0:
            return 1.0 / self.power(base, -exponent)
        return self.power(base, exponent)

    def log(self, expr) -> Node:
        (arg,) = expr.args
        if isinstance(arg, sp.Determinant):
            return self.determinant(arg, F.logdet)
        return F.log(self.done[arg])

    def piecewise(self, expr) -> Node:
        *branches, (last, otherwise) = expr.args
        if otherwise != sp.true:
            raise ValueError(f"SymPy Piecewise {expr} has no 'otherwise' branch")
        result = self.done[last]
        for value, cond in reversed(branches):
            result = F.where(self.done[cond], self.done[value], result)
        return result

    # Matrices ----------------------------------------------------------------------

    def matrix_symbol(self, expr) -> Node:
        if expr.name in self.shapes:
            return tensor(expr.name, self.shapes[expr.name])
        return tensor(expr.name, tuple(_dim(d) for d in expr.shape))

    def explicit(self, expr) -> Node:
        if not all(entry.is_Number for entry in expr):
            raise ValueError(f"explicit SymPy matrix {expr} has non-numeric entries")
        return constant(np.array(expr.tolist(), dtype=np.float64))

    def conform(self, expr) -> list:
        """Operands of an elementwise matrix op, made 2-D when their forms differ."""
        nodes = self.args(expr)
        if len({n.shape for n in nodes}) == 1:
            return nodes
        return [_as_2d(n, a.shape) for n, a in zip(nodes, expr.args)]

    def matmul(self, expr) -> Node:
        scalars = [self.done[a] for a in expr.args if not a.is_Matrix]
        factors = [a for a in expr.args if a.is_Matrix]
        result, shape = self.done[factors[0]], factors[0].shape
        for factor in factors[1:]:
            result = _leading_row(result, shape) @ _trailing_column(self.done[factor], factor.shape)
            shape = (shape[0], factor.shape[1])
        return _fold(Node.__mul__, scalars + [result])

    def transpose(self, expr) -> Node:
        node = self.done[expr.arg]
        return node.T if node.ndim == 2 else node

    def matpow(self, expr) -> Node:
        base, k = expr.args
        k = _int(k, "matrix power")
        node = _as_2d(self.done[base], base.shape)
        if k == 0:
            return F.eye(node.shape[0])
        node = F.inv(node) if k < 0 else node
        return _matrix_power(node, abs(k))

    def determinant(self, expr, op=F.det) -> Node:
        node = self.done[expr.arg]
        if node.ndim == 0:
            return F.log(node) if op is F.logdet else node
        return op(_as_2d(node, expr.arg.shape))

    def trace(self, expr) -> Node:
        node = self.done[expr.arg]
        return node if node.ndim == 0 else F.trace(_as_2d(node, expr.arg.shape))

    def element(self, expr) -> Node:
        node = self.done[expr.parent]
        i, j = _int(expr.i, "matrix index"), _int(expr.j, "matrix index")
        if node.ndim == 2:
            return node[i, j]
        if node.ndim == 1:
            return node[i] if expr.parent.shape[1] == 1 else node[j]
        return node

    def slice(self, expr) -> Node:
        node = _as_2d(self.done[expr.parent], expr.parent.shape)
        keys = [_slice_key(part, dim) for part, dim in
                zip((expr.rowslice, expr.colslice), expr.parent.shape)]
        return node[tuple(keys)]

    def applyfunc(self, expr) -> Node:
        function, node = expr.function, self.done[expr.expr]
        if isinstance(function, sp.Lambda):
            (var,), body = function.variables, function.expr
        else:
            var = sp.Dummy("d")
            body = function(var)
        return _FromSympy(self.shapes, self.dims, self.builders, {var: node}).convert(body)


def _builder(expr, builders: dict):
    """The builder for ``expr``'s class (nearest in its MRO), or a ValueError naming it."""
    for cls in type(expr).__mro__:
        method = builders.get(cls)
        if method is not None:
            return method
    if isinstance(expr, sp.Function):
        raise ValueError(f"SymPy function {type(expr).__name__} is not supported")
    raise ValueError(f"SymPy {type(expr).__name__} {expr} is not supported")


def _slice_key(part, dim):
    """A SymPy (start, stop, step) as an int (length-1 slices), a full slice or ints."""
    start, stop, step = part
    if step == 1 and (stop - start) == 1:
        return _int(start, "slice start")
    if start == 0 and stop == dim and step == 1:
        return slice(None)
    return slice(_int(start, "slice start"), _int(stop, "slice stop"), _int(step, "slice step"))


def _unary(op):
    return lambda self, expr: op(self.done[expr.args[0]])


def _nary(build):
    return lambda self, expr: _fold(build, self.args(expr))


def _applied(op):
    """The builder of an op's ``from_sympy`` class: the op of the arguments (folded
    left for a SymPy function of more arguments than the op takes, e.g. ``Max``)."""
    def build(self, expr):
        args = self.args(expr)
        return op(*args) if len(args) == 1 else _fold(op, args)
    return build


def builders() -> dict:
    """The structural builders and those of every op record with a ``from_sympy`` field
    (read now, so an op registered later is found). A SymPy class claimed twice is a
    ValueError: a record would otherwise be shadowed without notice."""
    found = dict(BUILDERS)
    for op in REGISTRY.values():
        if op.from_sympy is not None:
            cls = op.from_sympy(sp)
            if cls in found:
                raise ValueError(f"op {op.name!r}: SymPy {cls.__name__} already has a builder")
            found[cls] = _applied(op)
    return found


#: The builders of SymPy classes that are not one op of their arguments.
BUILDERS = {
    sp.Symbol: _FromSympy.symbol, sp.Number: _FromSympy.number,
    sp.NumberSymbol: _FromSympy.number,
    sp.Add: _nary(Node.__add__), sp.Mul: _FromSympy.mul, sp.Pow: _FromSympy.pow,
    sp.log: _FromSympy.log, sp.tan: _unary(lambda x: F.sin(x) / F.cos(x)),
    # symgrad values are real: SymPy's re/im (from e.g. Abs(exp(log(x)))) are x and 0
    sp.re: _unary(lambda x: x), sp.im: _unary(lambda x: F.broadcast_to(0.0, x.shape)),
    sp.arg: _unary(lambda x: F.where(x < 0.0, np.pi, 0.0)),
    sp.cosh: _unary(lambda x: (F.exp(x) + F.exp(-x)) / 2.0),
    sp.sinh: _unary(lambda x: (F.exp(x) - F.exp(-x)) / 2.0),
    sp.Piecewise: _FromSympy.piecewise, sp.ITE: lambda self, e: F.where(*self.args(e)),
    BooleanTrue: lambda self, e: constant(True), BooleanFalse: lambda self, e: constant(False),
    sp.And: _nary(elementwise.logical_and), sp.Or: _nary(elementwise.logical_or),
    sp.Xor: _nary(elementwise.logical_xor), sp.Not: _unary(elementwise.logical_not),
    sp.MatrixSymbol: _FromSympy.matrix_symbol, sp.MatrixBase: _FromSympy.explicit,
    sp.Identity: lambda self, e: F.eye(_dim(e.rows)),
    sp.ZeroMatrix: lambda self, e: F.zeros(tuple(_dim(d) for d in e.shape)),
    sp.OneMatrix: lambda self, e: F.broadcast_to(1.0, tuple(_dim(d) for d in e.shape)),
    sp.MatAdd: lambda self, e: _fold(Node.__add__, self.conform(e)),
    sp.HadamardProduct: lambda self, e: _fold(Node.__mul__, self.conform(e)),
    sp.HadamardPower: _FromSympy.pow,
    sp.MatMul: _FromSympy.matmul, sp.Transpose: _FromSympy.transpose,
    sp.Inverse: lambda self, e: F.inv(_as_2d(self.done[e.arg], e.arg.shape)),
    sp.MatPow: _FromSympy.matpow, sp.Trace: _FromSympy.trace,
    sp.Determinant: _FromSympy.determinant, MatrixElement: _FromSympy.element,
    MatrixSlice: _FromSympy.slice, ElementwiseApplyFunction: _FromSympy.applyfunc,
}


def from_sympy(expr, shapes=None) -> Node:
    """The graph node for a SymPy expression; ``shapes`` overrides input shapes by name.

    ``Symbol("w")`` becomes ``sg.scalar("w")`` and ``MatrixSymbol("X", n, m)``
    ``sg.matrix("X", ("n", "m"))``: the same interned nodes, so the result can
    be differentiated with respect to them. Unsupported SymPy classes raise
    ``ValueError`` naming them; strings are refused, never parsed.
    """
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return constant(float(expr))
    if not isinstance(expr, (sp.Basic, sp.MatrixBase)):
        raise TypeError(f"from_sympy takes a SymPy expression, got {type(expr).__name__} "
                        f"{expr!r:.40} (strings are never parsed)")
    if isinstance(expr, sp.MatrixBase):
        expr = sp.ImmutableMatrix(expr)
    shapes = {name: normalize_shape(shape) for name, shape in (shapes or {}).items()}
    return _FromSympy(shapes, _dimension_symbols(expr), builders()).convert(expr)


def _dimension_symbols(expr) -> set:
    """The symbols that size some matrix in ``expr``, and the positive integer symbols
    ``to_sympy`` writes for dimensions (a size such as ``tr(I_n) = n`` can outlive every
    matrix it sized). Symbols, not names: a real scalar input ``n`` beside a dimension
    ``n`` is another SymPy symbol (other assumptions), so it stays an input (issue 15,
    item 3)."""
    sized = expr.atoms(sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix)
    found = {s for atom in sized for d in atom.shape for s in d.free_symbols}
    return found | {s for s in expr.free_symbols
                    if isinstance(s, sp.Symbol) and s.is_integer and s.is_positive}
