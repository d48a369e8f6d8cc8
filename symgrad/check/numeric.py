"""Finite differences and random inputs: the numeric ground truth for checks."""
from __future__ import annotations

import numpy as np

from ..ops import Spec, draw
from ..ir.shapes import dim_names


def central_difference(fn, values: list, index: int, eps: float = 1e-6,
                       symmetric: bool = False) -> np.ndarray:
    """d fn(*values) / d values[index] by central differences in float64.

    ``fn`` returns a scalar; the result has the shape of ``values[index]``.
    ``symmetric``: the value is a symmetric matrix and stays one, so entry
    (i, j) moves with (j, i), half a step each: the result is the symmetric
    gradient (G + Gᵀ) / 2 of symgrad's convention for declared-symmetric inputs.
    """
    point = np.array(values[index], dtype=np.float64)
    result = np.zeros_like(point)
    args = list(values)
    for entry in np.ndindex(point.shape):
        step = eps * max(1.0, abs(point[entry]))
        up, down = point.copy(), point.copy()
        mirror = entry[::-1]
        if symmetric and mirror != entry:
            up[entry] += step / 2
            up[mirror] += step / 2
            down[entry] -= step / 2
            down[mirror] -= step / 2
        else:
            up[entry] += step
            down[entry] -= step
        args[index] = up
        f_up = float(fn(*args))
        args[index] = down
        f_down = float(fn(*args))
        result[entry] = (f_up - f_down) / (2 * step)
    return result


def directional_difference(fn, values: list, directions: list, eps: float = 1e-6):
    """d/dt fn(values + t * directions) at t = 0 (directions None: held fixed)."""
    def at(t):
        return [v if d is None else np.asarray(v, dtype=np.float64) + t * d
                for v, d in zip(values, directions)]
    return (np.asarray(fn(*at(eps))) - np.asarray(fn(*at(-eps)))) / (2 * eps)


def random_inputs(inputs, rng: np.random.Generator, sizes: dict, domains: dict | None = None):
    """Values for input nodes, named dims bound by ``sizes``, drawn from their domains."""
    domains = domains or {}
    values = []
    for node in inputs:
        domain = domains.get(node, "bool" if node.dtype == "bool" else
                             "labels:2" if node.dtype == "int64" else "real")
        values.append(draw(Spec(node.shape, domain), rng, sizes))
    return values


def bind_sizes(nodes, base: int = 2) -> dict:
    """Distinct small sizes for every dimension name in ``nodes``' shapes."""
    from ..ir.graph import toposort
    names: dict = {}
    for node in toposort(nodes if isinstance(nodes, (list, tuple)) else [nodes]):
        for d in dim_names(node.shape):
            if d not in names:
                names[d] = base + len(names)
    return names


__all__ = ["central_difference", "directional_difference", "random_inputs", "bind_sizes"]
