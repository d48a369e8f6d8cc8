"""Symbol-to-symbol differentiation: reverse mode (grad), forward mode (jvp) and
their compositions (hvp, jacobian, hessian).

Both sweeps walk the topologically ordered graph once and call each op's rule,
which *builds nodes*; the derivative is therefore an ordinary graph that can be
printed, simplified, compiled and differentiated again.
"""
from __future__ import annotations

import itertools
import weakref

from .graph import Node, as_node_list, constant, describe, inputs_of, toposort
from .ops import add_all, zeros
from .ops.structure import stack_rows, unbroadcast
from .shapes import format_shape, is_concrete

#: Nodes built by ``grad``/``jvp`` (drawn differently by ``to_dot``).
DERIVATIVE_NODES: "weakref.WeakSet" = weakref.WeakSet()


def _check_differentiable(nodes, what: str):
    for node in nodes:
        if node.dtype != "float64":
            raise TypeError(f"cannot differentiate with respect to {describe(node)}: "
                            f"its dtype is {node.dtype}, not float64")


def _depending_on(order, sources) -> set:
    """Nodes of ``order`` that depend on (or are) one of ``sources``."""
    found = set(sources)
    for node in order:
        if node not in found and any(o in found for o in node.operands):
            found.add(node)
    return found


def _mark(before: set, results) -> None:
    for node in toposort([r for r in results if r is not None]):
        if node not in before:
            DERIVATIVE_NODES.add(node)


def grad(cost, wrt):
    """Gradient node(s) of the scalar ``cost`` with respect to ``wrt``.

    ``wrt`` is a node or a list/tuple of nodes (inputs or intermediate nodes);
    each result has the shape of its ``wrt``. Contributions from several paths
    are summed; a ``wrt`` that ``cost`` does not depend on gets zeros.
    """
    if not isinstance(cost, Node):
        raise TypeError(f"cost must be a symgrad node, got {type(cost).__name__}")
    if cost.shape != ():
        raise ValueError(f"grad needs a scalar cost, but {describe(cost)} has shape "
                         f"{format_shape(cost.shape)}; reduce it (sg.sum) or use sg.jacobian")
    _check_differentiable([cost], "cost")
    wrts, single = as_node_list(wrt, "wrt")
    _check_differentiable(wrts, "wrt")
    inputs_of([cost] + wrts)
    order = toposort([cost])
    before = set(order)
    relevant = _depending_on(order, wrts)
    adjoints = _reverse_sweep(order, relevant, {cost: [constant(1.0)]})
    results = [adjoints.get(w) if w in relevant else None for w in wrts]
    results = [r if r is not None else zeros(w.shape) for r, w in zip(results, wrts)]
    _mark(before, results)
    return results[0] if single else results


def _reverse_sweep(order, relevant, contributions) -> dict:
    """Adjoint of every relevant node, consumers before producers."""
    adjoints = {}
    for node in reversed(order):
        parts = contributions.pop(node, None)
        if not parts or node not in relevant:
            continue
        g = adjoints[node] = add_all(parts)
        if not node.operands or not node.op.differentiable:
            continue
        rules = node.op.vjp(g, node, *node.operands, **node.attrs)
        for operand, rule in zip(node.operands, rules):
            if rule is None or operand not in relevant or operand.dtype != "float64":
                continue
            if node.op.elementwise:
                rule = unbroadcast(rule, operand.shape)
            contributions.setdefault(operand, []).append(rule)
    return adjoints


def jvp(y, x, v):
    """Forward-mode directional derivative of ``y`` along ``v`` at ``x``.

    ``x`` and ``v`` are a node each or matching lists; ``y`` a node or a list.
    Returns node(s) shaped like ``y``.
    """
    ys, single = as_node_list(y, "y")
    xs, x_single = as_node_list(x, "x")
    vs, _ = as_node_list(v, "v") if not x_single else ([_as_tangent(v, xs[0])], True)
    if len(vs) != len(xs):
        raise ValueError(f"jvp got {len(xs)} points but {len(vs)} directions")
    vs = [_as_tangent(t, point) for t, point in zip(vs, xs)]
    _check_differentiable(xs, "x")
    inputs_of(ys + xs + vs)
    order = toposort(ys)
    before = set(order)
    tangents = _forward_sweep(order, dict(zip(xs, vs)))
    results = [tangents.get(node) for node in ys]
    results = [t if t is not None else zeros(node.shape) for t, node in zip(results, ys)]
    _mark(before, results)
    return results[0] if single else results


def _as_tangent(v, point: Node) -> Node:
    from .graph import as_node
    v = as_node(v)
    if v.shape != point.shape:
        raise ValueError(f"direction {describe(v)} must have the shape of {describe(point)}")
    return v


def _forward_sweep(order, seeds: dict) -> dict:
    tangents = dict(seeds)
    for node in order:
        if node in seeds or not node.operands or not node.op.differentiable:
            continue
        ins = [tangents.get(o) if o.dtype == "float64" else None for o in node.operands]
        if all(t is None for t in ins):
            continue
        out = node.op.jvp(ins, node, *node.operands, **node.attrs)
        if out is not None:
            tangents[node] = out
    return tangents


def hvp(cost, wrt, v):
    """Hessian-vector product(s), forward-over-reverse: the JVP of the gradient.

    Never builds the Hessian: the result costs a small constant times one
    gradient evaluation.
    """
    wrts, single = as_node_list(wrt, "wrt")
    vs = [v] if single else list(v)
    if len(vs) != len(wrts):
        raise ValueError(f"hvp got {len(wrts)} wrt nodes but {len(vs)} vectors")
    grads = grad(cost, wrts)
    result = jvp(grads, wrts, [_as_tangent(t, w) for t, w in zip(vs, wrts)])
    return result[0] if single else result


def jacobian(y, x):
    """Node of shape ``y.shape + x.shape``: one reverse pass per entry of ``y``."""
    if not isinstance(y, Node) or not isinstance(x, Node):
        raise TypeError("jacobian(y, x) takes two symgrad nodes")
    if y.shape == ():
        return grad(y, x)
    if not is_concrete(y.shape):
        raise ValueError(f"jacobian needs a concrete output shape; {describe(y)} has named "
                         f"dimensions (declare them as ints)")
    rows = [grad(y[index], x) for index in itertools.product(*map(range, y.shape))]
    if not rows:
        return zeros(y.shape + x.shape)
    return stack_rows(rows, y.shape + x.shape)


def hessian(cost, x):
    """Node of shape ``x.shape + x.shape``: the Jacobian of the gradient."""
    if isinstance(cost, Node) and cost.shape != ():
        raise ValueError(f"hessian needs a scalar cost, but {describe(cost)} has shape "
                         f"{format_shape(cost.shape)}")
    g = grad(cost, x)
    if not is_concrete(x.shape):
        raise ValueError(f"hessian needs a concrete shape for {describe(x)}")
    return jacobian(g, x)

