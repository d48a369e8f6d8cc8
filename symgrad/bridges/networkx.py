"""The graph as a networkx.DiGraph, for analysis and drawing (Graphviz DOT).

``to_dot`` writes DOT text from the networkx graph: forward nodes are white
ellipses, inputs grey boxes, constants plain text, and nodes built by
``grad``/``jvp`` orange (``autodiff.sweeps.derivative_nodes``: a property of
the graphs they return, so a drawing does not depend on history); every label shows the
shape. Rendering to SVG/PNG shells out to Graphviz's ``dot`` when installed.
"""
from __future__ import annotations

import shutil
import subprocess

from ..ops import structure
from ..ir.graph import as_node_list, op_count, toposort  # noqa: F401  (op_count re-exported)
from ..ir.shapes import format_shape


def to_networkx(nodes):
    """One graph node per expression node (keyed by the node itself), edges from
    operand to result (a ``networkx.DiGraph``); attributes ``op`` (str), ``shape``,
    ``dtype`` and ``label``.
    networkx is imported here, on first use: ``import symgrad`` does not load it."""
    import networkx as nx
    nodes, _ = as_node_list(nodes, "nodes")
    from ..autodiff.sweeps import derivative_nodes
    marked = derivative_nodes(nodes)
    graph = nx.DiGraph()
    for node in toposort(nodes):
        label = node.name if node.op is structure.input_ else node.op.name
        graph.add_node(node, op=node.op.name, shape=node.shape, dtype=node.dtype, label=label,
                       derivative=node in marked)
        for operand in node.operands:
            graph.add_edge(operand, node)
    return graph



# DOT ----------------------------------------------------------------------------

STYLES = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#e8e8e8"',
    "constant": 'shape=plaintext',
    "forward": 'shape=ellipse',
    "derivative": 'shape=ellipse, style=filled, fillcolor="#fdd9b5", color="#d9480f"',
}


def dot_escape(text: str) -> str:
    """``text`` as the inside of a DOT double-quoted string: backslashes and
    quotes escaped, line breaks turned into DOT's ``\\n`` (so any input name is safe)."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("\r", "\n").replace("\n", "\\n")


def _label(node, attrs) -> str:
    if attrs["op"] == "constant":
        value = node.value
        head = f"{value.item():.4g}" if value.ndim == 0 else "const"
    else:
        head = attrs["label"]
    return f"{head}\n{format_shape(attrs['shape'])}"


def _kind(attrs) -> str:
    if attrs["op"] in ("input", "constant"):
        return attrs["op"]
    return "derivative" if attrs["derivative"] else "forward"


class DotSource(str):
    """DOT text (a ``str``) that Jupyter displays as SVG when Graphviz is installed."""

    def render(self, format: str = "svg") -> bytes:
        """The graph rendered by Graphviz ``dot`` (``format``: svg, png, pdf, ...)."""
        program = shutil.which("dot")
        if program is None:
            raise RuntimeError("rendering needs the Graphviz 'dot' program, which is not on "
                               "PATH; install Graphviz (e.g. apt install graphviz) or paste "
                               "the DOT text into an online viewer")
        done = subprocess.run([program, f"-T{format}"], input=str(self).encode(),
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"dot -T{format} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def save(self, path: str, format: str | None = None) -> None:
        """Write the rendering to ``path`` (format from the extension; ``.dot`` writes text)."""
        format = format or path.rsplit(".", 1)[-1]
        data = str(self).encode() if format in ("dot", "gv") else self.render(format)
        with open(path, "wb") as handle:
            handle.write(data)

    def _repr_svg_(self):
        return self.render("svg").decode() if shutil.which("dot") else None


def to_dot(nodes, name: str = "symgrad") -> DotSource:
    """Graphviz DOT text of everything ``nodes`` depend on (edges operand -> result).

    Forward, input, constant and derivative nodes get different styles; labels
    show the op (or input name) and the shape. The result is a ``str``; call
    ``.render("svg")``/``.save("graph.svg")``, or just display it in Jupyter.
    """
    graph = to_networkx(nodes)
    ids = {node: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = [f'digraph "{dot_escape(name)}" {{', '  node [fontname="Helvetica"];']
    for node, attrs in graph.nodes(data=True):
        lines.append(f'  {ids[node]} [label="{dot_escape(_label(node, attrs))}", '
                     f'{STYLES[_kind(attrs)]}];')
    for source, target in graph.edges:
        lines.append(f"  {ids[source]} -> {ids[target]};")
    lines.append("}")
    return DotSource("\n".join(lines) + "\n")
