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

from ..ir.graph import PRINTERS, Node
from ..ops.indexing import template_source
from ..ops.structure import index_source
from .unicode import (ATOM, POSTFIX, POWER, PRODUCT, SCRIPT, Piece, Printer, both_arrays,
                       short_number)

ESCAPES = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "$": r"\$", "&": r"\&",
           "#": r"\#", "%": r"\%", "^": r"\wedge{}", "~": r"\sim{}", " ": r"\ "}
GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
         "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi "
         "Omega").split()
SUBSCRIPTED = re.compile(r"_\{[^{}]*\}$")
SIMPLE_NAME = re.compile(r"([A-Za-z]+)(?:_?([0-9]+)|_([A-Za-z0-9]+))?")


def _char(c: str) -> str:
    """One character of a name, as LaTeX that is valid inside ``\\mathrm{}``."""
    if c in ESCAPES:
        return ESCAPES[c]
    if c.isascii():
        return c if c.isprintable() else "?"
    if unicodedata.category(c).startswith("C"):
        return "?"
    words = unicodedata.name(c, "").replace("LAMDA", "LAMBDA").split()
    if words[:2] == ["GREEK", "SMALL"] and len(words) == 4 and words[3].lower() in GREEK:
        return "\\" + words[3].lower() + "{}"
    if words[:2] == ["GREEK", "CAPITAL"] and len(words) == 4 and words[3].title() in GREEK:
        return "\\" + words[3].title() + "{}"
    return c


def escape(text: str) -> str:
    """``text`` with every LaTeX-special character escaped (for use in math mode)."""
    return "".join(_char(c) for c in text)


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


class LatexPrinter(Printer):
    """LaTeX output: ``\\frac``, ``^{T}``, ``^{-1}``, ``\\odot``, aligned bindings."""

    functions = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos",
                 "tanh": r"\tanh", "sigmoid": r"\sigma", "maximum": r"\max", "minimum": r"\min",
                 "det": r"\det", "trace": r"\operatorname{tr}", "logdet": r"\log\det"}
    relations = {"greater": ">", "greater_equal": r"\geq", "less": "<", "less_equal": r"\leq",
                 "equal": "="}
    hadamard, matmul_symbol = r" \odot ", " "
    transpose_mark, inverse_mark, inverse_transpose = "^{T}", "^{-1}", "^{-T}"
    pinv_mark = "^{+}"
    long = 160

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

    def call(self, name: str, args: list, attrs=None) -> Piece:
        extra = [rf"\mathrm{{{escape(k)}}}={self.attr(v)}" for k, v in (attrs or {}).items()]
        head = self.functions.get(name) or rf"\operatorname{{{escape(name)}}}"
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

    def _print_input(self, node: Node, *_) -> Piece:
        return Piece(latex_name(node.name), weight=0)

    def subscripts(self, spec: str) -> str:
        """einsum subscripts as ``\\mathtt{ij,jk \\to ik}``."""
        return r"\mathtt{" + spec.replace("->", r" \to ") + "}"

    def _print_dimsize(self, node: Node) -> Piece:
        dims = [self.attr(d) for d in node.attrs["dims"]]
        return Piece(r" \cdot ".join(dims), PRODUCT if len(dims) > 1 else ATOM, weight=0)

    def _print_multiply(self, node: Node, a: Piece, b: Piece) -> Piece:
        if both_arrays(node):
            symbol = self.hadamard
        else:
            symbol = r" \cdot " if b.text[:1].isdigit() or b.text[:1] in "-." else " "
        return self.infix(symbol, PRODUCT, a, b, "mul", associative=True)

    def _print_divide(self, node: Node, a: Piece, b: Piece) -> Piece:
        return Piece(rf"\frac{{{a.text}}}{{{b.text}}}", SCRIPT)

    def _print_power(self, node: Node, base: Piece, exponent: Piece) -> Piece:
        hadamard = r"\circ " if node.operands[0].ndim else ""
        return Piece(f"{self.wrap(base, base.prec < POSTFIX)}^{{{hadamard}{exponent.text}}}", POWER)

    def _print_getitem(self, node: Node, x: Piece) -> Piece:
        index = index_source(node.attrs["index"])
        base = self.wrap(x, x.prec < POSTFIX)
        if SUBSCRIPTED.search(base):  # W_{1}, t_{2}: group it, TeX rejects a double subscript
            base = "{" + base + "}"
        return Piece(f"{base}_{{{index}}}", SCRIPT, weight=x.weight + 1)

    def _print_gather(self, node: Node, x: Piece, *arrays: Piece) -> Piece:
        index = template_source(node.attrs["index"], [a.text for a in arrays])
        return Piece(f"{self.wrap(x, x.prec < POSTFIX)}_{{{index}}}", SCRIPT, weight=x.weight + 1)

    def _print_scatter_add(self, node: Node, g: Piece, *arrays: Piece) -> Piece:
        index = template_source(node.attrs["index"], [a.text for a in arrays])
        return self.call("scatter_add", [g.text, self.attr(node.shape), rf"\left[{index}\right]"])

    def _print_exp(self, node: Node, x: Piece) -> Piece:
        return Piece(f"e^{{{x.text}}}", SCRIPT)

    def _print_abs(self, node: Node, x: Piece) -> Piece:
        return Piece(rf"\left|{x.text}\right|")

    def _print_norm(self, node: Node, x: Piece) -> Piece:
        return Piece(rf"\left\|{x.text}\right\|")

    def _print_sqrt(self, node: Node, x: Piece) -> Piece:
        return Piece(rf"\sqrt{{{x.text}}}")

    def _print_scatter(self, node: Node, g: Piece) -> Piece:
        index = rf"\left[{index_source(node.attrs['index'])}\right]"
        return self.call("scatter", [g.text, self.attr(node.shape), index])

    def _print_one_hot(self, node: Node, labels: Piece) -> Piece:
        return self.call("one_hot", [labels.text, self.attr(node.attrs["k"])])


def latex(nodes) -> str:
    """LaTeX for a node (or nodes); shared subexpressions become aligned ``t_{k}`` lines."""
    return LatexPrinter().doprint(nodes)


PRINTERS["latex"] = latex
