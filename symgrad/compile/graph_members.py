"""Membership and read counts of a compiled graph, shared by the compile-time passes.

A pass asks whether a node is already computed (``node in members``: reuse it
instead of building another) or how many readers it has (``uses``: a rewrite
that consumes a node read only once frees its buffer; one read elsewhere too
would compute it twice).
"""
from __future__ import annotations


class GraphMembers:
    """``node in members`` for the nodes of ``order``, the set built on first use;
    ``uses(node)``: how many operand slots (and outputs) of the graph read it."""

    def __init__(self, order, outputs=()):
        self.order, self.outputs, self.nodes, self.readers = order, outputs, None, None

    def __contains__(self, node) -> bool:
        if self.nodes is None:
            self.nodes = set(self.order)
        return node in self.nodes

    def uses(self, node) -> int:
        if self.readers is None:
            self.readers = {}
            for reader in list(self.order) + [None]:
                for operand in (reader.operands if reader is not None else self.outputs):
                    self.readers[operand] = self.readers.get(operand, 0) + 1
        return self.readers.get(node, 0)
