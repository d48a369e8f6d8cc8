"""Readable math for graphs: Unicode infix (``str``/``pretty``); LaTeX lives in :mod:`.latex`.

Contract for printer authors. A printer turns each node into a :class:`Piece`
(its text plus what a parent needs to decide on parentheses) from its
operands' pieces, one node at a time in topological order. It dispatches
through the op's record: its ``unicode`` field (``rule(printer, node,
*operand_pieces) -> Piece``), written in the op's own module with the generic
machinery here (:meth:`Printer.infix`, :meth:`Printer.call`,
:meth:`Printer.script`, ...); an op without one prints as a function call
``head(args, attr=value)``, its head the record's ``symbol`` (else its name).
This module holds only the policy: minimal parentheses, naming and layout.

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

from typing import Optional

import numpy as np

from ..ir.graph import PRINTERS, Node, Op, as_node_list, toposort
from ..ir.print_forms import POSTFIX, SCRIPT, SUBSCRIPT, Piece
from ..ir.shapes import format_shape

FAMILY = {"mul": "mul", "div": "mul", "matmul": "matmul"}


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
        taken = {self.input_name(n.name) for n in order if n.name is not None}
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
        rule = self.rule(node.op)
        if rule is None:
            return self.call(node.op, [a.text for a in args], dict(node.attrs))
        return rule(self, node, *args)

    def rule(self, op: Op):
        """The op's printing rule in this notation (None: a function call)."""
        return op.unicode

    def head(self, op: Op) -> str:
        """The op's symbol or function name in this notation."""
        return op.symbol or op.name

    def input_name(self, name: str) -> str:
        """An input's name as printed (quoted when it is not an identifier)."""
        return name if name.isidentifier() else repr(name)

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

    def call(self, head, args: list, attrs: Optional[dict] = None) -> Piece:
        """``head(args, attr=value)``; ``head`` an op (printed as :meth:`head`) or a word."""
        extra = [f"{k}={self.attr(v)}" for k, v in (attrs or {}).items()]
        name = self.head(head) if isinstance(head, Op) else head
        return Piece(f"{name}({', '.join(list(args) + extra)})")

    def brackets(self, text: str) -> str:
        return f"[{text}]"

    def attr(self, value) -> str:
        if isinstance(value, tuple):
            return format_shape(value)
        return self.number(value) if isinstance(value, (int, float)) else str(value)

    def number(self, value) -> str:
        return short_number(value)

    def array(self, array: np.ndarray) -> str:
        if array.ndim == 0:
            return self.number(array.item())
        return "[" + ", ".join(self.array(row) for row in array) + "]"

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


def pretty(nodes) -> str:
    """Readable Unicode math; shared subexpressions are bound once as ``t₁ = ...``."""
    return Printer().doprint(nodes)


PRINTERS["unicode"] = pretty
