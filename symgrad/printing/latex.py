"""LaTeX printer: the Unicode printer's policy with LaTeX spelling.

Every string a user controls (input and dimension names, unknown attribute
values) goes through :func:`latex_name` or :func:`escape`, so any name, with
braces, backslashes, ``$``, ``%``, control characters or Unicode, gives
valid LaTeX. Texts that end in a super- or subscript (``A^{T}``, ``e^{x}``,
``x_{0}``) never take a second one without ``\\left( \\right)``: TeX rejects
double scripts.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np

from ..ir.graph import PRINTERS, Op
from ..ir.print_forms import POSTFIX, SCRIPT
from .unicode import Piece, Printer, short_number

ESCAPES = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "$": r"\$", "&": r"\&",
           "#": r"\#", "%": r"\%", "^": r"\wedge{}", "~": r"\sim{}", " ": r"\ "}
GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
         "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi "
         "Omega").split()
SIMPLE_NAME = re.compile(r"([A-Za-z]+)(?:_?([0-9]+)|_([A-Za-z0-9]+))?")
#: Code points of letters that TeX-math renderers set as text (``\\text{é}``): Latin-1
#: and Latin Extended, Cyrillic, CJK and Hangul (KaTeX's supported scripts). Any other
#: non-ASCII character prints as ``?``, as a control character does.
TEXT_LETTERS = ((0xC0, 0x24F), (0x400, 0x4FF), (0x3040, 0x30FF), (0x4E00, 0x9FAF),
                (0xAC00, 0xD7AF))


def _char(c: str) -> str:
    """One character of a name, as LaTeX that is valid inside ``\\mathrm{}``."""
    if c in ESCAPES:
        return ESCAPES[c]
    if c.isascii():
        return c if c.isprintable() else "?"
    words = unicodedata.name(c, "").replace("LAMDA", "LAMBDA").split()
    if words[:2] == ["GREEK", "SMALL"] and len(words) == 4 and words[3].lower() in GREEK:
        return "\\" + words[3].lower() + "{}"
    if words[:2] == ["GREEK", "CAPITAL"] and len(words) == 4 and words[3].title() in GREEK:
        return "\\" + words[3].title() + "{}"
    if unicodedata.category(c).startswith("L") and any(
            lo <= ord(c) <= hi for lo, hi in TEXT_LETTERS):
        return rf"\text{{{c}}}"
    return "?"


def escape(text: str) -> str:
    """``text`` with every LaTeX-special character escaped (for use in math mode); accents
    composed first (NFC), so ``e`` and a combining acute are ``\\text{é}``."""
    return "".join(_char(c) for c in unicodedata.normalize("NFC", text))


def _word(word: str) -> str:
    if word in GREEK:
        return "\\" + word
    return word if len(word) == 1 else rf"\mathrm{{{word}}}"


def latex_name(name: str) -> str:
    """An input or dimension name: ``x``, ``W_{1}``, ``\\sigma``, ``\\mathrm{x\\_y\\_z}``."""
    match = SIMPLE_NAME.fullmatch(name)
    if match is None:
        return rf"\mathrm{{{escape(name)}}}"
    base, digits, word = match.groups()
    sub = digits or (word and _word(word))
    return _word(base) + (f"_{{{sub}}}" if sub else "")


def ends_in_script(text: str, mark: str) -> bool:
    """Whether ``text`` ends in a ``mark`` (``_`` or ``^``) script at the top level:
    ``W_{1}``, ``W_{\\mathrm{h}}``, ``x_1`` (not ``\\left(W_{1}\\right)``)."""
    if not text.endswith("}"):
        return len(text) >= 2 and text[-2] == mark and text[-1].isalnum()
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == "}" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif text[i] == "{" and (i == 0 or text[i - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return i > 0 and text[i - 1] == mark
    return False


class LatexPrinter(Printer):
    """LaTeX output: aligned bindings, ``\\left( \\right)``; an op's LaTeX rule is its
    record's ``latex`` field, else its ``unicode`` one (spelled by this printer), and
    its head the record's ``latex_symbol``, else ``\\operatorname{name}``."""

    inverse_transpose = "^{-T}"
    long = 160

    def rule(self, op: Op):
        return op.latex or op.unicode

    def head(self, op: Op) -> str:
        return op.latex_symbol or rf"\operatorname{{{escape(op.name)}}}"

    def input_name(self, name: str) -> str:
        return latex_name(name)

    def brackets(self, text: str) -> str:
        return rf"\left[{text}\right]"

    def binding_name(self, k: int) -> str:
        return f"t_{{{k}}}"

    def layout(self, bindings: list, results: list) -> str:
        result = r",\quad ".join(results)
        if not bindings:
            return result
        rows = [f"{name} &= {text}" for name, text in bindings] + [f"& {result}"]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)"

    def subscript(self, base: Piece, index: str) -> Piece:
        """``base_{index}``; a base that ends in a subscript (``W_{1}``, ``t_{2}``) is
        grouped first, ``{W_{1}}_{0}``: TeX rejects a double subscript."""
        text = self.wrap(base, base.prec < POSTFIX)
        if ends_in_script(text, "_"):
            text = "{" + text + "}"
        return Piece(f"{text}_{{{index}}}", SCRIPT, weight=base.weight + 1)

    def call(self, head, args: list, attrs=None) -> Piece:
        extra = [rf"\mathrm{{{escape(k)}}}={self.attr(v)}" for k, v in (attrs or {}).items()]
        head = self.head(head) if isinstance(head, Op) else rf"\operatorname{{{escape(head)}}}"
        return Piece(head + r"\left(" + ", ".join(list(args) + extra) + r"\right)")

    def attr(self, value) -> str:
        if isinstance(value, tuple):
            return r"\left(" + ", ".join(self.attr(v) for v in value) + r"\right)"
        if isinstance(value, str):
            return latex_name(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.number(value)
        return rf"\mathrm{{{escape(str(value))}}}"

    def number(self, value) -> str:
        if isinstance(value, (bool, np.bool_)):
            return rf"\mathrm{{{bool(value)}}}"
        text = short_number(value)
        if text in ("inf", "-inf"):
            return text.replace("inf", r"\infty")
        if text == "nan":
            return r"\mathrm{NaN}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            power = rf"10^{{{int(exponent)}}}"
            return power if mantissa == "1" else rf"{mantissa} \cdot {power}"
        return text

    def array(self, array: np.ndarray) -> str:
        rows = array.reshape(-1, 1) if array.ndim == 1 else array
        body = r" \\ ".join(" & ".join(self.number(v) for v in row) for row in rows.tolist())
        return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def latex(nodes) -> str:
    """LaTeX for a node (or nodes); shared subexpressions become aligned ``t_{k}`` lines."""
    return LatexPrinter().doprint(nodes)


PRINTERS["latex"] = latex
