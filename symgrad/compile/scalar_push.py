"""A scalar factor on the smallest array (a compile-time pass).

For an op L linear in its operand X (``Op.linear_in``: matmul, sums,
transposes, products, ...) and a 0-d c, ``c * L(X, Y) = L(c * X, Y)``
(linearity: L(cX, Y) = c L(X, Y)). The algebraic phase pulls scalars *out*
(one canonical form to match), so the gradient of a mean, ``-1/b``, multiplies
each product of the softmax residual R: ``c (sᵀ R)``, ``c (R Wᵀ)``, ``c Σᵢ Rᵢ``
(three passes, over (n, 10), (b, n) and (10,) arrays). Pushed in, the three
read one ``c R`` (one pass over (b, 10)). A product moves its scalar when the
operand is never larger than the product at any sizes
(``ir.shapes.never_larger``) and either strictly smaller somewhere or shared
with another product of the same scalar; the others join such a shared
``c X`` (free). So no call multiplies more entries than before. Rounding
differs by an ulp. Portable (every backend).
"""
from __future__ import annotations

from ..ops import elementwise, structure
from ..rewrite.engine import replace
from ..ir.leaves import constant
from ..ir.shapes import never_larger
from .graph_members import GraphMembers
from .memory_plan import statement_order


def _scaled_linear(node, present) -> tuple | None:
    """(c, Y, [(i, X)]) for ``node = c * Y`` (c 0-d, Y an array read only here, float64)
    with the array operands X of Y at the positions Y's op is linear in (``Op.linear_in``)."""
    if node.op is not elementwise.multiply or node.dtype != "float64" or not node.shape:
        return None
    c, y = node.operands if node.operands[0].ndim == 0 else node.operands[::-1]
    if c.ndim or c.dtype != "float64" or y.dtype != "float64" or present.uses(y) != 1:
        return None
    linear = [(i, y.operands[i]) for i in y.op.linear_in
              if y.operands[i].shape and y.operands[i].dtype == "float64" and y.operands[i] is not c]
    return (c, y, linear) if linear else None


def push_scalars(outputs: list, order: list) -> tuple:
    """Each ``c * L(X, ...)`` whose scalar multiply is cheaper on the operand, as
    ``L(c * X, ...)`` (see the module docstring); ``c * X`` is one node, so every
    product pushed into the same X shares one multiply."""
    present = GraphMembers(order, outputs)
    scaled, mapping = {}, {}
    for node in order:
        found = _scaled_linear(node, present)
        if found is not None:
            scaled[node] = found
        elif _signed_product(node, present):
            mapping[node] = _scaled(*node.operands)
    groups: dict = {}  # (c, X) -> the products c * L(X, ...) that could share c * X
    for node, (c, y, linear) in scaled.items():
        for _, x in linear:
            groups.setdefault((c, x), []).append(node)
    chosen = _chosen_operands(scaled, groups)
    if not chosen and not mapping:
        return outputs, order
    for node, i in chosen.items():
        c, y, _ = scaled[node]
        operands = list(y.operands)
        operands[i] = _scaled(c, operands[i])
        mapping[node] = y.op(*operands, **y.attrs)
    outputs = replace(outputs, mapping)
    return outputs, statement_order(outputs)


def _signed_product(node, present) -> bool:
    """``c * (-Z)``: a 0-d c (first, the canonical order) and a negation read only here."""
    if node.op is not elementwise.multiply or node.dtype != "float64" or not node.shape:
        return False
    c, y = node.operands
    return (c.ndim == 0 and c.dtype == "float64" and y.op is elementwise.negative
            and y.shape == node.shape and present.uses(y) == 1)


def _scaled(c, x):
    """``c * x``, with a negation of ``x`` moved into the 0-d factor: ``c (-z) = (-c) z``
    (one pass over z fewer: the sign of a 0-d value costs nothing)."""
    if x.op is elementwise.negative and x.shape:
        return elementwise.multiply(_negated(c), x.operands[0])
    return elementwise.multiply(c, x)


def _negated(c):
    """``-c`` for a 0-d c; a constant numerator takes the sign: ``-(k / d) = (-k) / d``
    (a mean's ``-(-1 / b)`` reads, and runs, as ``1 / b``)."""
    k = c.operands[0] if c.op is elementwise.divide else None
    if k is not None and k.op is structure.constant and k.dtype == "float64":
        return elementwise.divide(constant(-k.value), c.operands[1])
    return elementwise.negative(c)


def _chosen_operands(scaled: dict, groups: dict) -> dict:
    """{product: the operand position its scalar moves to}. A product moves its scalar
    on its own when the operand is never larger than the product and either strictly
    smaller somewhere or shared with another product of the same scalar (the largest
    such group, then the smallest operand); the others join a group one of those
    formed (their multiply is then free). So no call does more multiplications."""
    chosen, active = {}, set()
    for node, (c, y, linear) in scaled.items():
        own = [(i, x) for i, x in linear if never_larger(x.shape, y.shape)
               and (len(groups[(c, x)]) > 1 or not never_larger(y.shape, x.shape))]
        if own:
            i, x = min(own, key=lambda entry: (-len(groups[(c, entry[1])]), not all(
                never_larger(entry[1].shape, other.shape) for _, other in own)))
            chosen[node] = i
            active.add((c, x))
    for node, (c, y, linear) in scaled.items():
        if node not in chosen:
            joined = [i for i, x in linear if (c, x) in active]
            if joined:
                chosen[node] = joined[0]
    return chosen
