"""Whole Jacobians by forward accumulation: the structural route behind
``jacobian`` and ``hessian``.

For ``y`` depending on ``x`` the sweep carries, for every node ``n`` between
them, the node ``J[n] = dn/dx`` of shape ``n.shape + x.shape`` (the tangent of
forward mode with *every* direction at once, i.e. seeded with the identity).
Each op contributes one rule that is a handful of tensor nodes, so the result
costs a fixed number of ops whatever the sizes, instead of one reverse pass
per output entry. Because the seed is the identity, ``A @ I`` is written ``A``
directly, which yields the closed forms: ``hessian(x @ M @ x)`` is ``M.T + M``,
``hessian(logsumexp(x))`` is ``diag(p) - outer(p, p)``.

Each op's rule is its record's ``jacobian`` field (elementwise ops share
:func:`_elementwise`; the decompositions share ``ops.batched.jvp_jacobian``, their JVP
applied to a stack of tangents). Ops without one, or a rule returning None for its
operands, make the sweep return ``None`` and ``autodiff.jacobian`` falls back to one
reverse pass per entry.
"""
from __future__ import annotations

import math

from ..ops import reductions, structure
from ..ir.graph import Node
from ..ir.leaves import constant
from ..ops import add_all, broadcast_to, is_constant, zeros
from ..ir.shapes import is_concrete

ONE = constant(1.0)


class Sweep:
    """State of one sweep: the point ``x``, its identity seed, the Jacobians so far."""

    def __init__(self, x: Node):
        self.x = x
        self.k = x.ndim
        self.seed = identity(x)
        self.J = {x: self.seed}

    def trailing(self, node: Node) -> Node:
        """``node`` with ``x.ndim`` trailing unit axes, to scale a Jacobian entrywise."""
        return reshape(node, node.shape + (1,) * self.k) if self.k and node.ndim else node

    def lift(self, j: Node, shape) -> Node:
        """An operand's Jacobian broadcast to ``shape + x.shape`` (NumPy alignment
        of the operand's own axes, which lead the Jacobian's)."""
        lead = len(shape) - (j.ndim - self.k)
        j = reshape(j, (1,) * lead + j.shape) if lead else j
        return broadcast_to(j, tuple(shape) + self.x.shape)

    def left(self, a: Node, j: Node) -> Node:
        """``a @ J``, contracting ``a``'s last axis with ``J``'s first: a matmul
        when ``J`` is (or flattens to) a matrix, a broadcast product summed
        over the shared axis when several named dims prevent flattening."""
        if j is self.seed and self.k == 1:
            return a
        rest = j.shape[1:]
        if len(rest) == 1:
            return a @ j
        if is_concrete(rest):
            flat = a @ reshape(j, (j.shape[0], math.prod(rest)))
            return reshape(flat, a.shape[:-1] + rest)
        spread = reshape(a, a.shape + (1,) * len(rest))
        return reductions.sum_(spread * reshape(j, (1,) * (a.ndim - 1) + j.shape), axis=a.ndim - 1)


def identity(x: Node) -> Node:
    """dx/dx of shape ``x.shape + x.shape``: ``eye`` for vectors; for higher rank
    the product of one ``eye`` per axis, each reshaped onto its two axes, which
    stays valid for named dimensions."""
    if x.ndim == 0:
        return ONE
    k, result = x.ndim, None
    for axis, dim in enumerate(x.shape):
        eye = structure.eye(n=dim)
        if k > 1:
            shape = [1] * (2 * k)
            shape[axis] = shape[k + axis] = dim
            eye = reshape(eye, shape)
        result = eye if result is None else result * eye
    return result


def reshape(node: Node, shape) -> Node:
    return structure.reshape(node, shape=tuple(shape))


def forward_jacobian(order, relevant: set, x: Node, y: Node):
    """``dy/dx`` (shape ``y.shape + x.shape``), or None when an op on the way has no rule."""
    sweep = Sweep(x)
    for node in order:
        if node not in relevant or node is x or not node.op.differentiable:
            continue
        js = [sweep.J.get(o) if o.dtype == "float64" else None for o in node.operands]
        if all(j is None for j in js):
            continue
        rule = _elementwise if node.op.elementwise else node.op.jacobian
        j = None if rule is None else rule(sweep, node, js)
        if j is None:  # no rule, or the rule declines these operands: the fallback
            return None
        sweep.J[node] = j
    return sweep.J.get(y, zeros(y.shape + x.shape))


# Rules: rule(sweep, node, operand_jacobians) -> J[node] ------------------------

def _elementwise(sweep, node, js):
    """Diagonal local Jacobians: J = sum_i (d node / d u_i) * J[u_i], broadcast."""
    partials = node.op.vjp(ONE, node, *node.operands, **node.attrs)
    terms = []
    for operand, j, partial in zip(node.operands, js, partials):
        if j is None or partial is None:
            continue
        if j is sweep.seed and is_constant(partial, 1.0) and operand.shape == node.shape:
            terms.append(j)
        elif j is sweep.seed and sweep.k == 1 and operand.shape == node.shape:
            terms.append(structure.diag(broadcast_to(partial, node.shape)))
        else:
            terms.append(sweep.trailing(partial) * sweep.lift(j, node.shape))
    return broadcast_to(add_all(terms), node.shape + sweep.x.shape)
