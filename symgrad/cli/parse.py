"""A restricted parser for expressions typed on the command line.

The text is parsed by Python's :mod:`ast` and then *walked*, never evaluated:
only names, numbers, ``+ - * / ** @ % //``, unary minus, ``.T``, one comparison
(``> >= < <= ==``, for ``where``), indexing with ints and slices, lists of
expressions as the first argument of ``stack``/``concatenate``, and calls to the functions :func:`functions` lists are
accepted; anything else is a :class:`ParseError` that names the offending
token and its (1-based) column. Input length and nesting depth are bounded,
so no input can hang the parser or exhaust the stack.

A name is an input: its shape and dtype come from ``shapes``/``dtypes``
(a name not listed there is a float scalar). A dimension name used as a value
(``sum(x) / n``) stands for that dimension's size.
"""
from __future__ import annotations

import ast
import math
import operator

from ..ir.graph import COMMAND_LINE, OPERATORS as GRAPH_OPERATORS, REGISTRY, Node
from ..ops import structure
from ..ir.leaves import constant, tensor
from ..ir.shapes import ShapeError

MAX_LENGTH = 4000
MAX_DEPTH = 200
MAX_DIM = 100_000

# Parameter kinds: node (an expression), nodes (a list or tuple of expressions), dim
# (int or dimension name), axis (int, tuple of ints or None), int, ints (tuple of
# ints), shape (tuple of dims), bool.
#: Comparison operators (one per comparison: no chains) and the Python operators whose
#: ops (:data:`symgrad.ir.graph.OPERATORS`) they build.
COMPARISONS = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt,
               ast.LtE: operator.le, ast.Eq: operator.eq}
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
             ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}


def functions() -> dict:
    """Every command-line function: name -> (builder, ((kind, default), ...), keywords).

    The op records with a ``cli`` field (called with positional operands, no keywords),
    then the API functions declared with :func:`symgrad.ir.graph.command_line` (called
    by keyword; their parameter names are the keywords). Read now, so that an op or
    function defined later is found.
    """
    found = {op.name: (op, op.cli, None) for op in REGISTRY.values() if op.cli is not None}
    for name, (function, params) in COMMAND_LINE.items():
        found[name] = (function, tuple((kind, default) for _, kind, default in params),
                       tuple(parameter for parameter, _, _ in params))
    return found


DISALLOWED = {"BoolOp": "'and'/'or'", "Lambda": "lambdas",
              "IfExp": "conditional expressions", "Dict": "dicts", "Set": "sets",
              "List": "lists", "Tuple": "tuples", "ListComp": "comprehensions",
              "SetComp": "comprehensions", "DictComp": "comprehensions",
              "GeneratorExp": "generators", "JoinedStr": "f-strings", "NamedExpr": "':='",
              "Starred": "'*' unpacking", "Await": "await", "Yield": "yield"}


class ParseError(ValueError):
    """Bad expression text; ``column`` (1-based) points at the offending token."""

    def __init__(self, message: str, column: int | None = None, token: str | None = None):
        self.message, self.column, self.token = message, column, token
        where = f"column {column}" if column else "expression"
        near = f" (at {token!r})" if token else ""
        super().__init__(f"{where}{near}: {message}")


def parse_expression(text: str, shapes: dict | None = None, dtypes: dict | None = None) -> Node:
    """The graph node that ``text`` describes (see the module doc)."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    for i, ch in enumerate(text):
        if not ch.isprintable():
            raise ParseError("expressions are one line of printable text", i + 1, ch)
    if not text.strip():
        raise ParseError("empty expression")
    tree = _syntax(text)
    return _Builder(text, shapes or {}, dtypes or {}).build(tree.body, 0)


def _syntax(text: str) -> ast.Expression:
    try:
        return ast.parse(text.lstrip(), mode="eval")
    except SyntaxError as err:
        stripped = text.lstrip()
        if not err.offset or err.offset > len(stripped):
            raise ParseError("syntax error: unexpected end of expression", len(text) + 1) from None
        column = err.offset + len(text) - len(stripped)
        raise ParseError(f"syntax error: {err.msg}", column, text[column - 1]) from None
    except (RecursionError, MemoryError):
        raise ParseError(f"expression is nested too deeply (limit {MAX_DEPTH})") from None


class _Builder:
    """Walks an ``ast`` tree and builds nodes; every rejection names the token."""

    def __init__(self, text: str, shapes: dict, dtypes: dict):
        self.text = text
        self.offset = len(text) - len(text.lstrip())
        self.shapes, self.dtypes = shapes, dtypes
        self.dims = {d for shape in shapes.values() for d in shape if isinstance(d, str)}
        self.functions = functions()

    def column(self, byte_offset: int) -> int:
        """1-based character column of a UTF-8 byte offset into the stripped text."""
        prefix = self.text.lstrip().encode("utf-8")[:byte_offset]
        return len(prefix.decode("utf-8", errors="ignore")) + 1 + self.offset

    def fail(self, node: ast.AST, message: str):
        token = ast.get_source_segment(self.text.lstrip(), node)
        if token and len(token) > 24:
            token = token[:21] + "..."
        raise ParseError(message, self.column(node.col_offset), token)

    def fail_at_operator(self, node: ast.BinOp, message: str):
        """Point at the operator between the operands of ``node``."""
        line = self.text.lstrip().encode("utf-8")
        gap = line[node.left.end_col_offset:node.right.col_offset]
        stripped = gap.decode("utf-8", errors="ignore").strip().strip("()").strip()
        start = node.left.end_col_offset + gap.find(stripped.encode("utf-8")[:1] or b" ")
        raise ParseError(message, self.column(start), stripped or None)

    def build(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            self.fail(node, f"expression is nested too deeply (limit {MAX_DEPTH})")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            kind = type(node).__name__
            self.fail(node, f"{DISALLOWED[kind]} are not allowed" if kind in DISALLOWED
                      else f"{kind} is not allowed here")
        try:
            return method(node, depth + 1)
        except ParseError:
            raise
        except (ShapeError, ValueError, TypeError, IndexError) as err:
            if isinstance(node, ast.BinOp):
                self.fail_at_operator(node, str(err))
            self.fail(node.slice if isinstance(node, ast.Subscript) else node, str(err))

    def _Name(self, node, depth) -> Node:
        name = node.id
        if name in self.functions:
            self.fail(node, f"{name!r} is a function: call it, e.g. {name}(x)")
        if name in self.dims and name not in self.shapes:
            return structure.dimsize(dims=(name,))
        return tensor(name, self.shapes.get(name, ()), self.dtypes.get(name, "float64"))

    def _Constant(self, node, depth) -> Node:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(node, f"{type(value).__name__} constants are not allowed (numbers only)")
        if isinstance(value, int) and value.bit_length() > 1000:
            self.fail(node, "number too large")
        if not math.isfinite(float(value)):
            self.fail(node, "number too large (not a finite float)")
        return constant(float(value))

    def _BinOp(self, node, depth) -> Node:
        """A chain ``a + b - c ...`` is walked along its left spine, not recursively."""
        chain = [node]
        while isinstance(chain[-1].left, ast.BinOp):
            chain.append(chain[-1].left)
        result = self.build(chain[-1].left, depth)
        for link in reversed(chain):
            python = OPERATORS.get(type(link.op))
            if python is None:
                self.fail_at_operator(link, f"operator {type(link.op).__name__} is not "
                                      "allowed (use + - * / ** @ % //)")
            right = self.build(link.right, depth)
            try:
                result = GRAPH_OPERATORS[python](result, right)
            except (ShapeError, ValueError, TypeError) as err:
                self.fail_at_operator(link, str(err))
        return result

    def _Compare(self, node, depth) -> Node:
        """``a > b``, ``a >= b``, ``a < b``, ``a <= b``, ``a == b``: a bool node (for ``where``)."""
        if len(node.ops) > 1:
            self.fail(node, "chained comparisons are not allowed (write one comparison)")
        python = COMPARISONS.get(type(node.ops[0]))
        if python is None:
            self.fail(node, f"comparison {type(node.ops[0]).__name__} is not allowed "
                      "(use > >= < <= ==)")
        return GRAPH_OPERATORS[python](self.build(node.left, depth),
                                       self.build(node.comparators[0], depth))

    def _UnaryOp(self, node, depth) -> Node:
        if isinstance(node.op, ast.USub):
            return -self.build(node.operand, depth)
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand, depth)
        self.fail(node, "only unary - and + are allowed")

    def _Attribute(self, node, depth) -> Node:
        if node.attr != "T":
            self.fail(node, f"attribute .{node.attr} is not allowed (only .T)")
        return self.build(node.value, depth).T

    def _Subscript(self, node, depth) -> Node:
        target = self.build(node.value, depth)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return target[tuple(self.index(p) for p in parts)]

    def index(self, part):
        if isinstance(part, ast.Slice):
            bounds = [None if p is None else self.integer(p) for p in (part.lower, part.upper,
                                                                       part.step)]
            return slice(*bounds)
        return self.integer(part)

    def _Call(self, node, depth) -> Node:
        if not isinstance(node.func, ast.Name):
            self.fail(node.func, "only calls of the listed functions by name are allowed")
        name = node.func.id
        if name not in self.functions:
            self.fail(node.func, f"unknown function {name!r}; known: "
                      f"{', '.join(sorted(self.functions))}")
        function, params, keywords = self.functions[name]
        args = self.arguments(node, name, params, keywords or ())
        values = [self.argument(kind, arg, default, depth)
                  for (kind, default), arg in zip(params, args)]
        return function(*values) if keywords is None else function(**dict(zip(keywords, values)))

    def arguments(self, node, name: str, params, keywords) -> list:
        """The call's argument ast nodes in parameter order (None where defaulted)."""
        if len(node.args) > len(params):
            self.fail(node, f"{name}() takes at most {len(params)} argument"
                      f"{'s' if len(params) > 1 else ''}, got {len(node.args)}")
        args = list(node.args) + [None] * (len(params) - len(node.args))
        for keyword in node.keywords:
            if keyword.arg not in keywords:
                self.fail(keyword.value if keyword.arg is None else keyword,
                          f"{name}() has no keyword argument {keyword.arg!r}")
            position = keywords.index(keyword.arg)
            if args[position] is not None:
                self.fail(keyword, f"{name}() got {keyword.arg!r} twice")
            args[position] = keyword.value
        for (kind, default), arg in zip(params, args):
            if arg is None and default is None and kind in ("node", "nodes", "dim", "shape"):
                self.fail(node, f"{name}() is missing an argument")
        return args

    def argument(self, kind: str, arg, default, depth: int):
        if arg is None:
            return default
        if kind == "node":
            return self.build(arg, depth)
        if kind == "nodes":
            if not isinstance(arg, (ast.List, ast.Tuple)) or not arg.elts:
                self.fail(arg, "expected a list of expressions, e.g. [a, b]")
            return [self.build(e, depth) for e in arg.elts]
        if kind == "int":
            return self.integer(arg)
        if kind == "dim":
            return self.dim(arg)
        if kind == "bool":
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, bool)):
                self.fail(arg, "expected True or False")
            return arg.value
        if kind == "axis" and isinstance(arg, ast.Constant) and arg.value is None:
            return None
        if kind in ("axis", "ints") and not isinstance(arg, ast.Tuple):
            return self.integer(arg)
        if isinstance(arg, ast.Tuple):
            read = self.dim if kind == "shape" else self.integer
            return tuple(read(e) for e in arg.elts)
        return (self.dim(arg),)

    def integer(self, node) -> int:
        """An int literal, possibly negated."""
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) is int):
            self.fail(node, "expected an integer literal")
        if node.value > MAX_DIM:
            self.fail(node, f"integer {node.value} is too large (limit {MAX_DIM})")
        return sign * node.value

    def dim(self, node):
        """A dimension: an int literal or a dimension name."""
        if isinstance(node, ast.Name):
            return node.id
        size = self.integer(node)
        if size < 0:
            self.fail(node, "a dimension cannot be negative")
        return size


__all__ = ["parse_expression", "ParseError", "functions", "MAX_LENGTH", "MAX_DEPTH"]
