"""Backpropagation at concrete values, explained: ``sg.explain``.

Given a scalar ``cost``, a node ``wrt`` and values for the inputs, the report
holds the forward value of every node, the adjoint ``d cost / d node`` of
every node (from symgrad's own reverse sweep), the local Jacobian of every
edge between ``wrt`` and ``cost``, and the gradient of ``wrt``.

**Paths from one entry.** symgrad graphs are tensor-level (``W2 @ h1`` is one
node), while the lecture's paths run between scalars. So paths are defined on
the *entry-level* graph of this evaluation: its vertices are pairs
(node, entry), and there is an edge from ``u[j]`` to ``n[i]`` when ``u`` is an
operand of ``n`` and the local derivative ``d n[i] / d u[j]`` -- an entry of
the op's Jacobian, evaluated numerically at the given values through the op's
own VJP rule -- is nonzero. (An edge whose local derivative is exactly zero
here, structurally as for ``W2[0, 1] -> a2[1]`` or by accident as for an
inactive ReLU, carries no gradient and is left out.) A path's product is the
product of the local derivatives along it; by the chain rule the sum over all
paths from ``wrt[index]`` to the cost is ``gradient[index]``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..ops import structure
from ..autodiff.sweeps import _depending_on, grad, send_adjoints
from ..compile.emit import function
from ..ir.graph import Node, describe, inputs_of, toposort
from ..ir.leaves import tensor
from ..ir.shapes import format_shape

MAX_PATHS = 10000


@dataclass(frozen=True)
class Entry:
    """One scalar of the evaluation: ``node[index]`` with its printable ``label``."""

    node: Node
    index: tuple
    label: str

    def __str__(self):
        return self.label


@dataclass(frozen=True)
class Path:
    """A path from the chosen entry of ``wrt`` to the cost: ``factors[i]`` is
    ``d nodes[i + 1] / d nodes[i]``, and ``product`` their product."""

    nodes: tuple
    factors: tuple

    @property
    def product(self) -> float:
        return float(np.prod(self.factors))

    def __str__(self):
        chain = " -> ".join(map(str, self.nodes))
        factors = " * ".join(f"({f:.4g})" for f in self.factors)
        return f"{chain}\n    {factors} = {self.product:.6g}"


class NodeValues(dict):
    """{node: array}, also looked up by an input's name or a display name."""

    def __init__(self, values: dict, names: dict):
        super().__init__(values)
        self._by_name = {name: node for node, name in names.items() if node in values}

    def __missing__(self, key):
        if isinstance(key, str) and key in self._by_name:
            return self[self._by_name[key]]
        raise KeyError(key)


class Explanation:
    """What ``explain`` found; ``str()`` is the worked-example table.

    The local Jacobians (``.local``) are computed on first use: ``.paths``
    needs them, the forward values, adjoints and gradient do not.
    """

    def __init__(self, cost, wrt, index, names, forward, adjoints, edges):
        self.cost, self.wrt, self.index, self.names = cost, wrt, index, names
        self.forward, self.adjoints = NodeValues(forward, names), NodeValues(adjoints, names)
        self.gradient = self.adjoints[wrt]
        self.value = float(forward[cost])
        self._edges = edges
        self.paths = None if index is None else _paths(self)

    @functools.cached_property
    def local(self) -> dict:
        """{(operand, node): d node / d operand} on every edge between wrt and the cost."""
        return _local_jacobians(*self._edges)

    @property
    def total(self):
        """Sum of the path products (None without an ``index``)."""
        return None if self.paths is None else float(sum(p.product for p in self.paths))

    def entry(self, node: Node, index) -> Entry:
        index = tuple(int(i) for i in index)
        suffix = f"[{', '.join(map(str, index))}]" if index else ""
        return Entry(node, index, self.names[node] + suffix)

    def __str__(self):
        return format_report(self)

    def __repr__(self):
        """A notebook shows the table too, not ``<Explanation at 0x...>``."""
        return format_report(self)


def explain(cost, wrt, at, index=None, names=None) -> Explanation:
    """Backprop of ``cost`` with respect to ``wrt`` at the values ``at``.

    ``at`` maps input nodes (or their names) to arrays; ``index`` picks one
    entry of ``wrt`` (e.g. ``(1, 2)`` for ``W[1, 2]``) whose paths to the cost
    are listed. ``names`` optionally maps intermediate nodes to display names
    (inputs show their own names). See the module docstring for what a path is.
    """
    if not isinstance(cost, Node) or cost.shape != ():
        raise ValueError(f"explain needs a scalar cost node, got {describe(cost)}")
    if not isinstance(wrt, Node) or wrt.dtype != "float64":
        raise TypeError(f"wrt must be a float64 symgrad node, got {describe(wrt)}")
    order = toposort([cost])
    if wrt not in set(order):
        raise ValueError(f"the cost does not depend on {describe(wrt)}")
    inputs = inputs_of([cost])
    values = _bind(inputs, at)
    forward = _forward(order, inputs, values)
    index = None if index is None else _check_index(wrt, forward[wrt], index)
    downstream = _depending_on(order, [wrt])
    relevant = [n for n in order if n in downstream]
    adjoints = _adjoints(cost, order, inputs, values)
    display = _display_names(order, names or {})
    edges = (relevant, inputs, values, forward)
    return Explanation(cost, wrt, index, display, forward, adjoints, edges)


def _bind(inputs, at) -> dict:
    """{input name: array} from a mapping keyed by nodes or names; complete."""
    by_name = {node.name: node for node in inputs}
    values = {}
    for key, value in dict(at).items():
        name = key.name if isinstance(key, Node) else key
        if name not in by_name:
            raise ValueError(f"explain got a value for {name!r}, which is not an input of the cost "
                             f"(inputs: {sorted(by_name)})")
        values[name] = value
    missing = sorted(set(by_name) - set(values))
    if missing:
        raise ValueError(f"explain needs values for the inputs {missing}")
    return values


def _forward(order, inputs, values) -> dict:
    computed = [n for n in order if n.op.leaf is None]  # inputs and constants are leaves
    results = function(inputs, computed)(**values) if computed else ()
    found = dict(zip(computed, results))
    found.update({n: n.value for n in order if n.op is structure.constant})
    found.update({n: np.asarray(values[n.name], dtype=n.dtype) for n in inputs})
    return {n: np.asarray(found[n]) for n in order}


def _check_index(wrt, value: np.ndarray, index) -> tuple:
    index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
    if len(index) != value.ndim or not all(-d <= i < d for i, d in zip(index, value.shape)):
        raise IndexError(f"index {index} does not pick one entry of {describe(wrt)} "
                         f"(value shape {value.shape})")
    return tuple(int(i) % d for i, d in zip(index, value.shape))


def _adjoints(cost, order, inputs, values) -> dict:
    """d cost / d node for every float node, by one compiled reverse sweep."""
    nodes = [n for n in order if n.dtype == "float64" and n.op is not structure.constant]
    results = function(inputs, grad(cost, nodes))(**values)
    return {n: np.asarray(r) for n, r in zip(nodes, results)}


def _local_jacobians(relevant, inputs, values, forward) -> dict:
    """{(operand, node): d node / d operand} (shape node.shape + operand.shape) on
    every edge between ``wrt`` and the cost, from the op's VJP rule row by row."""
    inside, local = set(relevant), {}
    taken = {node.name for node in inputs}
    for node in relevant:
        if not node.op.differentiable or not node.operands:
            continue
        name = _fresh("cotangent", taken)
        g = tensor(name, node.shape)
        rows: dict = {}
        send_adjoints(node, g, rows, inside)  # the reverse sweep's own step
        operands = list(rows)
        if not operands:
            continue
        fn = function(inputs + [g], [rows[o] for o in operands])
        shape = forward[node].shape
        jac = {o: np.zeros(shape + forward[o].shape) for o in operands}
        for entry in np.ndindex(shape):
            seed = np.zeros(shape)
            seed[entry] = 1.0
            for o, row in zip(operands, fn(**values, **{name: seed})):
                jac[o][entry] = row
        local.update({(o, node): jac[o] for o in operands})
    return local


def _fresh(base: str, taken: set) -> str:
    name, k = base, 0
    while name in taken:
        k += 1
        name = f"{base}{k}"
    return name


def _display_names(order, names: dict) -> dict:
    """Inputs by name, ``names``' choices, and ``op#k`` for the rest."""
    display, counts = {}, {}
    for node in order:
        if node in names:
            display[node] = str(names[node])
        elif node.op is structure.input_:
            display[node] = node.name
        else:
            counts[node.op.name] = counts.get(node.op.name, 0) + 1
            display[node] = f"{node.op.name}#{counts[node.op.name]}"
    return display


def _paths(report) -> list:
    """Every entry-level path from ``wrt[index]`` to the cost (depth first)."""
    consumers = {}
    for (operand, node) in report.local:
        consumers.setdefault(operand, []).append(node)
    found = []
    stack = [((report.entry(report.wrt, report.index),), ())]
    while stack:
        nodes, factors = stack.pop()
        last = nodes[-1]
        if last.node is report.cost:
            found.append(Path(nodes, factors))
            if len(found) > MAX_PATHS:
                raise ValueError(f"more than {MAX_PATHS} paths: explain a smaller graph")
            continue
        for node in reversed(consumers.get(last.node, [])):
            column = report.local[(last.node, node)][(Ellipsis,) + last.index]
            for out in reversed([i for i in np.ndindex(column.shape) if column[i] != 0]):
                stack.append((nodes + (report.entry(node, out),),
                              factors + (float(column[out]),)))
    return found



# The table ----------------------------------------------------------------------

def _array(value) -> str:
    text = np.array2string(np.asarray(value), precision=4, suppress_small=True,
                           max_line_width=1000, threshold=24)
    return " ".join(text.split())


def format_report(report) -> str:
    """Forward value and adjoint per node, then the paths of the chosen entry."""
    wrt = report.names[report.wrt]
    lines = [f"explain: d {report.names[report.cost]} / d {wrt}    "
             f"(cost = {report.value:.6g})", ""]
    for node, value in report.forward.items():
        if node in report.adjoints:
            head = f"{report.names[node]:<12} {node.op.name:<10} {format_shape(node.shape):<8}"
            lines.append(f"{head} value   {_array(value)}")
            lines.append(f"{'':<{len(head)}} adjoint {_array(report.adjoints[node])}")
    lines += ["", f"gradient d cost / d {wrt} = {_array(report.gradient)}"]
    if report.paths is not None:
        target = report.entry(report.wrt, report.index)
        lines += ["", f"{len(report.paths)} path(s) from {target} to the cost "
                      "(local derivatives along each, and their product):"]
        lines += [f"  {k}: {path}" for k, path in enumerate(report.paths, start=1)]
        lines.append(f"sum over paths = {report.total:.6g} = gradient{list(report.index)} "
                     f"= {float(report.gradient[report.index]):.6g}")
    return "\n".join(lines)
