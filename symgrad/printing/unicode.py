"""Readable math for graphs: Unicode infix (``str``/``pretty``); LaTeX lives in ``latex_printer``.

Contract for printer authors. A printer turns each node into a :class:`Piece`
(its text plus what a parent needs to decide on parentheses) from its
operands' pieces, one node at a time in topological order. It dispatches on
the op name: ``_print_<op>(node, *operand_pieces)``, one small method per op,
falling back to a function call ``name(args, attr=value)`` for ops it does
not know. Ops hold format data only (``Op.latex``); this module holds the
policy: precedence, minimal parentheses, naming and layout.

Shared subexpressions are printed once. A node used more than once (and not
trivially short, like ``Aᵀ``) is bound to a fresh name ``t₁, t₂, ...``; so
is any text longer than ``Printer.long`` characters, which keeps every stored string
short and the whole output linear in graph size (deep chains included).
The output lists the bindings one per line, in dependency order, followed by
the result line (outputs separated by ``", "``)::

    t₁ = σ(W @ x + b)
    t₁ ⊙ (1 - t₁)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..ir.graph import PRINTERS, Node, as_node_list, toposort
from ..ir.leaves import as_node
from ..ops import structure
from ..ops.indexing import template_source
from ..ops.linalg import TINY
from ..ops.products import matmul_plan, parse
from ..ops.structure import index_source
from ..ir.shapes import format_shape

# Binding strength, loosest first. ``SCRIPT`` is a text that ends in a
# super/subscript (Aᵀ, eˣ): it may not take another script without parentheses.
RELATION, SUM, PRODUCT, UNARY, POWER, SCRIPT, POSTFIX, ATOM = 5, 10, 20, 30, 40, 45, 50, 1000
FAMILY = {"mul": "mul", "div": "mul", "matmul": "matmul"}
LIGHT = ("transpose", "inv", "negative", "getitem")
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Piece:
    """A printed node: text, binding strength and hints for the parent.

    ``kind`` names the product family (``"mul"`` for * ⊙ /, ``"matmul"``) or
    ``"inv"``/``"transpose"``; ``neg`` is the negated operand's piece (so
    ``a + -b`` prints ``a - b``); ``base`` the operand of an ``inv``/``transpose``
    (so both orders print ``A⁻ᵀ``); ``implicit`` what an elementwise parent
    prints for a broadcast (just the operand); ``squeezed`` a keepdims
    reduction printed without keepdims (for ``reshape`` to the squeezed shape);
    ``weight`` 0 for leaves, small for ``Aᵀ``-like pieces never worth a name.
    """

    text: str
    prec: int = ATOM
    kind: str = ""
    neg: Optional["Piece"] = None
    base: Optional["Piece"] = None
    implicit: Optional["Piece"] = None
    squeezed: Optional["Piece"] = None
    weight: int = 2


def short_number(value) -> str:
    """A scalar as a short literal: ``2`` for 2.0, six significant digits otherwise."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


class Printer:
    """Unicode infix printer; see the module docstring for the contract."""

    functions = {"sigmoid": "σ", "maximum": "max", "minimum": "min", "trace": "tr"}
    relations = {"greater": ">", "greater_equal": "≥", "less": "<", "less_equal": "≤",
                 "equal": "=="}
    times, hadamard, matmul_symbol = " * ", " ⊙ ", " @ "
    long = 80

    # Driver -------------------------------------------------------------------------

    def doprint(self, nodes) -> str:
        """Bindings (one per line) followed by the outputs, comma-separated."""
        nodes, _ = as_node_list(nodes, "nodes")
        order = toposort(nodes)
        uses: dict = {}
        for node in order:
            for operand in node.operands:
                uses[operand] = uses.get(operand, 0) + 1
        outputs = set(nodes)
        taken = {self._print_input(n).text for n in order if n.op.name == "input"}
        pieces, bindings = {}, []
        for node in order:
            piece = self.piece(node, [pieces[o] for o in node.operands])
            count = uses.get(node, 0) + (node in outputs)
            # a long piece gets a name where an operand uses it; a result is written out
            if piece.weight > 1 and (count > 1 or (uses.get(node) and len(piece.text) > self.long)):
                name = self._fresh_name(len(bindings) + 1, taken)
                bindings.append((name, piece.text))
                piece = Piece(name, weight=0)
            pieces[node] = piece
        return self.layout(bindings, [pieces[n].text for n in nodes])

    def piece(self, node: Node, args: list) -> Piece:
        if node.op.elementwise:
            args = [a.implicit or a for a in args]
        method = getattr(self, "_print_" + node.op.name, None)
        if method is None:
            return self.call(node.op.name, [a.text for a in args], dict(node.attrs))
        return method(node, *args)

    def _fresh_name(self, k: int, taken: set) -> str:
        name = self.binding_name(k)
        while name in taken:
            k += 1000
            name = self.binding_name(k)
        return name

    def binding_name(self, k: int) -> str:
        return "t" + str(k).translate(SUBSCRIPT)

    def layout(self, bindings: list, results: list) -> str:
        return "\n".join([f"{name} = {text}" for name, text in bindings] + [", ".join(results)])

    # Parenthesization ------------------------------------------------------------------

    def paren(self, text: str) -> str:
        return f"({text})"

    def wrap(self, piece: Piece, needed: bool) -> str:
        return self.paren(piece.text) if needed else piece.text

    def infix(self, symbol: str, prec: int, left: Piece, right: Piece, kind: str = "",
              associative: bool = False) -> Piece:
        """``left symbol right``, parenthesizing only where the reading would change."""
        def clash(p):  # * ⊙ / next to @ reads ambiguously even when Python would not
            return kind and p.kind in FAMILY and FAMILY[p.kind] != FAMILY[kind]
        lhs = self.wrap(left, left.prec < prec or (left.prec == prec and clash(left)))
        same = right.prec == prec and (not associative or clash(right))
        rhs = self.wrap(right, right.prec < prec or same or right.text.startswith("-"))
        neg = None
        if kind and left.neg is not None and lhs == left.text:  # so a + (-2) * x prints a - 2 * x
            neg = self.infix(symbol, prec, left.neg, right, kind, associative)
        return Piece(f"{lhs}{symbol}{rhs}", prec, kind, neg=neg)

    def call(self, name: str, args: list, attrs: Optional[dict] = None) -> Piece:
        extra = [f"{k}={self.attr(v)}" for k, v in (attrs or {}).items()]
        return Piece(f"{self.functions.get(name, name)}({', '.join(list(args) + extra)})")

    def attr(self, value) -> str:
        if isinstance(value, tuple):
            return format_shape(value)
        return self.number(value) if isinstance(value, (int, float)) else str(value)

    def number(self, value) -> str:
        return short_number(value)

    # Leaves ------------------------------------------------------------------------

    def _print_input(self, node: Node, *_) -> Piece:
        name = node.name
        return Piece(name if name.isidentifier() else repr(name), weight=0)

    def _print_constant(self, node: Node) -> Piece:
        array = node.value
        if array.ndim == 0:
            text = self.number(array.item())
            if text.startswith("-"):
                return Piece(text, UNARY, neg=Piece(text[1:]), weight=0)
            return Piece(text, weight=0)
        if array.size and np.all(array == array.flat[0]):  # a broadcast number
            return self._print_constant(as_node(array.flat[0].item()))
        if array.ndim == 2 and array.shape[0] == array.shape[1] and np.array_equal(
                array, np.eye(len(array))):
            return Piece(self._identity, weight=0)
        if array.size <= 16 and array.ndim <= 2:
            return Piece(self.array(array), weight=0)
        return Piece("const" + format_shape(array.shape), weight=0)

    def array(self, array: np.ndarray) -> str:
        if array.ndim == 0:
            return self.number(array.item())
        return "[" + ", ".join(self.array(row) for row in array) + "]"

    def _print_zeros(self, node: Node) -> Piece:
        return Piece("0", weight=0)

    _identity = "I"

    def _print_eye(self, node: Node) -> Piece:
        return Piece(self._identity, weight=0)

    def _print_dimsize(self, node: Node) -> Piece:
        dims = [str(d) for d in node.attrs["dims"]]
        return Piece("·".join(dims), PRODUCT if len(dims) > 1 else ATOM, weight=0)

    # Arithmetic ----------------------------------------------------------------------

    def _print_add(self, node: Node, a: Piece, b: Piece) -> Piece:
        if b.neg is not None:
            return self.infix(" - ", SUM, a, b.neg)
        return self.infix(" + ", SUM, a, b, associative=True)

    def _print_subtract(self, node: Node, a: Piece, b: Piece) -> Piece:
        return self.infix(" - ", SUM, a, b)

    def _print_multiply(self, node: Node, a: Piece, b: Piece) -> Piece:
        symbol = self.hadamard if both_arrays(node) else self.times
        return self.infix(symbol, PRODUCT, a, b, "mul", associative=True)

    def _print_divide(self, node: Node, a: Piece, b: Piece) -> Piece:
        piece = self.infix(" / ", PRODUCT, a, b, "mul")
        return Piece(piece.text, PRODUCT, "div", neg=piece.neg)

    def _print_matmul(self, node: Node, a: Piece, b: Piece) -> Piece:
        # left-associative, as NumPy evaluates it: A @ (B @ C) keeps its parentheses
        return self.infix(self.matmul_symbol, PRODUCT, a, b, "matmul")

    def _print_maximum(self, node: Node, a: Piece, b: Piece) -> Piece:
        """max(a, b); the division guard max(‖x‖, tiny) of norm's derivative prints as ‖x‖."""
        if node.operands[1].op is structure.constant and node.operands[1].value == TINY:
            return a
        return self.call("maximum", [a.text, b.text])

    def _print_einsum(self, node: Node, *operands: Piece) -> Piece:
        """A batched matrix product as ``A @ B``; otherwise NumPy's spelling,
        ``einsum('ij,kj->ik', A, B)``."""
        inputs, output = parse(node.attrs["spec"])
        if len(inputs) == 2 and matmul_plan(inputs, output) == ((0, False), (1, False)):
            return self._print_matmul(node, *operands)
        args = [self.subscripts(node.attrs["spec"])] + [o.text for o in operands]
        return self.call("einsum", args)

    def subscripts(self, spec: str) -> str:
        return repr(spec)

    def _print_negative(self, node: Node, x: Piece) -> Piece:
        text = "-" + self.wrap(x, x.prec < PRODUCT or x.text.startswith("-"))
        prec = x.prec if x.prec == PRODUCT else UNARY
        return Piece(text, prec, x.kind if prec == PRODUCT else "", neg=x)

    def _print_power(self, node: Node, base: Piece, exponent: Piece) -> Piece:
        """``x²`` for scalars; ``A^∘2`` (Hadamard power) for arrays, never read as ``A @ A``."""
        lhs = self.wrap(base, base.prec < POSTFIX)
        k = self._small_int(node.operands[1])
        if node.operands[0].ndim:
            return Piece(f"{lhs}^∘{self.wrap(exponent, exponent.prec < ATOM)}", POWER)
        if k is not None:
            return Piece(lhs + str(k).translate(SUPERSCRIPT), POWER)
        return Piece(f"{lhs}^{self.wrap(exponent, exponent.prec < ATOM)}", POWER)

    @staticmethod
    def _small_int(node: Node):
        value = node.value
        if value is None or value.ndim or not float(value).is_integer() or abs(value) > 99:
            return None
        return int(value)

    def _relation(self, node: Node, a: Piece, b: Piece) -> Piece:
        return self.infix(f" {self.relations[node.op.name]} ", RELATION, a, b)

    _print_greater = _print_greater_equal = _print_less = _print_less_equal = _relation
    _print_equal = _relation

    # Postfix and structure -----------------------------------------------------------

    def script(self, base: Piece, mark: str, kind: str) -> Piece:
        """``base`` with a superscript mark; ``A⁻ᵀ`` when inv meets transpose."""
        if base.kind in ("inv", "transpose") and base.kind != kind and base.base is not None:
            return Piece(self.superscript_text(base.base, self.inverse_transpose), SCRIPT,
                         weight=base.weight + 1)
        return Piece(self.superscript_text(base, mark), SCRIPT, kind, base=base,
                     weight=base.weight + 1)

    def superscript_text(self, base: Piece, mark: str) -> str:
        return self.wrap(base, base.prec < POSTFIX) + mark

    inverse_transpose = "⁻ᵀ"

    def _print_transpose(self, node: Node, x: Piece) -> Piece:
        axes = node.attrs["axes"]
        if axes != tuple(reversed(range(len(axes)))):
            return self.call("transpose", [x.text], {"axes": axes})
        return self.script(x, self.transpose_mark, "transpose")

    transpose_mark, inverse_mark = "ᵀ", "⁻¹"

    def _print_inv(self, node: Node, x: Piece) -> Piece:
        return self.script(x, self.inverse_mark, "inv")

    pinv_mark = "⁺"

    def _print_pinv(self, node: Node, x: Piece) -> Piece:
        """The Moore-Penrose pseudo-inverse ``X⁺`` (a call when its cutoff is not NumPy's)."""
        if node.attrs["rcond"] is not None or node.attrs["hermitian"]:
            return self.call("pinv", [x.text], dict(node.attrs))
        return self.script(x, self.pinv_mark, "pinv")

    def _print_getitem(self, node: Node, x: Piece) -> Piece:
        text = self.wrap(x, x.prec < SCRIPT) + f"[{index_source(node.attrs['index'])}]"
        return Piece(text, POSTFIX, weight=x.weight + 1)

    def _print_gather(self, node: Node, x: Piece, *arrays: Piece) -> Piece:
        index = template_source(node.attrs["index"], [a.text for a in arrays])
        return Piece(self.wrap(x, x.prec < SCRIPT) + f"[{index}]", POSTFIX, weight=x.weight + 1)

    def _print_scatter_add(self, node: Node, g: Piece, *arrays: Piece) -> Piece:
        index = template_source(node.attrs["index"], [a.text for a in arrays])
        return self.call("scatter_add", [g.text, self.attr(node.shape), f"[{index}]"])

    def _print_broadcast_to(self, node: Node, x: Piece) -> Piece:
        full = self.call("broadcast_to", [x.text], {"shape": node.shape})
        return Piece(full.text, implicit=x)

    def _print_reshape(self, node: Node, x: Piece) -> Piece:
        if x.squeezed is not None and node.shape == _squeezed(node):
            return x.squeezed
        return self.call("reshape", [x.text], {"shape": node.shape})

    def reduction(self, node: Node, x: Piece, name: str) -> Piece:
        operand, axis, keepdims = node.operands[0], node.attrs["axis"], node.attrs["keepdims"]
        full = len(axis) == operand.ndim
        attrs = {} if full and not keepdims else {"axis": axis[0] if len(axis) == 1 else axis}
        plain = self.call(name, [x.text], attrs)
        if not keepdims:
            return plain
        return Piece(self.call(name, [x.text], dict(attrs, keepdims=True)).text, squeezed=plain)

    def _print_sum(self, node: Node, x: Piece) -> Piece:
        return self.reduction(node, x, "sum")

    def _print_logsumexp(self, node: Node, x: Piece) -> Piece:
        return self.reduction(node, x, "logsumexp")

    def _print_max(self, node: Node, x: Piece) -> Piece:
        return self.reduction(node, x, "max")

    def _print_min(self, node: Node, x: Piece) -> Piece:
        return self.reduction(node, x, "min")

    def _print_prod(self, node: Node, x: Piece) -> Piece:
        return self.reduction(node, x, "prod")

    def _print_weighted_logsumexp(self, node: Node, x: Piece, b: Piece) -> Piece:
        """``logsumexp(x, b=b, axis=...)``, SciPy's form."""
        axis, keepdims = node.attrs["axis"], node.attrs["keepdims"]
        ndim = max(o.ndim for o in node.operands)
        attrs = {} if len(axis) == ndim else {"axis": axis[0] if len(axis) == 1 else axis}
        return self.call("logsumexp", [x.text, f"b={b.text}"],
                         dict(attrs, keepdims=True) if keepdims else attrs)

    def scan(self, node: Node, x: Piece, name: str) -> Piece:
        """``cumsum(x, axis=0)``; a reversed scan (only built by derivatives) says so."""
        attrs = {"axis": node.attrs["axis"]}
        return self.call(name, [x.text], dict(attrs, reverse=True) if node.attrs["reverse"]
                         else attrs)

    def _print_cumsum(self, node: Node, x: Piece) -> Piece:
        return self.scan(node, x, "cumsum")

    def _print_cumprod(self, node: Node, x: Piece) -> Piece:
        return self.scan(node, x, "cumprod")

    def arg_extreme(self, node: Node, x: Piece, name: str) -> Piece:
        attrs = {k: v for k, v in node.attrs.items() if v is not None and v is not False}
        return self.call(name, [x.text], attrs)

    def _print_argmax(self, node: Node, x: Piece) -> Piece:
        return self.arg_extreme(node, x, "argmax")

    def _print_argmin(self, node: Node, x: Piece) -> Piece:
        return self.arg_extreme(node, x, "argmin")

    def along_axis(self, node: Node, x: Piece, name: str) -> Piece:
        axis = node.attrs["axis"]
        last = axis == node.operands[0].ndim - 1
        return self.call(name, [x.text], {} if last else {"axis": axis})

    def _print_softmax(self, node: Node, x: Piece) -> Piece:
        return self.along_axis(node, x, "softmax")

    def _print_log_softmax(self, node: Node, x: Piece) -> Piece:
        return self.along_axis(node, x, "log_softmax")

    def _print_concatenate(self, node: Node, *xs: Piece) -> Piece:
        axis = node.attrs["axis"]
        return self.call("concatenate", [x.text for x in xs], {"axis": axis} if axis else {})

    def _print_scatter(self, node: Node, g: Piece) -> Piece:
        index = f"[{index_source(node.attrs['index'])}]"
        return self.call("scatter", [g.text, self.attr(node.shape), index])

    def _print_one_hot(self, node: Node, labels: Piece) -> Piece:
        return self.call("one_hot", [labels.text, str(node.attrs["k"])])

    # Delimited functions --------------------------------------------------------------

    def _print_abs(self, node: Node, x: Piece) -> Piece:
        return Piece(f"|{x.text}|")

    def _print_norm(self, node: Node, x: Piece) -> Piece:
        return Piece(f"‖{x.text}‖")

    def _print_sqrt(self, node: Node, x: Piece) -> Piece:
        return Piece("√" + self.wrap(x, x.prec < POSTFIX), SCRIPT)


def both_arrays(node: Node) -> bool:
    """Whether both operands are arrays (``⊙``), looking through implicit broadcasts."""
    left, right = (o.operands[0] if o.op.name == "broadcast_to" else o for o in node.operands)
    return bool(left.ndim and right.ndim)


def _squeezed(node: Node) -> tuple:
    """The shape of ``node``'s keepdims-reduction operand without the kept axes."""
    reduced = node.operands[0]
    axis = reduced.attrs["axis"]
    return tuple(d for i, d in enumerate(reduced.shape) if i not in axis)


def pretty(nodes) -> str:
    """Readable Unicode math; shared subexpressions are bound once as ``t₁ = ...``."""
    return Printer().doprint(nodes)


PRINTERS["unicode"] = pretty
