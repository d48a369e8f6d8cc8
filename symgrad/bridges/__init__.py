"""The SymPy bridge's entry points, importing SymPy only when first called.

``import symgrad`` must stay fast and must not load SymPy (about 0.3 s):
these wrappers import :mod:`symgrad.bridges.sympy_export` on their first call.
"""
from __future__ import annotations


def to_sympy(nodes):
    """SymPy expression(s) for a node or a list of nodes (see :mod:`symgrad.bridges.sympy_export`)."""
    from .sympy_export import to_sympy as convert
    return convert(nodes)


def from_sympy(expr, shapes=None):
    """The graph node for a SymPy expression; ``shapes`` overrides input shapes by name
    (see :mod:`symgrad.bridges.sympy_import`)."""
    from .sympy_import import from_sympy as convert
    return convert(expr, shapes)
