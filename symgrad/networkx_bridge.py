"""The graph as a networkx.DiGraph, for analysis and drawing."""
from __future__ import annotations

import networkx as nx

from .graph import as_node_list, toposort


def to_networkx(nodes) -> nx.DiGraph:
    """One graph node per expression node (keyed by the node itself), edges from
    operand to result; attributes ``op`` (str), ``shape``, ``dtype`` and ``label``."""
    nodes, _ = as_node_list(nodes, "nodes")
    from .autodiff import DERIVATIVE_NODES
    graph = nx.DiGraph()
    for node in toposort(nodes):
        label = node.name if node.op.name == "input" else node.op.name
        graph.add_node(node, op=node.op.name, shape=node.shape, dtype=node.dtype, label=label,
                       derivative=node in DERIVATIVE_NODES)
        for operand in node.operands:
            graph.add_edge(operand, node)
    return graph


def op_count(nodes) -> int:
    """Number of operation nodes (inputs and constants excluded)."""
    nodes, _ = as_node_list(nodes, "nodes")
    return sum(1 for n in toposort(nodes) if n.op.name not in ("input", "constant"))
