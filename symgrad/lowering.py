"""Compile-time lowering of symmetric positive (semi)definite linear algebra.

After differentiation a graph often holds ``logdet(M)`` together with
``solve(M, B)`` or ``inv(M)`` for one matrix ``M`` (the gradient of a
log-determinant is ``M⁻¹``-shaped). When the graph proves ``M`` symmetric PSD
(``A @ A.T``, ``X.T @ X + λI``, ...: :func:`symgrad.properties.is_psd`), all
of them are rewritten to use one Cholesky factorization, ``spd_factor(M)``,
an interned node shared by every consumer: the log-determinant becomes
``2 Σ log diag L``, the solve a Cholesky solve and the inverse LAPACK's
``potri`` (SciPy's LAPACK when installed, else NumPy's LU). A matrix that is
PSD but numerically singular has no factor; its consumers fall back to
``slogdet`` and LU at run time, so values never change meaning.
"""
from __future__ import annotations

from .graph import REGISTRY, replace, toposort
from .properties import is_psd

LOWERED = {"logdet": "spd_logdet", "solve": "spd_solve", "inv": "spd_inv"}


def lower_spd(outputs: list, order: list) -> tuple:
    """(``outputs`` with PSD ``logdet``/``solve``/``inv`` on a shared Cholesky factor,
    their toposort); ``order`` is returned unchanged when nothing applies."""
    mapping = {}
    for node in order:
        lowered = LOWERED.get(node.op.name)
        if lowered is not None and is_psd(node.operands[0]):
            matrix = node.operands[0]
            factor = REGISTRY["spd_factor"](matrix)
            mapping[node] = REGISTRY[lowered](factor, *node.operands)
    if not mapping:
        return outputs, order
    outputs = replace(outputs, mapping)
    return outputs, toposort(outputs)
