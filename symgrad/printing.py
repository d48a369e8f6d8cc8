"""Readable math for graphs: Unicode infix (``str``/``pretty``) and LaTeX.

The printers walk the graph once in topological order. A subexpression used
more than once (or too long to nest) is printed once, bound to a name, and
referred to by that name afterwards, so output stays linear in graph size.
"""
from __future__ import annotations

import numpy as np

from .graph import Node, as_node_list, toposort
from .shapes import format_shape

ATOM = 1000
LONG = 100


def _number(array: np.ndarray) -> str:
    if array.ndim == 0:
        value = array.item()
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}" if isinstance(value, float) else str(value)
    return f"const{format_shape(array.shape)}"


class Style:
    """Unicode infix notation; subclass for LaTeX."""

    ops = {"add": " + ", "subtract": " - ", "multiply": " * ", "divide": " / ",
           "power": "**", "matmul": " @ ", "greater": " > ", "greater_equal": " ≥ ",
           "less": " < ", "less_equal": " ≤ ", "equal": " = "}
    names = {"sigmoid": "σ", "logdet": "logdet", "negative": "-"}

    def leaf(self, node: Node) -> str:
        name = node.op.name
        if name == "input":
            return node.name
        if name == "constant":
            return _number(node.value)
        if name == "zeros":
            return "0"
        if name == "eye":
            return "I"
        return "·".join(str(d) for d in node.attrs["dims"])

    def multiply_symbol(self, a: Node, b: Node) -> str:
        return " ⊙ " if a.ndim and b.ndim else " * "

    def infix(self, node: Node, parts) -> str:
        symbol = self.ops[node.op.name]
        if node.op.name == "multiply":
            symbol = self.multiply_symbol(*node.operands)
        return symbol.join(parts)

    def postfix(self, name: str, text: str) -> str | None:
        return {"transpose": text + "ᵀ", "inv": text + "⁻¹"}.get(name)

    def call(self, node: Node, args) -> str:
        name = self.names.get(node.op.name, node.op.name)
        attrs = [f"{k}={v!r}" for k, v in node.attrs.items() if k not in ("axes",)]
        if node.op.name == "getitem":
            from .ops.structure import index_source
            return f"{args[0]}[{index_source(node.attrs['index'])}]"
        if node.op.name == "negative":
            return f"-{args[0]}"
        return f"{name}({', '.join(list(args) + attrs)})"

    def binding(self, name: str, text: str) -> str:
        return f"{name} = {text}"


PRECEDENCE = {"add": 10, "subtract": 10, "multiply": 20, "divide": 20, "matmul": 20,
              "negative": 30, "power": 40, "greater": 5, "greater_equal": 5, "less": 5,
              "less_equal": 5, "equal": 5}


def _render(node: Node, text: dict, style: Style):
    """(string, precedence) of one node given its operands' strings."""
    name = node.op.name
    if not node.operands:
        return style.leaf(node), ATOM
    args = [text[o] for o in node.operands]
    if name in PRECEDENCE and name in style.ops:
        prec = PRECEDENCE[name]
        parts = []
        for i, (s, p) in enumerate(args):
            right_assoc = name == "power"
            needs = p < prec or (p == prec and (i == 1) != right_assoc and name != "add"
                                 and not (name == "multiply" and i == 1 and p == prec
                                          and node.operands[1].op.name == "multiply"))
            parts.append(f"({s})" if needs else s)
        return style.infix(node, parts), prec
    if name == "negative":
        s, p = args[0]
        return "-" + (f"({s})" if p <= PRECEDENCE["negative"] else s), PRECEDENCE["negative"]
    s, p = args[0]
    post = style.postfix(name, f"({s})" if p < ATOM else s)
    if post is not None:
        return post, ATOM
    return style.call(node, [a[0] for a in args]), ATOM


def render(nodes, style: Style) -> str:
    nodes, _ = as_node_list(nodes, "nodes")
    order = toposort(nodes)
    uses: dict = {}
    for node in order:
        for operand in node.operands:
            uses[operand] = uses.get(operand, 0) + 1
    text, lines = {}, []
    for node in order:
        s, p = _render(node, text, style)
        shared = node.operands and (uses.get(node, 0) > 1 or len(s) > LONG) and node not in nodes
        if shared:
            name = f"t{len(lines) + 1}"
            lines.append(style.binding(name, s))
            s, p = name, ATOM
        text[node] = (s, p)
    result = ", ".join(text[n][0] for n in nodes)
    return "\n".join(lines + [f"⇒ {result}"]) if lines else result


def pretty(nodes) -> str:
    """Readable Unicode math; shared subexpressions are bound once as ``t1 = ...``."""
    return render(nodes, Style())


class LatexStyle(Style):
    ops = dict(Style.ops, multiply=" ", matmul=" ", power="^", greater_equal=r" \geq ",
               less_equal=r" \leq ")

    def leaf(self, node: Node) -> str:
        if node.op.name == "input":
            return _latex_name(node.name)
        return super().leaf(node).replace("·", r" \cdot ")

    def multiply_symbol(self, a: Node, b: Node) -> str:
        return r" \odot " if a.ndim and b.ndim else r" \cdot "

    def infix(self, node: Node, parts) -> str:
        if node.op.name == "divide":
            return rf"\frac{{{_strip(parts[0])}}}{{{_strip(parts[1])}}}"
        if node.op.name == "power":
            return f"{parts[0]}^{{{_strip(parts[1])}}}"
        return super().infix(node, parts)

    def postfix(self, name: str, text: str) -> str | None:
        return {"transpose": text + "^{T}", "inv": text + "^{-1}"}.get(name)

    def call(self, node: Node, args) -> str:
        template = node.op.latex
        if template is not None and len(args) == 1:
            return template.format(*args)
        return r"\operatorname{" + node.op.name.replace("_", r"\_") + "}" + \
            r"\left(" + ", ".join(args) + r"\right)"

    def binding(self, name: str, text: str) -> str:
        return f"{name} = {text}"


def _strip(s: str) -> str:
    return s[1:-1] if s.startswith("(") and s.endswith(")") else s


def _latex_name(name: str) -> str:
    safe = "".join(c if c.isalnum() else "\\_" if c == "_" else "" for c in name) or "x"
    return safe if len(safe) == 1 else rf"\mathrm{{{safe}}}"


def latex(nodes) -> str:
    """LaTeX for a node (or nodes); shared subexpressions become ``t_k`` lines."""
    return render(nodes, LatexStyle()).replace("\n", r" \\ ")
