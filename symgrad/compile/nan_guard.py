"""The NaN guard: find the first node whose value is not finite.

``sg.function(..., nan_guard=True)`` compiles code that, after every
statement, calls the guard made here on the value just computed (and on each
float input at entry). The check is one ``np.isfinite(...).all()``; only when
it fails is the message built: the node as printed (``str(node)``), its op
and shape, how many entries are NaN/inf, and the value range of each operand,
so the user sees at once whether the operands were already bad or the op
produced the first non-finite value (log of 0, overflow in exp, 0/0, ...).
"""
from __future__ import annotations

import numpy as np

from ..ops import structure
from ..ir.graph import describe
from ..ir.shapes import format_shape

GUARD_NAME = "_nan_guard"


def _is_finite(value) -> bool:
    array = np.asarray(value)
    return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())


def value_range(value) -> str:
    """``min .., max ..`` of the finite entries, with NaN/inf counts when there are any."""
    array = np.asarray(value)
    if array.size == 0:
        return "empty"
    if array.dtype.kind not in "fc":
        return f"min {array.min()!r}, max {array.max()!r} ({array.dtype})"
    finite = array[np.isfinite(array)]
    parts = [f"min {finite.min():.6g}, max {finite.max():.6g}" if finite.size else "no finite entries"]
    nans, infs = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    if nans or infs:
        parts.append(f"{nans} nan, {infs} inf of {array.size}")
    return "; ".join(parts)


def _printed(node, limit: int = 200) -> str:
    text = str(node).replace("\n", "; ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make_guard(nodes):
    """The ``_nan_guard(value, index, *operand_values)`` function for generated code;
    ``index`` refers to ``nodes``."""
    def guard(value, index, *operands):
        if _is_finite(value):
            return
        node = nodes[index]
        if node.op is structure.input_:
            raise FloatingPointError(f"nan_guard: input {node.name!r} {format_shape(node.shape)} "
                                     f"holds non-finite values ({value_range(value)})")
        lines = [f"nan_guard: the value of node {_printed(node)} is not finite",
                 f"  node: {describe(node)}, value: {value_range(value)}"]
        for k, (operand, operand_value) in enumerate(zip(node.operands, operands)):
            lines.append(f"  operand {k}: {_printed(operand, 80)} {format_shape(operand.shape)}: "
                         f"{value_range(operand_value)}")
        raise FloatingPointError("\n".join(lines))
    return guard
