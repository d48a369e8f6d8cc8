"""The vocabulary of printed forms: :class:`Piece` and the binding strengths.

An op's printing rule (its record's ``unicode``/``latex`` field, see
:class:`symgrad.ir.graph.Op`) returns a ``Piece`` built from its operands'
pieces with the printer's generic machinery (:mod:`symgrad.printing.unicode`).
The words the rules and printers share live here, below both the ops and
the printers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# Binding strength, loosest first. ``SCRIPT`` is a text that ends in a
# super/subscript (Aᵀ, eˣ): it may not take another script without parentheses.
LOGICAL, RELATION, SUM, PRODUCT, UNARY, POWER, SCRIPT, POSTFIX, ATOM = 3, 5, 10, 20, 30, 40, 45, 50, 1000
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
